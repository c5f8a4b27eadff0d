/* bench_roof: the host's own limits, measured before a benchmark times
 * anything, so that each figure can also be printed as a fraction of its
 * roofline and means the same on every host.
 *
 *   FMA peak: FP32 multiply-add throughput of one core at the ISA level in
 *     use (lm_isa_level()), from independent vector FMA chains (mul + add
 *     at baseline, which has no FMA), in GFLOP/s (an FMA is 2 flops).
 *   Triad bandwidth: a[i] = b[i] + s c[i] over three arrays larger than the
 *     last-level cache, one thread, STREAM's count (12 bytes per element),
 *     in GB/s.
 * Each is the best of several short repetitions (~0.3 s in all), timed in
 * thread CPU time, so on a loaded host they stay the limits of a core while
 * it runs; the benchmarks print fractions both of wall time (what a user
 * sees) and of CPU time (what the code achieves while it has the core). */
#ifndef BENCH_ROOF_H
#define BENCH_ROOF_H

#include <stddef.h>

typedef struct {
    const char *isa;      /* the level in use, lm_isa_name() */
    const char *isa_host; /* the host's best level */
    double fma_gflops;    /* one core */
    double triad_gbs;     /* one thread; 0 if the arrays could not be allocated */
} bench_roof;

/* Measures both limits; triad_mb is the total size of the three arrays. */
void bench_roof_measure(bench_roof *r, size_t triad_mb);

/* FLOPs of one training step per token at sizes V, E, H: the three output
 * GEMMs (6 H V) and the LSTM's forward and backward products
 * (3 x 8 H (E + H)); elementwise work is not counted. */
double bench_train_flops_per_token(int V, int E, int H);

#endif
