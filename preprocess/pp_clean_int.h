/* pp_clean_int: internals of the cleaner shared by pp_clean.c,
 * pp_clean_norm.c and the tests (not a public API; use pp_clean.h).
 *
 * Cleaning is two passes: pp_normalize turns the song into NFKC + case-folded
 * UTF-8 (skipped when the song is pure ASCII, which is NFKC-invariant; ASCII
 * case folding is done by the tokenizer), then the tokenizer cuts words,
 * <nl> and <sep> out of it. */
#ifndef PP_CLEAN_INT_H
#define PP_CLEAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pp_clean.h"

/* What pp_words.scratch points to. */
typedef struct pp_clean_scratch {
    char *norm;    size_t norm_cap;    /* normalised song */
    int32_t *cp;   size_t cp_cap;      /* utf8proc code point buffer */
} pp_clean_scratch;

/* Returns n when s[0..n) is valid UTF-8, else the byte offset of the first
 * invalid sequence (stray continuation byte, overlong form, surrogate,
 * > U+10FFFF, bad lead byte, truncated sequence). */
size_t pp_utf8_check(const char *s, size_t n);
/* Non-zero when s[0..n) has no byte >= 0x80. */
int pp_utf8_is_ascii(const char *s, size_t n);

/* Normalises text into sc->norm (*out_len bytes). whole = 0: ASCII runs are
 * copied and utf8proc sees only each non-ASCII run plus the ASCII byte
 * before it (the fast path); whole = 1: one utf8proc call over the whole text
 * (the reference). Returns PP_CLEAN_OK, PP_CLEAN_BAD_UTF8 (*bad set) or
 * PP_CLEAN_NOMEM. */
int pp_normalize(const char *text, size_t len, pp_clean_scratch *sc, int whole,
                 size_t *out_len, size_t *bad);

/* pp_clean_song through the reference normalisation (whole = 1): slower, for
 * tests proving the fast path gives the same tokens. */
int pp_clean_song_ref(const char *text, size_t len, pp_words *out, size_t *bad_offset);

#endif
