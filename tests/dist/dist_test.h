/* dist_test: helpers for the plain-C multi-rank tests of dist/ (they run
 * under mpirun, where Criterion's forking runner does not fit). A failed
 * CHECK prints the rank and the reason and ends the whole job through
 * dist_world_abort, so mpirun (and ctest) report a failure. */
#ifndef DIST_TEST_H
#define DIST_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dist.h"

#define CHECK(w, cond, ...)                                                        \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "rank %d: FAIL %s:%d: %s: ", (w)->rank, __FILE__,      \
                    __LINE__, #cond);                                              \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            fflush(stderr);                                                        \
            dist_world_abort((w), 1);                                              \
        }                                                                          \
    } while (0)

/* dist_world_init, or exit(1) with the reason (no world to abort yet). */
static inline void dt_init(dist_world *w, int *argc, char ***argv) {
    lm_err e = {{0}};
    if (dist_world_init(w, argc, argv, &e)) {
        fprintf(stderr, "FAIL: dist_world_init: %s\n", e.msg);
        exit(1);
    }
}

/* splitmix64: a tiny reproducible generator, so every rank can regenerate
 * every other rank's inputs and compute the expected result itself. */
static inline uint64_t dt_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1), or (exact) a multiple of 1/64 in [-64, 64) whose sums
 * over a few ranks are exact in float in any order. */
static inline float dt_value(uint64_t *s, int exact) {
    uint64_t x = dt_next(s);
    if (exact) return (float)((int)(x % 8192) - 4096) / 64.0f;
    return (float)((double)(x >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

#endif
