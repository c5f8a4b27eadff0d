/* bench_dist_sync: how long the gradient sum takes on this machine, and
 * whether starting the output layer's sum early (overlap) helps. Not a test:
 * it prints figures (docs/dist.md, docs/benchmarks.md).
 *
 *   mpirun -np 2 build-x/tests/dist/bench_dist_sync [reps] [compute_ms] [A|B]
 *
 * Part A, raw MPI on the spec's head (V=50000, H=128: 6,450,000 floats):
 * blocking MPI_Allreduce; a fake compute of compute_ms (fixed work,
 * calibrated once); compute then allreduce; Iallreduce + compute + Wait; the
 * same with MPI_Test between 20 slices of the compute.
 * Part B, the real model step (lm_model_train_window, B=8, T=30 per rank,
 * E=64, H=128, V=50000, log-uniform token ids) with dist_grad_sync in three
 * modes. Each figure is the median over reps of the slowest rank's time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "dist_test.h"
#include "lm_model.h"

static double now(void) { return MPI_Wtime(); }

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over reps of the per-rep maximum across ranks. */
static double median_max(double *t, int reps) {
    MPI_Allreduce(MPI_IN_PLACE, t, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    return t[reps / 2];
}

/* Fixed floating-point work in L1 (like a small GEMM: compute bound). */
static volatile float sink;
static void compute(long iters) {
    float x[256];
    for (int i = 0; i < 256; i++) x[i] = (float)i * 1e-3f;
    for (long k = 0; k < iters; k++)
        for (int i = 0; i < 256; i++) x[i] = x[i] * 0.999f + 1e-4f;
    sink = x[17];
}

static long calibrate(double ms) {
    long it = 1000;
    for (;;) {
        double t0 = now();
        compute(it);
        double dt = now() - t0;
        if (dt > 0.02) return (long)((double)it * (ms / 1e3) / dt);
        it *= 2;
    }
}

static void part_a(dist_world *w, int reps, double ms) {
    const int n = 50000 * 128 + 50000;
    float *g = malloc((size_t)n * sizeof *g);
    double *t = malloc((size_t)reps * sizeof *t);
    CHECK(w, g && t, "out of memory");
    for (int i = 0; i < n; i++) g[i] = 1e-3f * (float)(i % 1000);
    long it = calibrate(ms);
    const char *names[5] = {"allreduce (blocking)", "compute only", "compute + allreduce",
                            "Iallreduce, compute, Wait", "Iallreduce, compute+20 Tests, Wait"};
    double med[5];
    for (int mode = 0; mode < 5; mode++) {
        for (int r = 0; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = now();
            MPI_Request q;
            int done;
            switch (mode) {
            case 0: MPI_Allreduce(MPI_IN_PLACE, g, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); break;
            case 1: compute(it); break;
            case 2:
                compute(it);
                MPI_Allreduce(MPI_IN_PLACE, g, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
                break;
            case 3:
                MPI_Iallreduce(MPI_IN_PLACE, g, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &q);
                compute(it);
                MPI_Wait(&q, MPI_STATUS_IGNORE);
                break;
            case 4:
                MPI_Iallreduce(MPI_IN_PLACE, g, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &q);
                for (int k = 0; k < 20; k++) {
                    compute(it / 20);
                    MPI_Test(&q, &done, MPI_STATUS_IGNORE);
                }
                MPI_Wait(&q, MPI_STATUS_IGNORE);
                break;
            }
            t[r] = now() - t0;
        }
        med[mode] = median_max(t, reps);
        if (w->rank == 0)
            printf("A  %-36s %8.2f ms\n", names[mode], 1e3 * med[mode]);
    }
    if (w->rank == 0)
        printf("A  head %d floats (%.1f MB); overlap hides %.2f ms of %.2f ms "
               "(wait) / %.2f ms (tests)\n",
               n, 4e-6 * n, 1e3 * (med[2] - med[3]), 1e3 * med[0], 1e3 * (med[2] - med[4]));
    free(g);
    free(t);
}

/* The hook as the train loop installs it, plus a timestamp: how much
 * compute is left after the head gradient is final (the overlap window). */
static double hook_at;
static void timed_hook(void *ctx) {
    hook_at = now();
    if (ctx) dist_grad_sync_on_head_grads(ctx);
}

/* One model step with the given sync (NULL: no synchronisation at all). */
static double model_step(dist_world *w, lm_model *m, lm_acts *a, dist_grad_sync *gs,
                         const int32_t *in, const int32_t *tgt, float *h, float *c,
                         double *comm, long *rows, double *after) {
    lm_err e = {{0}};
    const int B = 8, T = 30;
    lm_step_opts o = {.dropout = 0.0f, .pad_id = -1, .loss_scale = 1.0f / (B * T * w->size),
                      .on_head_grads = timed_hook, .ctx = gs};
    double loss, t0 = now();
    long cnt;
    if (gs) CHECK(w, dist_grad_sync_tokens(gs, in, (size_t)B * T, &e) == 0, "%s", e.msg);
    CHECK(w, lm_model_train_window(m, a, B, T, in, tgt, h, c, &o, &loss, &cnt) == 0,
          "train_window failed");
    *after = now() - hook_at;
    *comm = 0;
    *rows = 0;
    if (gs) {
        CHECK(w, dist_grad_sync_finish(gs, &e) == 0, "%s", e.msg);
        dist_grad_stats st;
        dist_grad_sync_stats(gs, &st);
        *comm = st.comm_s;
        *rows = st.union_rows;
    }
    return now() - t0;
}

#define NMODES 4
static void part_b(dist_world *w, int reps) {
    lm_err e = {{0}};
    const int B = 8, T = 30;
    lm_dims d = {.V = 50000, .E = 64, .H = 128};
    lm_model m;
    CHECK(w, lm_model_init(&m, d, 1, &e) == 0, "%s", e.msg);
    lm_rng rng;
    lm_rng_seed(&rng, 1);
    lm_model_init_weights(&m, &rng);
    lm_acts *a = lm_acts_create(d, B, T);
    int32_t *in = malloc((size_t)B * T * sizeof *in), *tgt = malloc((size_t)B * T * sizeof *tgt);
    float *h = calloc((size_t)B * d.H, sizeof *h), *c = calloc((size_t)B * d.H, sizeof *c);
    double *tstep = malloc((size_t)NMODES * reps * sizeof *tstep);
    double *tcomm = malloc((size_t)NMODES * reps * sizeof *tcomm);
    double *tafter = malloc((size_t)reps * sizeof *tafter);
    CHECK(w, a && in && tgt && h && c && tstep && tcomm && tafter, "out of memory");
    uint64_t s = 42 + (uint64_t)w->rank;
    const char *names[NMODES] = {"no sync (compute only)", "no overlap, dense embedding",
                                 "no overlap, sparse embedding (default)",
                                 "overlap, sparse embedding"};
    unsigned flags[NMODES] = {0, DIST_GS_DENSE_EMB, 0, DIST_GS_OVERLAP};
    dist_grad_layout L = dist_grad_layout_of_model(&m);
    dist_grad_sync *gs[NMODES] = {NULL};
    for (int k = 1; k < NMODES; k++) {
        gs[k] = dist_grad_sync_create(w, m.grads, &L, flags[k], &e);
        CHECK(w, gs[k] != NULL, "%s", e.msg);
    }
    long rows = 0;
    /* Modes interleaved rep by rep, so a change in the machine's load hits
     * them all alike. */
    for (int r = -2; r < reps; r++) {
        for (int k = 0; k < NMODES; k++) {
            for (int i = 0; i < B * T; i++) {
                in[i] = (int32_t)(exp((double)(dt_next(&s) >> 11) / 9007199254740992.0 *
                                      log((double)d.V))) - 1;
                tgt[i] = (int32_t)(dt_next(&s) % (uint64_t)d.V);
            }
            MPI_Barrier(MPI_COMM_WORLD);
            double cm, after;
            long u;
            double dt = model_step(w, &m, a, gs[k], in, tgt, h, c, &cm, &u, &after);
            if (r < 0) continue;
            if (k == 0) tafter[r] = after;
            tstep[k * reps + r] = dt;
            tcomm[k * reps + r] = cm;
            if (k == NMODES - 1) rows += u;
        }
    }
    for (int k = 0; k < NMODES; k++) {
        double ms = median_max(tstep + k * reps, reps), mc = median_max(tcomm + k * reps, reps);
        if (w->rank == 0)
            printf("B  %-36s step %7.2f ms  comm %6.2f ms (%4.1f%%)  %6.0f tok/s total\n",
                   names[k], 1e3 * ms, 1e3 * mc, 100 * mc / ms, B * T * w->size / ms);
    }
    double ma = median_max(tafter, reps);
    if (w->rank == 0) {
        printf("B  compute after the head gradient is final (overlap window): %.2f ms\n",
               1e3 * ma);
        printf("B  mean |U| (distinct tokens in the global batch): %ld\n", rows / reps);
    }
    for (int k = 1; k < NMODES; k++) dist_grad_sync_free(gs[k]);
    free(in), free(tgt), free(h), free(c), free(tstep), free(tcomm), free(tafter);
    lm_acts_free(a);
    lm_model_free(&m);
}

int main(int argc, char **argv) {
    dist_world w;
    lm_err e = {{0}};
    if (dist_world_init(&w, &argc, &argv, &e) || !w.mpi) {
        fprintf(stderr, "bench_dist_sync: run under mpirun: %s\n", e.msg);
        return 1;
    }
    int reps = argc > 1 ? atoi(argv[1]) : 15;
    double ms = argc > 2 ? atof(argv[2]) : 5.0;
    if (reps < 1) reps = 1;
    if (w.rank == 0) printf("bench_dist_sync: %d rank(s), %d reps, fake compute %.1f ms\n",
                            w.size, reps, ms);
    const char *only = argc > 3 ? argv[3] : "";
    if (strcmp(only, "B") != 0) part_a(&w, reps, ms);
    if (strcmp(only, "A") != 0) part_b(&w, reps);
    dist_world_finalize(&w);
    return 0;
}
