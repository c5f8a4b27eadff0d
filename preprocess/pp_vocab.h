/* pp_vocab: word dictionaries and the vocabulary build.
 *
 * pp_dict maps a word (bytes, no NUL inside) to a dense id 0..n-1 in first-seen
 * order and keeps a count per id. Open addressing over 64-bit slots (32 bits
 * of hash as a tag, 32 bits of id+1), words stored back to back in one arena,
 * so a lookup does no allocation and usually touches two cache lines. One
 * dict per thread: it is not thread-safe.
 *
 * pp_vocab_select merges several dicts by word and picks the vocabulary:
 * words with count >= min_count, by descending count, ties by the word's
 * bytes (unsigned, shorter first on a common prefix), at most max_words of
 * them. The result is deterministic whatever the number of dicts and however
 * the words were spread over them. */
#ifndef PP_VOCAB_H
#define PP_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"

typedef struct pp_dict {
    uint64_t *slots;  /* cap entries: (tag << 32) | (id + 1); 0 = empty */
    size_t cap;       /* power of two */
    uint32_t n;       /* words */
    uint32_t ncap;
    uint64_t *counts; /* n */
    uint64_t *woff;   /* n: word i is arena[woff[i] .. woff[i] + wlen[i]) */
    uint32_t *wlen;   /* n */
    char *arena;
    size_t alen, acap;
} pp_dict;

int pp_dict_init(pp_dict *d);
void pp_dict_free(pp_dict *d);
/* Id of word[0..len), inserted with count 0 if new; -1 when out of memory. */
int64_t pp_dict_intern(pp_dict *d, const char *word, size_t len);
/* Id of the word or -1 if absent. */
int64_t pp_dict_find(const pp_dict *d, const char *word, size_t len);
static inline const char *pp_dict_word(const pp_dict *d, uint32_t id) { return d->arena + d->woff[id]; }

typedef struct pp_vocab_pick {
    uint32_t n_words;      /* words selected (<= max_words) */
    uint32_t **map;        /* map[k][id] = rank (0..n_words-1) of dict k's word id, or UINT32_MAX */
    char **words;          /* n_words NUL-terminated words in rank order */
    uint64_t *counts;      /* n_words */
    uint64_t total_count;  /* sum of all counts over all words (selected or not) */
    uint64_t oov_count;    /* sum of counts of words not selected */
    uint64_t n_types;      /* distinct words over all dicts */
} pp_vocab_pick;

int pp_vocab_select(pp_dict *const *dicts, int ndicts, uint64_t min_count, uint32_t max_words,
                    pp_vocab_pick *out, lm_err *e);
void pp_vocab_pick_free(pp_vocab_pick *p, int ndicts);

#endif
