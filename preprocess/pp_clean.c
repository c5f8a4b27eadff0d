/* pp_clean: the tokenizer and pp_clean_song (rules in pp_clean.h and
 * docs/preprocess-text.md, "Readers and cleaning").
 *
 * The tokenizer reads normalised UTF-8 (or the raw song when it is pure
 * ASCII: ASCII upper case is folded here with c | 0x20) through a 128-entry
 * class table; only non-ASCII bytes cost a utf8proc_category() call.
 * Invariants: a word is a maximal run of letters/marks/digits where ' and -
 * are kept only between two word characters; a line with a word ends in
 * <nl>, a whitespace-only line turns the pending <nl> into <sep>, a line with
 * content but no word (a [tag], "...") leaves the pending break as it is;
 * breaks are written only before a word, so leading and trailing breaks
 * never appear and runs collapse. */
#include "pp_clean_int.h"
#include "pp_mem.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* S space/control, N '\n', R '\r', W [0-9A-Za-z], J ' ` -, O '[', P other
 * punctuation, H a byte >= 0x80 (decoded and classified by category). */
enum { S, N, R, W, J, O, P, H };
static const uint8_t CLS[256] = {
    S, S, S, S, S, S, S, S, S, S, N, S, S, R, S, S,
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
    S, P, P, P, P, P, P, J, P, P, P, P, P, J, P, P,
    W, W, W, W, W, W, W, W, W, W, P, P, P, P, P, P,
    P, W, W, W, W, W, W, W, W, W, W, W, W, W, W, W,
    W, W, W, W, W, W, W, W, W, W, W, O, P, P, P, P,
    J, W, W, W, W, W, W, W, W, W, W, W, W, W, W, W,
    W, W, W, W, W, W, W, W, W, W, W, P, P, P, P, S,
    [128] = H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
};

/* Non-ASCII kinds. */
enum { U_WORD, U_MARK, U_SPACE, U_PUNCT };

/* Decodes the (valid) sequence at s < end, sets *len, returns its kind. */
static int uclass(const uint8_t *s, const uint8_t *end, size_t *len) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t l = utf8proc_iterate(s, end - s < 4 ? end - s : 4, &cp);
    if (l <= 0) { /* cannot happen on normalised text */
        *len = 1;
        return U_PUNCT;
    }
    *len = (size_t)l;
    int c = utf8proc_category(cp);
    if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) return U_WORD;
    if (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) return U_MARK;
    if (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) return U_WORD;
    if (c >= UTF8PROC_CATEGORY_ZS && c <= UTF8PROC_CATEGORY_CF) return U_SPACE;
    return U_PUNCT;
}

/* Can a word start (or continue after a joiner) at s[0]? */
static int word_start_at(const uint8_t *s, const uint8_t *end) {
    if (s >= end) return 0;
    if (CLS[*s] == W) return 1;
    size_t l;
    return *s >= 0x80 && uclass(s, end, &l) == U_WORD;
}

static int push_off(pp_words *w, size_t off) {
    if (pp_reserve((void **)&w->off, &w->ncap, w->n + 1, sizeof *w->off)) return -1;
    w->off[w->n++] = (uint32_t)off;
    return 0;
}

static int push_break(pp_words *w, const char *tok, size_t len) {
    if (pp_reserve((void **)&w->buf, &w->cap, w->len + len + 1, 1) || push_off(w, w->len)) return -1;
    memcpy(w->buf + w->len, tok, len + 1);
    w->len += len + 1;
    return 0;
}

#define ONES 0x0101010101010101ull
/* Per byte of x (all bytes < 0x80): 0x80 where lo <= byte <= hi. */
static inline uint64_t swar_between(uint64_t x, unsigned lo, unsigned hi) {
    return (x + ONES * (0x80 - lo)) & ~(x + ONES * (0x7F - hi)) & (ONES * 0x80);
}

/* Copies the leading run of ASCII letters/digits of s (lower-cased) to *o,
 * eight bytes at a time: word ends are found with a bit scan rather than a
 * mispredicted branch per byte. Writes up to 7 bytes past the run (the
 * caller reserved them); returns where the run stops or the last < 8 bytes
 * begin. */
static inline const uint8_t *ascii_word_run(const uint8_t *s, const uint8_t *end, char **o) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    char *out = *o;
    while (end - s >= 8) {
        uint64_t x;
        memcpy(&x, s, 8);
        uint64_t xa = x & (ONES * 0x7F);
        uint64_t up = swar_between(xa, 'A', 'Z');
        uint64_t word = (up | swar_between(xa, 'a', 'z') | swar_between(xa, '0', '9')) & ~x;
        uint64_t low = x | (up >> 2); /* 'A'..'Z' + 0x20 */
        memcpy(out, &low, 8);
        uint64_t stop = ~word & (ONES * 0x80);
        if (stop) {
            size_t k = (size_t)__builtin_ctzll(stop) >> 3;
            out += k;
            s += k;
            break;
        }
        out += 8;
        s += 8;
    }
    *o = out;
#else
    (void)end, (void)o;
#endif
    return s;
}

/* Copies the word starting at *pp into w; returns 0 or -1 (no memory). */
static int take_word(const uint8_t **pp, const uint8_t *end, pp_words *w) {
    const uint8_t *s = *pp;
    /* a word is never longer than the rest of the input (+8: ascii_word_run) */
    if (pp_reserve((void **)&w->buf, &w->cap, w->len + (size_t)(end - s) + 9, 1)) return -1;
    if (push_off(w, w->len)) return -1;
    char *out = w->buf + w->len, *o = out;
    while (s < end) {
        s = ascii_word_run(s, end, &o);
        if (s == end) break;
        while (CLS[*s] == W) { /* the tail of the run, byte by byte */
            *o++ = (char)(*s++ | 0x20);
            if (s == end) goto done;
        }
        uint8_t c = *s;
        int k = CLS[c];
        if (k == J) {
            if (!word_start_at(s + 1, end)) break;
            *o++ = c == '-' ? '-' : '\'';
            s++;
        } else if (k == H) {
            size_t l;
            int u = uclass(s, end, &l);
            if (u != U_WORD && u != U_MARK) break;
            memcpy(o, s, l);
            o += l;
            s += l;
        } else {
            break;
        }
    }
done:
    *o++ = 0;
    w->len += (size_t)(o - out);
    w->n_words++;
    *pp = s;
    return 0;
}

enum { BRK_NONE, BRK_NL, BRK_SEP };

/* Tokenizes normalised text s[0..n) into w (reset first). */
static int tokenize(const uint8_t *s, size_t n, pp_words *w) {
    const uint8_t *end = s + n;
    int pending = BRK_NONE, content = 0, words = 0;
    w->len = w->n = w->n_words = 0;
    while (s < end) {
        uint8_t c = *s;
        switch (CLS[c]) {
        case S:
            do s++;
            while (s < end && CLS[*s] == S);
            break;
        case N:
        case R:
            if (words) pending = BRK_NL;
            else if (!content && pending) pending = BRK_SEP;
            content = words = 0;
            s++;
            if (c == '\r' && s < end && *s == '\n') s++;
            break;
        case O: { /* [tag] up to a ']' on the same line, else just punctuation */
            const uint8_t *t = s + 1;
            while (t < end && *t != ']' && *t != '\n' && *t != '\r') t++;
            s = (t < end && *t == ']') ? t + 1 : s + 1;
            content = 1;
            break;
        }
        case J:
        case P:
            content = 1;
            s++;
            break;
        case H: {
            size_t l;
            int u = uclass(s, end, &l);
            if (u != U_WORD) {
                if (u != U_SPACE) content = 1;
                s += l;
                break;
            }
            /* a non-ASCII letter or digit starts a word */
        } /* fall through */
        case W:
            if (pending == BRK_NL && push_break(w, "<nl>", 4)) return PP_CLEAN_NOMEM;
            if (pending == BRK_SEP && push_break(w, "<sep>", 5)) return PP_CLEAN_NOMEM;
            pending = BRK_NONE;
            if (take_word(&s, end, w)) return PP_CLEAN_NOMEM;
            content = words = 1;
            break;
        }
    }
    return PP_CLEAN_OK;
}

static pp_clean_scratch *scratch(pp_words *out) {
    if (!out->scratch) {
        out->scratch = calloc(1, sizeof(pp_clean_scratch));
        out->scratch_cap = out->scratch ? sizeof(pp_clean_scratch) : 0;
    }
    return out->scratch;
}

static int clean(const char *text, size_t len, pp_words *out, size_t *bad_offset, int whole) {
    out->len = out->n = out->n_words = 0;
    if (!whole && pp_utf8_is_ascii(text, len)) return tokenize((const uint8_t *)text, len, out);
    pp_clean_scratch *sc = scratch(out);
    if (!sc) return PP_CLEAN_NOMEM;
    size_t n, bad = 0;
    int rc = pp_normalize(text, len, sc, whole, &n, &bad);
    if (rc == PP_CLEAN_BAD_UTF8 && bad_offset) *bad_offset = bad;
    if (rc) return rc;
    return tokenize((const uint8_t *)sc->norm, n, out);
}

int pp_clean_song(const char *text, size_t len, pp_words *out, size_t *bad_offset) {
    return clean(text, len, out, bad_offset, 0);
}

int pp_clean_song_ref(const char *text, size_t len, pp_words *out, size_t *bad_offset) {
    return clean(text, len, out, bad_offset, 1);
}

void pp_words_free(pp_words *w) {
    pp_clean_scratch *sc = w->scratch;
    if (sc) {
        free(sc->norm);
        free(sc->cp);
        free(sc);
    }
    free(w->buf);
    free(w->off);
    memset(w, 0, sizeof *w);
}
