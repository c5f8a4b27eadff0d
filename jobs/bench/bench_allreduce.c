/* bench_allreduce: 'lyricmind bench allreduce', how long the per-step
 * gradient exchange takes on this network, and the ring-allreduce model
 * fitted to it (docs/scaling.md).
 *
 *   mpirun -np P lyricmind bench allreduce [--vocab V --embed E --hidden H
 *                                          --batch B --seq-len T --reps N --sizes K
 *                                          --overlap on [--threads N --chunk ROWS]]
 *
 * 1. The fit: single dense allreduces of K message sizes from 256 bytes to the
 *    size of the step's dense part, through the real dist_grad_sync API (a
 *    layout of n floats whose one-row "embedding" goes dense: one in-place
 *    MPI_Allreduce of n floats per step). A least-squares fit (fit_ring:
 *    the slope over all sizes, the intercept over the latency-bound ones) of
 *        t(n) = 2(p-1) alpha + 2(p-1)/p * bytes(n) * beta
 *    gives alpha (latency per ring step) and beta (seconds per byte); beta
 *    of the largest message alone (given alpha) is printed too: on a
 *    starved or cache-bound host the sizes do not lie on one line.
 * 2. The step: the exchange exactly as the train loop does it (token bitmap
 *    OR, dense head + LSTM, embedding rows of the token union sparsely) on a
 *    model of the given sizes with B x T log-uniform token ids per rank,
 *    against the model's sum of its three allreduces.
 * 3. With --overlap on: the step through the overlap engine, then real
 *    training windows (bench_overlap.c): compute alone, with the blocking
 *    and with the overlapped exchange.
 * Every figure is the median over reps of the slowest rank's time (small
 * messages: of 8 or 32 back-to-back exchanges, divided). Rank 0
 * prints a table, the model line and one JSON line. A measurement, not a
 * test: nothing compares a figure against a target. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_allreduce.h"
#include "bench_overlap.h"
#include "cli.h"
#include "dist.h"
#include "io_json.h"
#include "lm_model.h"
#include "lm_rng.h"
#include "lm_sys.h"

typedef struct {
    lm_dims d;
    int B, T, reps, warmup, sizes;
    long seed;
    const char *wire; /* fp32 | bf16 | fp16: the head's format in the step part */
    const char *overlap; /* off | on: the step part through the overlap engine, and part 3 */
    int threads, chunk;  /* part 3: head threads, rows of logits per head pass */
} ar_flags;

/* Ring-allreduce model: alpha seconds per ring step, beta seconds per byte. */
typedef struct {
    double alpha, beta;
    double big_s, beta_big; /* the largest message's time, and the beta that
                               alpha and it alone give (what a step sends) */
} ar_model;

static double ar_model_s(const ar_model *m, int p, double bytes) {
    return 2.0 * (p - 1) * m->alpha + 2.0 * (p - 1) / p * bytes * m->beta;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* t[0..reps) of this rank -> median over reps of the slowest rank's time. */
int bench_median_slowest(const dist_world *w, const double *t, int reps, double *med, lm_err *e) {
    size_t n = (size_t)reps * (size_t)w->size;
    double *all = calloc(n, sizeof *all), *mx = malloc((size_t)reps * sizeof *mx);
    int rc = -1;
    if (!all || !mx) {
        lm_err_set(e, "out of memory");
        goto done;
    }
    for (int r = 0; r < reps; r++) all[(size_t)r * w->size + w->rank] = t[r];
    if (dist_sum_doubles(w, all, (int)n, e)) goto done;
    for (int r = 0; r < reps; r++) {
        mx[r] = 0;
        for (int k = 0; k < w->size; k++) mx[r] = fmax(mx[r], all[(size_t)r * w->size + k]);
    }
    qsort(mx, (size_t)reps, sizeof *mx, cmp_d);
    *med = mx[reps / 2];
    rc = 0;
done:
    free(all), free(mx);
    return rc;
}

void bench_log_uniform_ids(lm_rng *rng, int32_t *ids, size_t n, int V) {
    for (size_t i = 0; i < n; i++) {
        int32_t t = (int32_t)(exp(lm_rng_uniform_d(rng) * log((double)V))) - 1;
        ids[i] = t < 0 ? 0 : t >= V ? V - 1 : t;
    }
}

/* Times `reps` rounds (after `warmup` untimed ones) of `inner` exchanges
 * through gs each: tokens (when ids), the head hooks, finish; a round's time
 * is divided by inner (back-to-back small messages are not swamped by the
 * barrier's skew). Grads are zeroed before each round so that repeated sums
 * stay finite. *med: see bench_median_slowest. */
static int time_exchange(const dist_world *w, dist_grad_sync *gs, float *grads, size_t n,
                         lm_rng *rng, int32_t *ids, size_t nids, int V, int inner,
                         const ar_flags *f, double *med, lm_err *e) {
    double *t = malloc((size_t)f->reps * sizeof *t);
    if (!t) return lm_err_set(e, "out of memory");
    int rc = 0;
    for (int r = -f->warmup; r < f->reps && rc == 0; r++) {
        memset(grads, 0, n * sizeof *grads);
        if (ids) bench_log_uniform_ids(rng, ids, nids, V);
        rc = dist_barrier(w, e);
        double t0 = lm_sys_now();
        for (int i = 0; i < inner && rc == 0; i++) {
            if (ids) rc = dist_grad_sync_tokens(gs, ids, nids, e);
            /* with DIST_GS_OVERLAP: the head's rows in 8 ranges, as the
             * fused head announces them (else these do nothing) */
            for (int g = 0; g < 8 && rc == 0; g++) dist_grad_sync_on_head_rows(gs, V * g / 8, V * (g + 1) / 8);
            if (rc == 0) dist_grad_sync_on_head_grads(gs);
            if (rc == 0) rc = dist_grad_sync_finish(gs, e);
        }
        if (r >= 0) t[r] = (lm_sys_now() - t0) / inner;
    }
    if (rc == 0) rc = bench_median_slowest(w, t, f->reps, med, e);
    free(t);
    return rc;
}

/* Least squares of t = a + b x in two stages: the slope b by ordinary least
 * squares over all sizes (the large messages weigh most: they are what a
 * step sends), then the intercept a with b fixed, weighted by relative error
 * (1/t^2), over the latency-bound sizes (b x <= t/2; measured curves bend,
 * so the bandwidth term must not swamp the intercept). Mapped to the ring
 * model's alpha and beta for p ranks. When no size is latency-bound (the
 * smallest message is quick next to the slope: fast shared memory), a is
 * taken as t/2 of the smallest size, an upper bound, and 1 is returned.
 * -1 unless both come out positive (times that do not grow with size: a
 * starved host). */
static int fit_ring(const double *bytes, const double *t, int k, int p, ar_model *m) {
    double mx = 0, mt = 0, sxx = 0, sxt = 0, sw = 0, swr = 0;
    for (int i = 0; i < k; i++) mx += bytes[i] / k, mt += t[i] / k;
    for (int i = 0; i < k; i++) {
        sxx += (bytes[i] - mx) * (bytes[i] - mx);
        sxt += (bytes[i] - mx) * (t[i] - mt);
    }
    if (k < 2 || sxx <= 0) return -1;
    double b = sxt / sxx;
    for (int i = 0; i < k; i++) {
        if (b * bytes[i] > 0.5 * t[i]) continue;
        double wi = 1.0 / (t[i] * t[i]);
        sw += wi, swr += wi * (t[i] - b * bytes[i]);
    }
    double a = sw > 0 ? swr / sw : 0.5 * t[0];
    m->alpha = a / (2.0 * (p - 1));
    m->beta = b / (2.0 * (p - 1) / p);
    return a > 0 && b > 0 ? (sw > 0 ? 0 : 1) : -1;
}

/* Part 1: K dense allreduces from 64 floats to nmax floats; fills *m and
 * prints measured against fitted. */
static int fit_part(const dist_world *w, size_t nmax, const ar_flags *f, ar_model *m,
                    lm_err *e) {
    int k = f->sizes, p = w->size, rc = 0;
    float *g = malloc(nmax * sizeof *g);
    double *bytes = malloc((size_t)k * sizeof *bytes), *t = malloc((size_t)k * sizeof *t);
    if (!g || !bytes || !t) rc = lm_err_set(e, "out of memory (%zu floats)", nmax);
    for (int i = 0; i < k && rc == 0; i++) {
        double x = k == 1 ? 1.0 : (double)i / (k - 1);
        size_t n = (size_t)llround(64.0 * pow((double)nmax / 64.0, x));
        dist_grad_layout L = {n, n - 1, n - 1, 1, 1, 0};
        dist_grad_sync *gs = dist_grad_sync_create(w, g, &L, DIST_GS_DENSE_EMB, e);
        if (!gs) rc = -1;
        int inner = n >= (1u << 18) ? 1 : n >= (1u << 14) ? 8 : 32;
        if (rc == 0) rc = time_exchange(w, gs, g, n, NULL, NULL, 0, 1, inner, f, &t[i], e);
        dist_grad_sync_free(gs);
        bytes[i] = 4.0 * (double)n;
    }
    int fit = rc == 0 ? fit_ring(bytes, t, k, p, m) : 0;
    if (fit < 0) rc = lm_err_set(e, "the fit failed: alpha %g s, beta %g s/byte are not both positive "
                         "(times do not grow with size: host too loaded?)", m->alpha, m->beta);
    if (rc == 0) {
        m->big_s = t[k - 1];
        m->beta_big = (t[k - 1] - 2.0 * (p - 1) * m->alpha) / (2.0 * (p - 1) / p * bytes[k - 1]);
    }
    if (rc == 0 && w->rank == 0) {
        printf("%14s %14s %12s %12s %8s\n", "floats", "bytes", "measured_ms", "model_ms", "ratio");
        for (int i = 0; i < k; i++) {
            double mo = ar_model_s(m, p, bytes[i]);
            printf("%14.0f %14.0f %12.4f %12.4f %8.2f\n", bytes[i] / 4, bytes[i], 1e3 * t[i],
                   1e3 * mo, t[i] / mo);
        }
        printf("model: t = 2(p-1)*alpha + 2(p-1)/p*bytes*beta, p = %d: alpha = %.2f us, "
               "beta = %.4f ns/byte (%.3f Gbit/s)\n",
               p, 1e6 * m->alpha, 1e9 * m->beta, 8e-9 / m->beta);
        if (fit == 1) printf("alpha: an upper bound (no size is latency-bound at this beta)\n");
        printf("largest message alone (%.0f bytes, %.3f ms): beta = %.4f ns/byte (%.3f Gbit/s)\n",
               bytes[k - 1], 1e3 * m->big_s, 1e9 * m->beta_big, 8e-9 / m->beta_big);
    }
    free(g), free(bytes), free(t);
    return rc;
}

/* Part 2: the train loop's exchange on the model mod (with grads). */
static int step_part(const dist_world *w, lm_model *mod, const ar_flags *f, const ar_model *m,
                     lm_err *e) {
    dist_grad_layout L = dist_grad_layout_of_model(mod);
    size_t nids = (size_t)f->B * f->T;
    int32_t *ids = malloc(nids * sizeof *ids);
    unsigned wire = !strcmp(f->wire, "bf16") ? DIST_GS_WIRE_BF16 : !strcmp(f->wire, "fp16") ? DIST_GS_WIRE_FP16 : 0;
    if (!strcmp(f->overlap, "on")) wire |= DIST_GS_OVERLAP; /* the head as one ring range from the hook */
    dist_grad_sync *gs = ids ? dist_grad_sync_create(w, mod->grads, &L, wire, e) : NULL;
    lm_rng rng;
    lm_rng_seed(&rng, (uint64_t)f->seed + (uint64_t)w->rank);
    double med = 0;
    int rc = gs ? 0 : -1;
    if (!ids) rc = lm_err_set(e, "out of memory");
    if (rc == 0) rc = time_exchange(w, gs, mod->grads, L.n, &rng, ids, nids, f->d.V, 1, f, &med, e);
    dist_grad_stats st;
    if (rc == 0) dist_grad_sync_stats(gs, &st);
    if (rc == 0 && w->rank == 0) {
        int p = w->size;
        double bitmap = 8.0 * (double)(((size_t)f->d.V + 63) / 64);
        double rows = st.sparse ? (double)st.union_rows * f->d.E : 0;
        double dense = st.sparse ? (double)L.emb : (double)L.n;
        double head = wire ? (double)L.head : 0; /* a 16-bit head goes alone, 2 bytes a value */
        double mo = ar_model_s(m, p, bitmap) + ar_model_s(m, p, 4 * (dense - head)) +
                    (wire ? ar_model_s(m, p, 2 * head) : 0) + (st.sparse ? ar_model_s(m, p, 4 * rows) : 0);
        char ring[64] = "";
        if (st.overlapped) snprintf(ring, sizeof ring, ", ring engine, %d ranges", st.ranges);
        printf("step: V=%d E=%d H=%d, %d x %d tokens per rank: dense %.0f floats (head+LSTM%s, head in %s%s), "
               "embedding %s (|U| = %ld rows, %.0f floats): measured %.3f ms, model %.3f ms\n",
               f->d.V, f->d.E, f->d.H, f->B, f->T, dense, st.sparse ? "" : "+embedding", f->wire,
               ring,
               st.sparse ? "sparse" : "dense", st.union_rows, rows, 1e3 * med, 1e3 * mo);
        json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:b, s:o, "
                              "s:o, s:s}",
                              "bench", "allreduce", "ranks", p, "vocab", f->d.V, "embed", f->d.E, "hidden", f->d.H,
                              "batch", f->B, "seq_len", f->T, "reps", f->reps, "alpha_us", io_json_real(1e6 * m->alpha),
                              "beta_ns_per_byte", io_json_real(1e9 * m->beta), "gbit_s", io_json_real(8e-9 / m->beta),
                              "big_ms", io_json_real(1e3 * m->big_s), "beta_big_ns_per_byte",
                              io_json_real(1e9 * m->beta_big), "step_dense_floats", (json_int_t)dense,
                              "step_union_rows", (json_int_t)st.union_rows, "step_sparse", st.sparse != 0, "step_ms",
                              io_json_real(1e3 * med), "step_model_ms", io_json_real(1e3 * mo), "wire", f->wire);
        io_json_write_line(stdout, o);
    }
    dist_grad_sync_free(gs);
    free(ids);
    return rc;
}

static int run(const dist_world *w, const ar_flags *f) {
    lm_err e = {{0}};
    ar_model m = {0, 0, 0, 0};
    lm_model mod;
    int rc = lm_model_init(&mod, f->d, 1, &e);
    if (rc == 0 && w->rank == 0)
        printf("bench allreduce: %d ranks, %d reps (median of the slowest rank), %d sizes\n",
               w->size, f->reps, f->sizes);
    /* The fit spans 256 bytes .. the step's dense part (head + LSTM). */
    if (rc == 0) rc = fit_part(w, dist_grad_layout_of_model(&mod).emb, f, &m, &e);
    if (rc == 0) rc = step_part(w, &mod, f, &m, &e);
    unsigned wire = !strcmp(f->wire, "bf16") ? DIST_GS_WIRE_BF16 : !strcmp(f->wire, "fp16") ? DIST_GS_WIRE_FP16 : 0;
    bench_overlap_cfg oc = {f->d, f->B, f->T, f->threads, f->chunk, f->reps, f->warmup, f->seed, wire};
    if (rc == 0 && !strcmp(f->overlap, "on")) rc = bench_overlap_part(w, &oc, &e);
    if (rc) {
        fprintf(stderr, "lyricmind bench allreduce: rank %d: %s\n", w->rank, e.msg);
        dist_world_abort(w, LM_EXIT_FAILURE);
    }
    lm_model_free(&mod);
    return LM_EXIT_OK;
}

int bench_allreduce_main(int argc, char **argv) {
    ar_flags f = {{50000, 64, 128}, 8, 30, 10, 2, 8, 1, "fp32", "off", 1, LM_HEAD_CHUNK_ROWS};
    cli_opt opts[] = {
        {"vocab", CLI_INT, &f.d.V, "N", "vocabulary size (V)", 2, 1 << 24, 0},
        {"embed", CLI_INT, &f.d.E, "N", "embedding size (E)", 1, 65536, 0},
        {"hidden", CLI_INT, &f.d.H, "N", "LSTM hidden size (H)", 1, 65536, 0},
        {"batch", CLI_INT, &f.B, "N", "sequences per rank per step (B)", 1, 1 << 20, 0},
        {"seq-len", CLI_INT, &f.T, "N", "tokens per sequence per step (T)", 1, 1 << 20, 0},
        {"reps", CLI_INT, &f.reps, "N", "timed repetitions per figure", 1, 100000, 0},
        {"warmup", CLI_INT, &f.warmup, "N", "untimed repetitions before timing", 0, 100000, 0},
        {"sizes", CLI_INT, &f.sizes, "K", "message sizes for the fit (256 B .. the dense step)", 2, 64, 0},
        {"seed", CLI_LONG, &f.seed, "S", "seed of the token ids", 0, 0, 0},
        {"wire-dtype", CLI_STR, &f.wire, "TYPE", "fp32, bf16 or fp16: the head's format in the step (as train)", 0, 0, 0},
        {"overlap", CLI_STR, &f.overlap, "WHEN", "off, or on: the step through the overlap engine, then real training "
                                                 "windows: compute alone, blocking and overlapped exchange", 0, 0, 0},
        {"threads", CLI_INT, &f.threads, "N", "--overlap on: threads of the step, as train --threads", 1, 1024, 0},
        {"chunk", CLI_INT, &f.chunk, "ROWS", "--overlap on: rows of logits per output-layer pass (train: 256)", 1, 1 << 20, 0},
        {0},
    };
    cli_cmd cmd = {"bench allreduce", "[options]   (under mpirun/srun, 2 or more ranks)",
                   "Times the per-step gradient exchange over this world's network: dense "
                   "allreduces of several sizes, fitted to the ring model t = 2(p-1) alpha + "
                   "2(p-1)/p bytes beta (alpha: latency, beta: seconds per byte), then the "
                   "train loop's exchange (token bitmap, dense head and LSTM, sparse embedding "
                   "rows) for the given sizes against the model. With --overlap on the step goes "
                   "through the overlap engine, and real training windows of the given sizes "
                   "are timed alone, with the blocking exchange and with the overlapped one "
                   "(exposed communication = step - compute). Rank 0 prints a table, the "
                   "model line, the step line and one JSON line (--overlap on: an overlap "
                   "line and a second JSON line).",
                   opts};
    dist_world w;
    lm_err e = {{0}};
    if (dist_world_init(&w, &argc, &argv, &e)) {
        fprintf(stderr, "lyricmind bench allreduce: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
    if (rc == CLI_OK && strcmp(f.wire, "fp32") && strcmp(f.wire, "bf16") && strcmp(f.wire, "fp16"))
        rc = cli_error(&cmd, "--wire-dtype must be fp32, bf16 or fp16, got '%s'", f.wire);
    if (rc == CLI_OK && strcmp(f.overlap, "off") && strcmp(f.overlap, "on"))
        rc = cli_error(&cmd, "--overlap must be off or on, got '%s'", f.overlap);
    if (rc == CLI_OK && w.size < 2)
        rc = cli_error(&cmd, "needs 2 or more ranks (run it under mpirun or srun)");
    rc = rc == CLI_OK ? run(&w, &f) : rc == CLI_HELP ? LM_EXIT_OK : LM_EXIT_USAGE;
    dist_world_finalize(&w);
    return rc;
}
