/* pp_hash: the fast non-cryptographic hashes of the preprocessor (the XXH64
 * input checksums of manifest.json come from libxxhash: pp_inputs.c).
 *
 * - pp_hash128: MurmurHash3_x64_128 (bit-exact with the reference), the
 *   identity of a cleaned song for dedup and the train/val split.
 * - pp_hash_word: a short-string hash for the word dictionaries (not stored
 *   anywhere; only its quality and speed matter).
 * Pure functions over caller memory; no state outside the caller's structs. */
#ifndef PP_HASH_H
#define PP_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct pp_h128 {
    uint64_t lo, hi;
} pp_h128;

pp_h128 pp_hash128(const void *data, size_t len, uint32_t seed);
uint64_t pp_hash_word(const char *s, size_t len);

/* The finalizer of MurmurHash3 (a bijective 64-bit mixer). */
static inline uint64_t pp_mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

#endif
