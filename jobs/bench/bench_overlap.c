/* bench_overlap: the part of 'lyricmind bench allreduce --overlap on' that
 * times real training windows, to show how much of the gradient exchange
 * the overlap engine hides behind the backward (docs/scaling.md).
 *
 * Each rep runs three steps of B x T random (log-uniform) tokens per rank on
 * a model of the given sizes, in turn so that load drifts hit all three:
 *   compute:    the window alone (forward + backward, no exchange)
 *   blocking:   the window, then dist_grad_sync_finish (the head in finish)
 *   overlapped: the window with the rows/progress hooks (DIST_GS_OVERLAP),
 *               then finish
 * Exposed communication = step - compute (medians of the slowest rank);
 * wait = the time inside finish (dist_grad_stats.wait_s). A measurement,
 * not a test: nothing compares a figure with a target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_allreduce.h"
#include "bench_overlap.h"
#include "io_json.h"
#include "lm_rng.h"
#include "lm_sys.h"

enum { M_COMPUTE, M_BLOCKING, M_OVERLAP, M_COUNT };

typedef struct ov_state {
    const dist_world *w;
    const bench_overlap_cfg *f;
    lm_model m;
    lm_acts *a;
    int32_t *in, *tgt;
    float *h, *c;
    dist_grad_sync *gs[M_COUNT]; /* NULL for compute */
    lm_rng rng;
} ov_state;

/* One step of mode k; *step_s and *wait_s of this rank. */
static int one_step(ov_state *s, int k, double *step_s, double *wait_s, lm_err *e) {
    const bench_overlap_cfg *f = s->f;
    size_t n = (size_t)f->B * f->T, bh = (size_t)f->B * f->d.H;
    bench_log_uniform_ids(&s->rng, s->in, n, f->d.V);
    bench_log_uniform_ids(&s->rng, s->tgt, n, f->d.V);
    memset(s->h, 0, bh * sizeof *s->h);
    memset(s->c, 0, bh * sizeof *s->c);
    dist_grad_sync *gs = s->gs[k];
    lm_step_opts o = {0, NULL, -1, 1.0f / (float)((double)n * s->w->size), NULL, NULL, f->threads, NULL, NULL, NULL};
    if (gs) {
        o.ctx = gs;
        o.on_head_grads = dist_grad_sync_on_head_grads;
    }
    if (k == M_OVERLAP) {
        o.on_head_rows = dist_grad_sync_on_head_rows;
        o.on_progress = dist_grad_sync_on_progress;
    }
    if (dist_barrier(s->w, e)) return -1;
    double t0 = lm_sys_now(), loss;
    long cnt;
    if (gs && dist_grad_sync_tokens(gs, s->in, n, e)) return -1;
    if (lm_model_train_window(&s->m, s->a, f->B, f->T, s->in, s->tgt, s->h, s->c, &o, &loss, &cnt))
        return lm_err_set(e, "the training window failed");
    if (gs && dist_grad_sync_finish(gs, e)) return -1;
    *step_s = lm_sys_now() - t0;
    dist_grad_stats st = {0};
    if (gs) dist_grad_sync_stats(gs, &st);
    *wait_s = st.wait_s;
    return 0;
}

static void report(const ov_state *s, const double step[M_COUNT], const double wait[M_COUNT]) {
    const bench_overlap_cfg *f = s->f;
    double xb = step[M_BLOCKING] - step[M_COMPUTE], xo = step[M_OVERLAP] - step[M_COMPUTE];
    printf("overlap: V=%d E=%d H=%d, %d x %d tokens per rank, %d thread%s, head chunk %d rows%s: compute %.1f ms; "
           "blocking step %.1f ms (exposed %.1f, wait in finish %.1f); overlapped step %.1f ms (exposed %.1f, "
           "wait in finish %.1f): exposed %.0f%% of blocking\n",
           f->d.V, f->d.E, f->d.H, f->B, f->T, f->threads, f->threads == 1 ? "" : "s", f->chunk,
           f->wire ? ", 16-bit head" : "", 1e3 * step[0],
           1e3 * step[1], 1e3 * xb, 1e3 * wait[1], 1e3 * step[2], 1e3 * xo, 1e3 * wait[2],
           xb > 0 ? 100.0 * xo / xb : 0.0);
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                          "bench", "allreduce_overlap", "ranks", s->w->size, "vocab", f->d.V, "embed", f->d.E,
                          "hidden", f->d.H, "batch", f->B, "seq_len", f->T, "threads", f->threads, "chunk", f->chunk,
                          "compute_ms", io_json_real(1e3 * step[0]), "blocking_step_ms", io_json_real(1e3 * step[1]),
                          "blocking_exposed_ms", io_json_real(1e3 * xb), "blocking_wait_ms",
                          io_json_real(1e3 * wait[1]), "overlap_step_ms", io_json_real(1e3 * step[2]),
                          "overlap_exposed_ms", io_json_real(1e3 * xo), "overlap_wait_ms",
                          io_json_real(1e3 * wait[2]));
    io_json_write_line(stdout, o);
}

/* The reps, the three modes in turn in each; medians of the slowest rank. */
static int measure(ov_state *s, lm_err *e) {
    const bench_overlap_cfg *f = s->f;
    double *t = calloc(2 * M_COUNT * (size_t)f->reps, sizeof *t), step[M_COUNT], wait[M_COUNT];
    if (!t) return lm_err_set(e, "out of memory");
    int rc = 0;
    for (int r = -f->warmup; r < f->reps && rc == 0; r++)
        for (int k = 0; k < M_COUNT && rc == 0; k++) {
            double a = 0, b = 0;
            rc = one_step(s, k, &a, &b, e);
            if (r >= 0) t[(2 * k) * f->reps + r] = a, t[(2 * k + 1) * f->reps + r] = b;
        }
    for (int k = 0; k < M_COUNT && rc == 0; k++) {
        rc = bench_median_slowest(s->w, t + (2 * k) * f->reps, f->reps, &step[k], e);
        if (rc == 0) rc = bench_median_slowest(s->w, t + (2 * k + 1) * f->reps, f->reps, &wait[k], e);
    }
    if (rc == 0 && s->w->rank == 0) report(s, step, wait);
    free(t);
    return rc;
}

int bench_overlap_part(const dist_world *w, const bench_overlap_cfg *f, lm_err *e) {
    ov_state s;
    memset(&s, 0, sizeof s);
    s.w = w, s.f = f;
    if (lm_model_init(&s.m, f->d, 1, e)) return -1;
    lm_rng_seed(&s.rng, (uint64_t)f->seed);
    lm_model_init_weights(&s.m, &s.rng);
    lm_rng_seed(&s.rng, (uint64_t)f->seed + 1 + (uint64_t)w->rank);
    size_t n = (size_t)f->B * f->T, bh = (size_t)f->B * f->d.H;
    s.a = lm_acts_create_chunked(f->d, f->B, f->T, f->chunk);
    s.in = malloc(n * sizeof *s.in), s.tgt = malloc(n * sizeof *s.tgt);
    s.h = malloc(bh * sizeof *s.h), s.c = malloc(bh * sizeof *s.c);
    int rc = s.a && s.in && s.tgt && s.h && s.c ? 0 : lm_err_set(e, "out of memory (B %d, T %d)", f->B, f->T);
    dist_grad_layout L = dist_grad_layout_of_model(&s.m);
    unsigned wire = f->wire;
    if (rc == 0 && !(s.gs[M_BLOCKING] = dist_grad_sync_create(w, s.m.grads, &L, wire, e))) rc = -1;
    if (rc == 0 && !(s.gs[M_OVERLAP] = dist_grad_sync_create(w, s.m.grads, &L, wire | DIST_GS_OVERLAP, e))) rc = -1;
    if (rc == 0) rc = measure(&s, e);
    dist_grad_sync_free(s.gs[M_BLOCKING]);
    dist_grad_sync_free(s.gs[M_OVERLAP]);
    lm_acts_free(s.a);
    free(s.in), free(s.tgt), free(s.h), free(s.c);
    lm_model_free(&s.m);
    return rc;
}
