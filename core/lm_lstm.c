/* lm_lstm: one LSTM layer over a window, forward and full BPTT backward.
 *
 * Layout is batch-major [B,T,*]; the time slice t of a [B,T,C] array is the
 * [B,C] matrix starting at offset t*C with leading dimension T*C, which is
 * how the per-step GEMMs address it. Invariants: the forward copies h0/c0
 * into hprev/cprev[:,0] before writing hT/cT, so they may alias; the
 * backward never reads hT/cT and stops at the window edge (no d h0, d c0).
 *
 * The recurrence is split over fixed groups of LM_LSTM_ROWS sequences (rows
 * of the batch): each group's per-step GEMMs and cell updates depend only on
 * its own rows, so the groups run on up to `threads` threads (lm_par) with
 * the same calls, hence the same bits, for every thread count.
 *
 * The per-step products ([4 rows,H] x [H,4H] forward, [4 rows,4H] x [4H,H]
 * backward) are too small for BLAS, which packs all of W_hh on every call
 * (each group its own copy, so threads scaled 1.5x): with k->wt every
 * product runs on lm_gemm's microkernels, W_hh and W_ih packed once per
 * window (forward and backward each pack W_hh their way). */
#include <cblas.h>
#include <string.h>

#include "lm_gemm.h"
#include "lm_layers.h"
#include "lm_par.h"
#include "lm_vmath.h"

#define LM_LSTM_ROWS 4

static int row_groups(int B) { return (B + LM_LSTM_ROWS - 1) / LM_LSTM_ROWS; }

int lm_lstm_packed_ok(int H) { return H > 0 && H % LM_GEMM_NR == 0; }

static const float *packed_w(const lm_lstm_cache *k, int H) {
    return k->wt && lm_lstm_packed_ok(H) ? k->wt : NULL;
}

/* What a group of rows needs from the window (forward and backward). */
typedef struct {
    lm_lstm_cache *k;
    float *hs, *hT, *cT, *dh_next, *dc_next;
    const float *w_hh, *b, *dhs;
    const float *wt; /* k->wt when packed (lm_lstm_packed_ok), else NULL: BLAS */
    int B, T, H;
    void (*progress)(void *ctx); /* backward: after each step of group 0 */
    void *pctx;
    const float *x, *w_ih; /* forward: the input projection of the group's rows */
    int E;
} lstm_job;

void lm_lstm_cell_forward(float *g, const float *b, const float *cp, float *c,
                          float *tc, float *h, int H) {
    for (int j = 0; j < 4 * H; j++) g[j] += b[j];
    lm_vsigmoid(g, 2 * (size_t)H);                  /* i, f */
    lm_vtanh(g + 2 * H, (size_t)H);                 /* g */
    lm_vsigmoid(g + 3 * H, (size_t)H);              /* o */
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    for (int j = 0; j < H; j++) tc[j] = c[j] = gf[j] * cp[j] + gi[j] * gg[j];
    lm_vtanh(tc, (size_t)H);
    for (int j = 0; j < H; j++) h[j] = go[j] * tc[j];
}

/* The time loop of rows [g R, g R + R): per step the recurrent GEMM of these
 * rows, then their cell updates. */
static void forward_rows(void *ctx, int g) {
    const lstm_job *j = ctx;
    lm_lstm_cache *k = j->k;
    const int T = j->T, H = j->H, G = 4 * H, b0 = g * LM_LSTM_ROWS;
    const int nb = j->B - b0 < LM_LSTM_ROWS ? j->B - b0 : LM_LSTM_ROWS;
    /* input projection of these rows' nb*T steps: gates = x W_ih^T ([nb T,E] x [E,4H]) */
    const float *x = j->x + (size_t)b0 * T * j->E;
    if (j->wt)
        lm_gemm_packed(k->gates + (size_t)b0 * T * G, (size_t)G, x, (size_t)j->E, 1,
                       j->wt + (size_t)G * H, (size_t)nb * T, (size_t)G, (size_t)j->E, 0);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb * T, G, j->E, 1.0f, x, j->E,
                    j->w_ih, j->E, 0.0f, k->gates + (size_t)b0 * T * G, G);
    for (int t = 0; t < T; t++) {
        /* gates[:,t] += hprev[:,t] W_hh^T   ([nb,H] x [H,4H]) */
        const float *hp = k->hprev + ((size_t)b0 * T + t) * H;
        float *gt = k->gates + ((size_t)b0 * T + t) * G;
        if (j->wt)
            lm_gemm_packed(gt, (size_t)T * G, hp, (size_t)T * H, 1, j->wt, (size_t)nb, (size_t)G,
                           (size_t)H, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, G, H, 1.0f, hp, T * H,
                        j->w_hh, H, 1.0f, gt, T * G);
        for (int bb = b0; bb < b0 + nb; bb++) {
            size_t r = (size_t)bb * T + t; /* row (b,t) */
            float *h = j->hs + r * H;
            float *c = t + 1 < T ? k->cprev + (r + 1) * H : j->cT + (size_t)bb * H;
            lm_lstm_cell_forward(k->gates + r * G, j->b, k->cprev + r * H, c,
                                 k->tc + r * H, h, H);
            if (t + 1 < T)
                memcpy(k->hprev + (r + 1) * H, h, sizeof(float) * H);
            else
                memcpy(j->hT + (size_t)bb * H, h, sizeof(float) * H);
        }
    }
}

void lm_lstm_forward_threads(float *hs, lm_lstm_cache *k, float *hT, float *cT,
                             const float *x, const float *w_ih, const float *w_hh,
                             const float *b, const float *h0, const float *c0, int B,
                             int T, int E, int H, int threads, lm_par_pool *pool) {
    for (int bb = 0; bb < B; bb++) {
        memcpy(k->hprev + (size_t)bb * T * H, h0 + (size_t)bb * H, sizeof(float) * H);
        memcpy(k->cprev + (size_t)bb * T * H, c0 + (size_t)bb * H, sizeof(float) * H);
    }
    const float *wt = packed_w(k, H);
    const size_t G = 4 * (size_t)H;
    if (wt) { /* B(h, g) = W_hh[g][h], then B(e, g) = W_ih[g][e] */
        lm_gemm_pack_b(k->wt, w_hh, 1, (size_t)H, G, G, (size_t)H);
        lm_gemm_pack_b(k->wt + G * H, w_ih, 1, (size_t)E, G, G, (size_t)E);
    }
    lstm_job j = {k, hs, hT, cT, NULL, NULL, w_hh, b, NULL, wt, B, T, H, NULL, NULL, x, w_ih, E};
    lm_par_run_on(pool, forward_rows, &j, row_groups(B), threads);
}

void lm_lstm_forward(float *hs, lm_lstm_cache *k, float *hT, float *cT,
                     const float *x, const float *w_ih, const float *w_hh,
                     const float *b, const float *h0, const float *c0, int B,
                     int T, int E, int H) {
    lm_lstm_forward_threads(hs, k, hT, cT, x, w_ih, w_hh, b, h0, c0, B, T, E, H, 1, NULL);
}

/* One cell's backward: g [4H] (activated gates) becomes d pre-activation;
 * dhn, dcn [H] carry d h and d c from step t+1 to t. */
static void cell_backward(float *g, const float *dh_out, const float *tc, const float *cp,
                          float *dhn, float *dcn, int H) {
    for (int j = 0; j < H; j++) {
        float i = g[j], f = g[H + j], gt = g[2 * H + j], o = g[3 * H + j];
        float dh = dh_out[j] + dhn[j];
        float dc = dcn[j] + dh * o * (1.0f - tc[j] * tc[j]);
        dcn[j] = dc * f;
        g[j] = dc * gt * i * (1.0f - i);
        g[H + j] = dc * cp[j] * f * (1.0f - f);
        g[2 * H + j] = dc * i * (1.0f - gt * gt);
        g[3 * H + j] = dh * tc[j] * o * (1.0f - o);
    }
}

/* BPTT of rows [g R, g R + R): per step back their cell backward, then the
 * GEMM d h_{t-1} = dpre[:,t] W_hh of these rows ([nb,4H] x [4H,H]). */
static void backward_rows(void *ctx, int g) {
    const lstm_job *j = ctx;
    lm_lstm_cache *k = j->k;
    const int T = j->T, H = j->H, G = 4 * H, b0 = g * LM_LSTM_ROWS;
    const int nb = j->B - b0 < LM_LSTM_ROWS ? j->B - b0 : LM_LSTM_ROWS;
    for (int t = T - 1; t >= 0; t--) {
        for (int bb = b0; bb < b0 + nb; bb++) {
            size_t r = (size_t)bb * T + t;
            cell_backward(k->gates + r * G, j->dhs + r * H, k->tc + r * H, k->cprev + r * H,
                          j->dh_next + (size_t)bb * H, j->dc_next + (size_t)bb * H, H);
        }
        const float *dp = k->gates + ((size_t)b0 * T + t) * G;
        float *dn = j->dh_next + (size_t)b0 * H;
        if (t > 0 && j->wt) /* none into h0 */
            lm_gemm_packed(dn, (size_t)H, dp, (size_t)T * G, 1, j->wt, (size_t)nb, (size_t)H,
                           (size_t)G, 0);
        else if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, H, G, 1.0f, dp, T * G,
                        j->w_hh, H, 0.0f, dn, H);
        if (g == 0 && j->progress) j->progress(j->pctx); /* part 0 runs on the caller */
    }
}

/* The backward's products after BPTT, from dpre [N,4H] (the gates array):
 * part 0 dW_hh [4H,H] = dpre^T hprev; 1 dW_ih [4H,E] = dpre^T x; 2 db [4H]
 * = column sums of dpre (rows in order); 3 dx [N,E] = dpre W_ih. Each is
 * computed whole by one thread, the same calls whatever the thread count;
 * in this order, 2 threads get about equal FLOPs (dW_hh + db, dW_ih + dx). */
typedef struct {
    const float *dpre, *x, *hprev, *w_ih;
    float *dx, *dw_ih, *dw_hh, *db;
    int N, E, H;
    int own_h, own_e; /* lm_gemm for the products H wide, and E wide */
} grads_job;

static void weight_grads(void *ctx, int part) {
    const grads_job *j = ctx;
    const size_t N = (size_t)j->N, E = (size_t)j->E, H = (size_t)j->H, G = 4 * H;
    if (part == 0 && j->own_h)
        lm_gemm_strided(j->dw_hh, H, j->dpre, 1, G, j->hprev, H, G, H, N, 0);
    else if (part == 0)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)G, (int)H, (int)N, 1.0f, j->dpre,
                    (int)G, j->hprev, (int)H, 0.0f, j->dw_hh, (int)H);
    else if (part == 1 && j->own_e)
        lm_gemm_strided(j->dw_ih, E, j->dpre, 1, G, j->x, E, G, E, N, 0);
    else if (part == 1)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)G, (int)E, (int)N, 1.0f, j->dpre,
                    (int)G, j->x, (int)E, 0.0f, j->dw_ih, (int)E);
    else if (part == 2) {
        memset(j->db, 0, sizeof(float) * G);
        for (size_t n = 0; n < N; n++)
            for (size_t jj = 0; jj < G; jj++) j->db[jj] += j->dpre[n * G + jj];
    } else if (j->own_e)
        lm_gemm_strided(j->dx, E, j->dpre, G, 1, j->w_ih, E, N, E, G, 0);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)E, (int)G, 1.0f, j->dpre,
                    (int)G, j->w_ih, (int)E, 0.0f, j->dx, (int)E);
}

void lm_lstm_backward_progress(float *dx, float *dw_ih, float *dw_hh, float *db,
                               const float *dhs, lm_lstm_cache *k, const float *x,
                               const float *w_ih, const float *w_hh, float *scratch,
                               int B, int T, int E, int H, int threads, lm_par_pool *pool,
                               void (*progress)(void *ctx), void *ctx) {
    memset(scratch, 0, sizeof(float) * 2 * B * H);
    const float *wt = packed_w(k, H);
    /* B(g, h) = W_hh[g][h] */
    if (wt) lm_gemm_pack_b(k->wt, w_hh, (size_t)H, 1, (size_t)H, (size_t)H, 4 * (size_t)H);
    lstm_job j = {k, NULL, NULL, NULL, scratch, scratch + (size_t)B * H, w_hh, NULL, dhs, wt, B, T, H,
                  progress, ctx, NULL, NULL, E};
    lm_par_run_on(pool, backward_rows, &j, row_groups(B), threads);
    if (progress) progress(ctx);
    grads_job gj = {k->gates, x, k->hprev, w_ih, dx, dw_ih, dw_hh, db, B * T, E, H, wt != NULL,
                    wt && E % LM_GEMM_NR == 0};
    lm_par_run_on(pool, weight_grads, &gj, 4, threads);
    if (progress) progress(ctx);
}

void lm_lstm_backward_threads(float *dx, float *dw_ih, float *dw_hh, float *db,
                              const float *dhs, lm_lstm_cache *k, const float *x,
                              const float *w_ih, const float *w_hh, float *scratch,
                              int B, int T, int E, int H, int threads, lm_par_pool *pool) {
    lm_lstm_backward_progress(dx, dw_ih, dw_hh, db, dhs, k, x, w_ih, w_hh, scratch, B, T, E, H, threads,
                              pool, NULL, NULL);
}

void lm_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db,
                      const float *dhs, lm_lstm_cache *k, const float *x,
                      const float *w_ih, const float *w_hh, float *scratch,
                      int B, int T, int E, int H) {
    lm_lstm_backward_threads(dx, dw_ih, dw_hh, db, dhs, k, x, w_ih, w_hh, scratch, B, T, E, H, 1, NULL);
}
