/* test_head_hooks: the window's optional hooks for overlapping the gradient
 * exchange with the backward (lm_step_opts.on_head_rows, on_progress).
 *
 * Each case runs the same window twice on the same model: without hooks
 * (the reference gradients) and with them, on 1 and 2 threads. The rows hook
 * must cover [0, V) exactly once in increasing order, every announced range
 * must already hold its final values at the moment of the call (compared
 * with the reference), all of it before on_head_grads; progress must be
 * called; and loss and all gradients must be bitwise the reference's. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lm_layers.h"
#include "lm_model.h"
#include "lm_rng.h"

typedef struct rows_ctx {
    const lm_model *m;
    const float *ref; /* the gradients of the run without hooks */
    int next;         /* the next row the hook must start at */
    int calls, progress, bad_final, bad_order, head_grads_at;
} rows_ctx;

static void on_rows(void *ctx, int row0, int row1) {
    rows_ctx *r = ctx;
    r->calls++;
    if (row0 != r->next || row1 <= row0 || row1 > r->m->d.V) r->bad_order++;
    size_t H = (size_t)r->m->d.H;
    if (row1 > row0 && memcmp(r->m->g_fc_w + (size_t)row0 * H, r->ref + (size_t)row0 * H,
                              (size_t)(row1 - row0) * H * sizeof(float)))
        r->bad_final++;
    r->next = row1;
}

static void on_progress(void *ctx) { ((rows_ctx *)ctx)->progress++; }

/* on_head_grads comes after the last rows; fc.bias is final by then. */
static void on_head(void *ctx) {
    rows_ctx *r = ctx;
    r->head_grads_at = r->next;
    if (memcmp(r->m->g_fc_b, r->ref + r->m->info[LM_P_FC_B].offset, sizeof(float) * r->m->d.V))
        r->bad_final++;
}

/* One window of B x T with dropout, from a zero state, with the given opts
 * (the dropout stream reseeded, so both runs draw the same masks). */
static double window(lm_model *m, lm_acts *a, int B, int T, const int32_t *in, const int32_t *tgt,
                     lm_step_opts *o) {
    float *h = calloc((size_t)B * m->d.H, sizeof *h), *c = calloc((size_t)B * m->d.H, sizeof *c);
    lm_rng drop;
    lm_rng_seed(&drop, 99);
    o->rng = &drop;
    double loss = 0;
    long n = 0;
    cr_assert_eq(lm_model_train_window(m, a, B, T, in, tgt, h, c, o, &loss, &n), 0);
    free(h), free(c);
    return loss;
}

/* V, H: H % 32 == 0 takes the fused head, else the BLAS one; chunk rows of
 * logits per pass (several chunks: rows are final only in the last). */
static void check_case(int V, int H, int B, int T, int chunk) {
    lm_model m;
    lm_rng r;
    cr_assert_eq(lm_model_init(&m, (lm_dims){V, 8, H}, 1, NULL), 0);
    lm_rng_seed(&r, 5);
    lm_model_init_weights(&m, &r);
    int N = B * T;
    int32_t *in = malloc(sizeof(int32_t) * N), *tgt = malloc(sizeof(int32_t) * N);
    for (int i = 0; i < N; i++) in[i] = (int32_t)lm_rng_below(&r, (uint64_t)V);
    for (int i = 0; i < N; i++) tgt[i] = i % 7 == 3 ? 0 : (int32_t)lm_rng_below(&r, (uint64_t)V);
    lm_acts *a = lm_acts_create_chunked(m.d, B, T, chunk);
    cr_assert(a);
    lm_step_opts plain = {.dropout = 0.2f, .pad_id = 0, .loss_scale = 0.05f};
    double ref_loss = window(&m, a, B, T, in, tgt, &plain);
    float *ref = malloc(sizeof(float) * m.n_params);
    memcpy(ref, m.grads, sizeof(float) * m.n_params);
    for (int threads = 1; threads <= 2; threads++) {
        rows_ctx rc = {&m, ref, 0, 0, 0, 0, 0, -1};
        memset(m.grads, 0xff, sizeof(float) * m.n_params); /* NaNs: nothing stale can pass */
        lm_step_opts o = {.dropout = 0.2f, .pad_id = 0, .loss_scale = 0.05f, .on_head_grads = on_head,
                          .ctx = &rc, .threads = threads, .on_head_rows = on_rows,
                          .on_progress = on_progress};
        double loss = window(&m, a, B, T, in, tgt, &o);
        cr_expect(rc.bad_order == 0 && rc.next == V, "V %d H %d chunk %d threads %d: rows out of order "
                  "(%d bad, ended at %d)", V, H, chunk, threads, rc.bad_order, rc.next);
        cr_expect(rc.bad_final == 0, "V %d H %d threads %d: %d ranges not final when announced", V, H, threads,
                  rc.bad_final);
        cr_expect_eq(rc.head_grads_at, V, "on_head_grads before the last rows (at %d)", rc.head_grads_at);
        cr_expect(rc.progress > 0, "no progress calls");
        if (lm_head_fused_ok(H))
            cr_expect(rc.calls >= (threads == 1 ? 2 : 1), "fused head: %d rows calls", rc.calls);
        else
            cr_expect_eq(rc.calls, 1, "BLAS head: one rows call, got %d", rc.calls);
        cr_expect(loss == ref_loss, "threads %d: loss %.17g vs %.17g", threads, loss, ref_loss);
        cr_expect(!memcmp(m.grads, ref, sizeof(float) * m.n_params), "V %d H %d chunk %d threads %d: "
                  "gradients differ from the run without hooks", V, H, chunk, threads);
    }
    free(ref), free(in), free(tgt);
    lm_acts_free(a);
    lm_model_free(&m);
}

/* 3,000 rows: 12 blocks of 256 (the last partial) in 8 groups of 1-2. */
Test(head_hooks, fused_head_one_chunk) { check_case(3000, 32, 4, 5, 0); }

/* Several chunks of rows: the rows become final in the last one only. */
Test(head_hooks, fused_head_three_chunks) { check_case(3000, 64, 4, 5, 8); }

/* Fewer blocks than groups (V < 8 x 256): empty groups announce nothing. */
Test(head_hooks, fused_head_few_blocks) { check_case(700, 32, 2, 3, 0); }

/* H % 32 != 0: the BLAS head announces [0, V) once, at its end. */
Test(head_hooks, blas_head) { check_case(500, 20, 3, 4, 0); }
