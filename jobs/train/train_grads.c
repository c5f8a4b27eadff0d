/* train_grads: the forward and backward of one optimizer step: its K
 * windows (--accumulate K) read, trained in order with the LSTM state
 * carried from one to the next, their gradients summed into model.grads,
 * and the gradient exchange started from the backward's hooks (the output
 * layer's rows sent as they become final when overlap is on: --overlap,
 * docs/dist.md). The loop (train_loop.c) finishes the exchange. */
#include <string.h>

#include "io_vocab.h"
#include "train_loop.h"

/* Gradient accumulation (--accumulate K): window j of an optimizer step adds
 * its gradient into acc; the last window's hooks add acc's head rows (and
 * then the rest of the head) before their exchange may start, and the rest
 * is added after its backward. So grads = g_K + (g_1 + ... + g_{K-1}),
 * summed in that order on every rank. */
typedef struct accum_hook {
    dist_grad_sync *gs;
    float *grads, *acc;
    size_t head, row; /* row: floats per fc.weight row */
    size_t added;     /* [0, added) of acc is in grads */
    int ran;
} accum_hook;

static void add_into(float *restrict dst, const float *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

static void accum_upto(accum_hook *a, size_t hi) {
    add_into(a->grads + a->added, a->acc + a->added, hi - a->added);
    a->added = hi;
}

static void accum_on_rows(void *ctx, int row0, int row1) {
    accum_hook *a = ctx;
    accum_upto(a, (size_t)row1 * a->row);
    dist_grad_sync_on_head_rows(a->gs, row0, row1);
}

static void accum_on_head(void *ctx) {
    accum_hook *a = ctx;
    accum_upto(a, a->head);
    a->ran = 1;
    dist_grad_sync_on_head_grads(a->gs);
}

static void accum_on_progress(void *ctx) { dist_grad_sync_progress(((accum_hook *)ctx)->gs); }

/* The options of window j of K: dropout masks per (seed, window, stream)
 * (K = 1: window = global step); on the last window the hooks that start
 * the exchange, through hk when K > 1 so that acc is added first. */
static lm_step_opts window_opts(const train_ctx *t, const train_loop *lp, int j, accum_hook *hk, lm_rng *drop) {
    const train_config *c = t->cfg;
    const int K = lp->K, last = j == K - 1;
    uint64_t w = (uint64_t)t->rs.global_step * (uint64_t)K + (uint64_t)j;
    lm_rng_seed2(drop, t->rs.seed ^ 0xd50f0a7ULL, (w << 24) + (uint64_t)t->first);
    lm_step_opts o = {c->dropout, drop, IO_TOK_PAD, 1.0f / (float)((double)t->G * t->T * K),
                      !last || !lp->gs ? NULL : K > 1 ? accum_on_head : dist_grad_sync_on_head_grads,
                      K > 1 ? (void *)hk : (void *)lp->gs, c->threads, NULL, NULL, t->pool};
    if (last && lp->overlap) { /* the rows go out while the rest of the backward runs */
        o.on_head_rows = K > 1 ? accum_on_rows : dist_grad_sync_on_head_rows;
        o.on_progress = K > 1 ? accum_on_progress : dist_grad_sync_on_progress;
    }
    return o;
}

/* Windows k*K .. k*K+K-1 of the plan, in order (the data order is that of
 * K = 1; K only groups the windows). Leaves the loss-scaled gradient sum of
 * the K windows in model.grads. */
void train_step_grads(train_ctx *t, train_loop *lp, long k, double *loss_sum, long *ntok) {
    const int K = lp->K;
    size_t bt = (size_t)t->B * t->T, bh = (size_t)t->B * t->dims.H, n = t->model.n_params;
    lm_err e = {{0}};
    for (int j = 0; j < K; j++)
        if (train_plan_batch(&lp->plan, k * K + j, t->first, t->B, lp->in + j * bt, lp->tg + j * bt, &e))
            train_fatal(t, &e);
    if (lp->gs && dist_grad_sync_tokens(lp->gs, lp->in, (size_t)K * bt, &e)) train_fatal(t, &e);
    dist_grad_layout L = dist_grad_layout_of_model(&t->model);
    accum_hook hk = {lp->gs, t->model.grads, lp->acc, L.head, L.row, 0, 0};
    float *acc = lp->acc;
    for (int j = 0; j < K; j++) {
        if (t->rs.state_mode == TRAIN_STATE_RESET) {
            memset(t->h, 0, bh * sizeof *t->h);
            memset(t->c, 0, bh * sizeof *t->c);
        }
        lm_rng drop;
        lm_step_opts o = window_opts(t, lp, j, &hk, &drop);
        double ls = 0;
        long nt = 0;
        if (lm_model_train_window(&t->model, t->acts, t->B, t->T, lp->in + j * bt, lp->tg + j * bt, t->h, t->c,
                                  &o, &ls, &nt)) {
            lm_err_set(&e, "%s: token id out of range for V=%d in the training batch", t->cfg->data, t->dims.V);
            train_fatal(t, &e);
        }
        *loss_sum += ls;
        *ntok += nt;
        if (K == 1) break;
        if (j == 0) memcpy(acc, t->model.grads, n * sizeof *acc);
        else if (j < K - 1) add_into(acc, t->model.grads, n);
        else if (hk.ran) add_into(t->model.grads + hk.head, acc + hk.head, n - hk.head);
        else add_into(t->model.grads, acc, n);
    }
}
