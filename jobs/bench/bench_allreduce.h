/* bench_allreduce: 'lyricmind bench allreduce' (jobs/bench/bench_allreduce.c):
 * times the per-step gradient exchange and fits the ring-allreduce model. */
#ifndef BENCH_ALLREDUCE_H
#define BENCH_ALLREDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "dist.h"
#include "lm_model.h"
#include "lm_rng.h"

/* argv[0] is "allreduce"; returns the exit code. Collective under MPI. */
int bench_allreduce_main(int argc, char **argv);

/* Shared by its parts: the median over reps of the slowest rank's t[r]
 * (collective); n log-uniform ids in [0, V) (frequent low ids, like a Zipf
 * vocabulary). */
int bench_median_slowest(const dist_world *w, const double *t, int reps, double *med, lm_err *e);
void bench_log_uniform_ids(lm_rng *rng, int32_t *ids, size_t n, int V);

#endif
