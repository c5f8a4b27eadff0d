/* bench_markov: synthetic lyrics for the preprocess scale benchmark (the
 * make_corpus tool; a test fixture, not part of lyricmind): an
 * order-2 word Markov model per canonical genre learnt from a real corpus,
 * sampled with seeded lm_rng streams (same corpus + seed = same songs). */
#ifndef BENCH_MARKOV_H
#define BENCH_MARKOV_H

#include <stddef.h>

#include <stdint.h>

#include "lm_err.h"

typedef struct bench_markov bench_markov;

/* Learns from every file under `from` (as preprocess would read it). */
bench_markov *bench_markov_learn(const char *from, lm_err *e);
void bench_markov_free(bench_markov *m);
size_t bench_markov_songs(const bench_markov *m); /* distinct real songs learnt */
size_t bench_markov_words(const bench_markov *m); /* distinct raw tokens */
/* A sampled song: text in buf[0..len) (grown as needed) and its genre. */
typedef struct bench_song {
    char *buf;
    size_t len, cap;
    const char *genre;
} bench_song;

#define BENCH_MARKOV_BATCH 16

/* Samples songs first .. first+n-1 (n <= BENCH_MARKOV_BATCH) into out[0..n).
 * Song i depends only on the model, seed and i. -1 when out of memory. */
int bench_markov_sample_batch(const bench_markov *m, uint64_t seed, uint64_t first, int n, bench_song *out);

#endif
