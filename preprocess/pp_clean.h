/* pp_clean: text cleaning and word tokenization of one song (DESIGN.md
 * "Text and tokens").
 *
 * NFKC + case fold (utf8proc; an ASCII fast path gives the same result),
 * curly quotes -> ', [Section]-style tags removed, punctuation dropped except
 * apostrophes and hyphens inside words ("'cause" -> "cause", "rock-" ->
 * "rock"). A line break is the token "<nl>", one or more blank lines "<sep>"
 * (in place of the <nl>: "a\n\nb" is a <sep> b); a line with content but no
 * word ("[Chorus]", "...") is dropped; leading/trailing breaks are dropped
 * and runs collapse. Words cannot contain '<' or '>', so "<nl>" and "<sep>"
 * are unambiguous. Invalid UTF-8 is reported, never repaired. Thread-safe:
 * all state lives in the caller's pp_words. Rules in docs/preprocess-text.md. */
#ifndef PP_CLEAN_H
#define PP_CLEAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct pp_words {
    char *buf;      size_t len, cap;   /* tokens back to back, each NUL-terminated */
    uint32_t *off;  size_t n, ncap;    /* token i starts at buf + off[i] */
    size_t n_words;                    /* tokens that are words (not <nl>/<sep>) */
    void *scratch;  size_t scratch_cap; /* reused normalisation buffer */
} pp_words;

enum { PP_CLEAN_OK = 0, PP_CLEAN_BAD_UTF8 = 1, PP_CLEAN_NOMEM = 2 };

/* Cleans text[0..len) into out (reset first, buffers reused). On
 * PP_CLEAN_BAD_UTF8, *bad_offset is the byte offset of the first invalid
 * sequence within text. */
int pp_clean_song(const char *text, size_t len, pp_words *out, size_t *bad_offset);
void pp_words_free(pp_words *w);

#endif
