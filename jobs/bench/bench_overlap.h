/* bench_overlap: the --overlap on part of 'lyricmind bench allreduce'
 * (bench_overlap.c). */
#ifndef BENCH_OVERLAP_H
#define BENCH_OVERLAP_H

#include "dist.h"
#include "lm_err.h"
#include "lm_model.h"

/* --overlap on: real training windows, compute alone against blocking and
 * overlapped exchange (bench_overlap.c). Collective; rank 0 prints. */
typedef struct bench_overlap_cfg {
    lm_dims d;
    int B, T, threads, chunk, reps, warmup;
    long seed;
    unsigned wire; /* 0 or DIST_GS_WIRE_BF16/FP16 */
} bench_overlap_cfg;
int bench_overlap_part(const dist_world *w, const bench_overlap_cfg *f, lm_err *e);

#endif
