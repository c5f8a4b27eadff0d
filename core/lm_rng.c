/* lm_rng: xoshiro256** (Blackman & Vigna) seeded through splitmix64.
 *
 * Invariants: the whole generator state is r->s[4]; nothing is cached
 * outside it (lm_rng_normal draws two uniforms per call instead of keeping a
 * spare), so copying the struct saves it and copying it back restores the
 * exact continuation. The state is never all zero: splitmix64 outputs for
 * four consecutive counters cannot all be zero. */
#include "lm_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void lm_rng_seed(lm_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void lm_rng_seed2(lm_rng *r, uint64_t seed, uint64_t stream) {
    /* Hash the stream id first so that (seed, stream) and (seed+1, stream-1)
     * and other near pairs start far apart. */
    uint64_t y = stream ^ 0xD1B54A32D192ED03ULL;
    uint64_t x = seed;
    lm_rng_seed(r, splitmix64(&x) ^ splitmix64(&y));
}

/* One xoshiro256** step on s[4]: the next output. */
static inline uint64_t xoshiro_next(uint64_t *s) {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t lm_rng_below(lm_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    /* Reject the lowest (2^64 mod n) values so every residue is equally likely. */
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = lm_rng_u64(r);
        if (x >= threshold) return x % n;
    }
}

uint64_t lm_rng_u64(lm_rng *r) { return xoshiro_next(r->s); }

float lm_rng_uniform(lm_rng *r) { return (float)(lm_rng_u64(r) >> 40) * 0x1p-24f; }

void lm_rng_fill_uniform(lm_rng *r, float *u, size_t n) {
    uint64_t s[4] = {r->s[0], r->s[1], r->s[2], r->s[3]};
    for (size_t i = 0; i < n; i++) u[i] = (float)(xoshiro_next(s) >> 40) * 0x1p-24f;
    for (int k = 0; k < 4; k++) r->s[k] = s[k];
}

double lm_rng_uniform_d(lm_rng *r) { return (double)(lm_rng_u64(r) >> 11) * 0x1p-53; }

float lm_rng_normal(lm_rng *r) {
    /* u1 in (0, 1] so that log(u1) is finite. */
    double u1 = ((double)(lm_rng_u64(r) >> 11) + 1.0) * 0x1p-53;
    double u2 = lm_rng_uniform_d(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void lm_rng_shuffle_u32(lm_rng *r, uint32_t *a, uint64_t n) {
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = lm_rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
