/* bench_markov: synthetic lyrics for the preprocess scale benchmark: an
 * order-2 word Markov model per canonical genre learnt from a real corpus,
 * sampled with a seeded lm_rng (same corpus + seed = same songs). */
#ifndef BENCH_MARKOV_H
#define BENCH_MARKOV_H

#include <stddef.h>

#include "lm_err.h"
#include "lm_rng.h"

typedef struct bench_markov bench_markov;

/* Learns from every file under `from` (as preprocess would read it). */
bench_markov *bench_markov_learn(const char *from, lm_err *e);
void bench_markov_free(bench_markov *m);
size_t bench_markov_songs(const bench_markov *m); /* distinct real songs learnt */
size_t bench_markov_words(const bench_markov *m); /* distinct raw tokens */
/* Samples one song into *buf (grown as needed; *len set) and its genre. */
int bench_markov_sample(const bench_markov *m, lm_rng *rng, char **buf, size_t *len, size_t *cap,
                        const char **genre);

#endif
