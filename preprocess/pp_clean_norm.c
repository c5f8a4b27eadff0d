/* pp_clean_norm: UTF-8 validation and NFKC + case-fold normalisation.
 *
 * utf8proc flags are those of utf8proc_NFKC_Casefold (STABLE, COMPOSE,
 * COMPAT, CASEFOLD, IGNORE: default-ignorable code points such as the soft
 * hyphen and zero-width joiners vanish), plus a custom map applied before
 * decomposition: apostrophe look-alikes (U+2018 U+2019 U+201B U+2032 U+00B4
 * U+02BC and `) become ' and the hyphens U+2010 U+2011 become -.
 *
 * Fast-path invariant: ASCII is NFKC-invariant, never the second element of
 * a composition and never changed by its neighbours, so normalising each
 * maximal non-ASCII run together with the one ASCII byte before it (the
 * starter a leading combining mark may compose with) gives the same bytes as
 * normalising the whole text; tests check this against whole = 1. */
#include "pp_clean_int.h"
#include "pp_mem.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define NORM_FLAGS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
                    UTF8PROC_IGNORE)

/* Length of the valid UTF-8 sequence at s (s[0] >= 0x80), or 0. */
static size_t seq_len(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0xC2) return 0; /* continuation byte, or C0/C1 overlong */
    if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0xF0) {
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
        return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c > 0xF4) return 0; /* beyond U+10FFFF */
    if (c == 0xF0) lo = 0x90; /* overlong */
    if (c == 0xF4) hi = 0x8F; /* beyond U+10FFFF */
    return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80
               ? 4 : 0;
}

/* End of the ASCII run starting at i. */
static size_t ascii_end(const uint8_t *s, size_t i, size_t n) {
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
    while (i < n && s[i] < 0x80) i++;
    return i;
}

int pp_utf8_is_ascii(const char *s, size_t n) {
    return ascii_end((const uint8_t *)s, 0, n) == n;
}

size_t pp_utf8_check(const char *text, size_t n) {
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;
    while ((i = ascii_end(s, i, n)) < n) {
        size_t l = seq_len(s + i, n - i);
        if (!l) return i;
        i += l;
    }
    return n;
}

static utf8proc_int32_t map_quotes(utf8proc_int32_t c, void *data) {
    (void)data;
    switch (c) {
    case 0x60: case 0xB4: case 0x2BC: case 0x2018: case 0x2019: case 0x201B: case 0x2032:
        return '\'';
    case 0x2010: case 0x2011:
        return '-';
    }
    return c;
}

/* Appends the normalisation of valid UTF-8 s[0..n) at sc->norm + *o and
 * keeps room for `after` more bytes. */
static int norm_append(pp_clean_scratch *sc, const uint8_t *s, size_t n, size_t *o, size_t after) {
    utf8proc_ssize_t r;
    for (;;) {
        r = utf8proc_decompose_custom(s, (utf8proc_ssize_t)n, sc->cp, (utf8proc_ssize_t)sc->cp_cap,
                                      NORM_FLAGS, map_quotes, NULL);
        if (r < 0) return PP_CLEAN_NOMEM;
        if ((size_t)r + 1 <= sc->cp_cap) break;
        if (pp_reserve((void **)&sc->cp, &sc->cp_cap, (size_t)r + 1, sizeof *sc->cp)) return PP_CLEAN_NOMEM;
    }
    utf8proc_ssize_t m = utf8proc_reencode(sc->cp, r, NORM_FLAGS);
    if (m < 0) return PP_CLEAN_NOMEM;
    if (pp_reserve((void **)&sc->norm, &sc->norm_cap, *o + (size_t)m + after, 1)) return PP_CLEAN_NOMEM;
    memcpy(sc->norm + *o, sc->cp, (size_t)m);
    *o += (size_t)m;
    return PP_CLEAN_OK;
}

int pp_normalize(const char *text, size_t len, pp_clean_scratch *sc, int whole,
                 size_t *out_len, size_t *bad) {
    const uint8_t *s = (const uint8_t *)text;
    size_t o = 0;
    if (pp_reserve((void **)&sc->norm, &sc->norm_cap, len + 16, 1)) return PP_CLEAN_NOMEM;
    if (whole) {
        size_t b = pp_utf8_check(text, len);
        if (b < len) {
            *bad = b;
            return PP_CLEAN_BAD_UTF8;
        }
        int rc = norm_append(sc, s, len, &o, 16);
        *out_len = o;
        return rc;
    }
    size_t i = 0;
    while (i < len) {
        size_t j = ascii_end(s, i, len);
        memcpy(sc->norm + o, s + i, j - i);
        o += j - i;
        i = j;
        if (i == len) break;
        size_t start = i;
        if (i > 0) { /* redo the ASCII starter before the run with it */
            start--;
            o--;
        }
        size_t k = i;
        while (k < len && s[k] >= 0x80) {
            size_t l = seq_len(s + k, len - k);
            if (!l) {
                *bad = k;
                return PP_CLEAN_BAD_UTF8;
            }
            k += l;
        }
        int rc = norm_append(sc, s + start, k - start, &o, len - k + 16);
        if (rc) return rc;
        i = k;
    }
    *out_len = o;
    return PP_CLEAN_OK;
}
