/* pp_vocab: word dictionaries and the vocabulary build.
 *
 * pp_dict maps a word (bytes, no NUL inside) to a dense id 0..n-1 in first-seen
 * order and keeps a count per word. Open addressing over 16-byte slots that hold
 * the word's first 8 bytes and its length, so a word of up to 8 bytes (most
 * of them) is found by touching one slot and nothing else; longer words
 * compare their rest against the arena where all words are stored back to
 * back. No allocation per lookup. One dict per thread: not thread-safe.
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
#include <string.h>

#include "lm_err.h"
#include "pp_hash.h"

typedef struct pp_dict_slot {
    uint64_t w8;       /* first 8 bytes of the word, zero padded */
    uint32_t len, id1; /* id + 1; 0 = empty slot */
    uint64_t count;    /* kept here, not by id: counting costs no extra cache miss */
} pp_dict_slot;

typedef struct pp_dict {
    pp_dict_slot *slots;
    size_t cap;       /* power of two */
    uint32_t n;       /* words */
    uint32_t ncap;
    uint64_t *woff;   /* n: word i is arena[woff[i] .. woff[i] + wlen[i]) */
    uint32_t *wlen;   /* n */
    char *arena;
    size_t alen, acap;
} pp_dict;

int pp_dict_init(pp_dict *d);
void pp_dict_free(pp_dict *d);
/* A word's probe key: its first 8 bytes (zero padded; words hold no NUL, so
 * for len <= 8 this is the whole word) and its hash. */
typedef struct pp_dict_key {
    uint64_t w8, hash;
} pp_dict_key;

static inline uint64_t pp_dict_hash8(uint64_t w8, size_t len) {
    /* one 64x64->128 multiply, folded: every input bit reaches the low bits */
    __uint128_t m = (__uint128_t)(w8 ^ 0x243F6A8885A308D3ULL) * (0x9E3779B97F4A7C15ULL ^ len);
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* The first min(len, 8) bytes of p as an integer, the rest zero (overlapping
 * loads, no loop). */
static inline uint64_t pp_load8(const char *p, size_t len) {
    uint64_t v = 0;
    if (len >= 8) {
        memcpy(&v, p, 8);
    } else if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + len - 4, 4);
        v = (uint64_t)lo | ((uint64_t)hi << (8 * (len - 4)));
    } else if (len > 0) {
        const unsigned char *u = (const unsigned char *)p;
        v = (uint64_t)u[0] | ((uint64_t)u[len / 2] << (8 * (len / 2))) | ((uint64_t)u[len - 1] << (8 * (len - 1)));
    }
    return v;
}

static inline pp_dict_key pp_dict_key_of(const char *p, size_t len) {
    uint64_t v = pp_load8(p, len);
    return (pp_dict_key){v, len > 8 ? pp_hash_word(p, len) : pp_dict_hash8(v, len)};
}

/* The same key when 8 bytes may be read at p (the word, its NUL and
 * whatever follows in the same buffer): a masked load instead of branches on
 * the length. 1 <= len. (The composed loads above equal the masked load on
 * little-endian hosts; elsewhere this simply calls pp_dict_key_of.) */
static inline pp_dict_key pp_dict_key_of8(const char *p, size_t len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    v &= ~0ULL >> (len >= 8 ? 0 : 64 - 8 * len);
    return (pp_dict_key){v, len > 8 ? pp_hash_word(p, len) : pp_dict_hash8(v, len)};
#else
    return pp_dict_key_of(p, len);
#endif
}

/* Starts loading the slot a key probes first, so that a lookup a few words
 * later finds it in cache (software pipelining over a song's words). */
static inline void pp_dict_prefetch(const pp_dict *d, pp_dict_key k) {
    __builtin_prefetch(&d->slots[k.hash & (d->cap - 1)], 1);
}

/* Id of word[0..len) (k = pp_dict_key_of(word, len)), inserted with count 0
 * if new, after adding inc to its count; -1 when out of memory. */
int64_t pp_dict_add_key(pp_dict *d, const char *word, size_t len, pp_dict_key k, uint64_t inc);
/* pp_dict_add_key with the common case inline: a word of up to 8 bytes
 * sitting in the first slot it probes. */
static inline int64_t pp_dict_add_fast(pp_dict *d, const char *word, size_t len, pp_dict_key k, uint64_t inc) {
    pp_dict_slot *s = &d->slots[k.hash & (d->cap - 1)];
    if (s->w8 == k.w8 && s->len == len && len <= 8) { /* an empty slot has len 0 */
        s->count += inc;
        return (int64_t)s->id1 - 1;
    }
    return pp_dict_add_key(d, word, len, k, inc);
}
static inline int64_t pp_dict_add(pp_dict *d, const char *word, size_t len, uint64_t inc) {
    return pp_dict_add_key(d, word, len, pp_dict_key_of(word, len), inc);
}
static inline int64_t pp_dict_intern(pp_dict *d, const char *word, size_t len) {
    return pp_dict_add(d, word, len, 0);
}
/* Fills counts[0..n) by id. */
void pp_dict_counts(const pp_dict *d, uint64_t *counts);
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
