/* lm_rng: a small, fast, seedable PRNG (xoshiro256**, seeded by splitmix64)
 * whose whole state is a plain struct: saving it is copying 32 bytes, and a
 * restored state continues the exact same sequence. Dropout masks, sampling,
 * weight init and data order all draw from an lm_rng; there is no global one. */
#ifndef LM_RNG_H
#define LM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct lm_rng {
    uint64_t s[4];
} lm_rng;

void lm_rng_seed(lm_rng *r, uint64_t seed);
/* Derives an independent stream, e.g. lm_rng_seed2(&r, seed, epoch). */
void lm_rng_seed2(lm_rng *r, uint64_t seed, uint64_t stream);
uint64_t lm_rng_u64(lm_rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t lm_rng_below(lm_rng *r, uint64_t n);
/* Uniform float in [0, 1), 24 random bits. */
float lm_rng_uniform(lm_rng *r);
/* u[0..n) = n successive lm_rng_uniform draws (the same values, the state
 * left the same), with the state kept in registers meanwhile. */
void lm_rng_fill_uniform(lm_rng *r, float *u, size_t n);
/* Uniform double in [0, 1), 53 random bits. */
double lm_rng_uniform_d(lm_rng *r);
/* Standard normal (Box-Muller, no cached spare so the state is just s[]). */
float lm_rng_normal(lm_rng *r);
/* Fisher-Yates shuffle of a uint32 permutation array. */
void lm_rng_shuffle_u32(lm_rng *r, uint32_t *a, uint64_t n);

#endif
