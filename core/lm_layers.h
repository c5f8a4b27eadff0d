/* lm_layers: forward/backward pairs of the model's layers over plain float
 * arrays (llm.c style). lm_model.c chains them; the tests call them one by
 * one (finite differences, PyTorch reference).
 *
 * Shapes: B batch, T time, E embedding, H hidden, V vocabulary, N = B*T rows.
 * Every activation is batch-major and row-major: x[b,t,e] = x[(b*T+t)*E+e].
 * Conventions:
 * - *_backward functions OVERWRITE the weight gradients they produce (the
 *   caller owns accumulation across windows, if any), except
 *   lm_embedding_backward, which ADDS into its (sparse) gradient.
 * - Every matrix product is an OpenBLAS cblas_sgemm/sgemv, except those of
 *   lm_head_fused_forward_backward (lm_gemm.h).
 * - Nothing here allocates, prints or fails: sizes are the caller's promise. */
#ifndef LM_LAYERS_H
#define LM_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "lm_rng.h"

typedef struct lm_par_pool lm_par_pool; /* lm_par.h: where threads come from (NULL: per call) */

/* ---- embedding -------------------------------------------------------------
 * out [N,E] = emb[in[n], :];  in [N] ids in [0,V), emb [V,E]. */
void lm_embedding_forward(float *out, const int32_t *in, const float *emb,
                          int N, int E);
/* demb [V,E] += scatter of dout [N,E] into the rows in[n]. */
void lm_embedding_backward(float *demb, const float *dout, const int32_t *in,
                           int N, int E);

/* ---- LSTM (one layer, gates i, f, g, o as PyTorch) -------------------------
 *   pre_t = x_t W_ih^T + h_{t-1} W_hh^T + b        [B,4H]
 *   i, f, o = sigmoid(pre[i,f,o]); g = tanh(pre[g])
 *   c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
 * What the forward saves for the backward (all [B,T,*]): */
typedef struct lm_lstm_cache {
    float *gates; /* [B,T,4H] activated i,f,g,o; the backward overwrites it
                     with d loss / d pre (so a cache serves one backward) */
    float *hprev; /* [B,T,H] h_{t-1}, the state entering step t */
    float *cprev; /* [B,T,H] c_{t-1} */
    float *tc;    /* [B,T,H] tanh(c_t) */
    float *wt;    /* [4H*(H+E)] scratch for W_hh and W_ih packed once per
                     window, for lm_gemm's microkernels (lm_lstm_packed_ok);
                     NULL, or sizes not ok: every product goes through BLAS */
} lm_lstm_cache;

/* Whether hidden size H takes the own microkernels (H % 32 == 0; the
 * products whose width is E also need E % 32 == 0, else they use BLAS). */
int lm_lstm_packed_ok(int H);

/* x [B,T,E], w_ih [4H,E], w_hh [4H,H], b [4H], h0, c0 [B,H] -> hs [B,T,H],
 * final state hT, cT [B,H] (may alias h0, c0). One GEMM projects the input of
 * all B*T steps; each step adds one [B,H]x[H,4H] GEMM. */
void lm_lstm_forward(float *hs, lm_lstm_cache *k, float *hT, float *cT,
                     const float *x, const float *w_ih, const float *w_hh,
                     const float *b, const float *h0, const float *c0, int B,
                     int T, int E, int H);
/* Full BPTT over the window from dhs [B,T,H] (d loss / d h_t); no gradient
 * flows into h0, c0 (truncated BPTT) or out of hT, cT.
 * Writes dx [B,T,E], dw_ih [4H,E], dw_hh [4H,H], db [4H] (overwritten).
 * scratch holds 2*B*H floats. Consumes k->gates. */
void lm_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db,
                      const float *dhs, lm_lstm_cache *k, const float *x,
                      const float *w_ih, const float *w_hh, float *scratch,
                      int B, int T, int E, int H);
/* Both on up to `threads` threads: the recurrence runs in fixed groups of 4
 * sequences (rows of the batch), each group's work independent of the
 * others', so the results are bitwise the same for every thread count (and
 * for lm_lstm_forward/backward, which are threads = 1). */
void lm_lstm_forward_threads(float *hs, lm_lstm_cache *k, float *hT, float *cT,
                             const float *x, const float *w_ih, const float *w_hh,
                             const float *b, const float *h0, const float *c0, int B,
                             int T, int E, int H, int threads, lm_par_pool *pool);
void lm_lstm_backward_threads(float *dx, float *dw_ih, float *dw_hh, float *db,
                              const float *dhs, lm_lstm_cache *k, const float *x,
                              const float *w_ih, const float *w_hh, float *scratch,
                              int B, int T, int E, int H, int threads, lm_par_pool *pool);
/* The same, calling progress(ctx) (when not NULL) from the calling thread
 * after each timestep of its rows and after each weight-gradient GEMM, so a
 * caller can let MPI advance transfers in flight. Same results. */
void lm_lstm_backward_progress(float *dx, float *dw_ih, float *dw_hh, float *db,
                               const float *dhs, lm_lstm_cache *k, const float *x,
                               const float *w_ih, const float *w_hh, float *scratch,
                               int B, int T, int E, int H, int threads, lm_par_pool *pool,
                               void (*progress)(void *ctx), void *ctx);
/* One cell update for one sequence, shared by the window forward and token
 * generation: g [4H] holds pre - b on entry and the activated gates on exit;
 * cp [H] is c_{t-1}; writes c [H], tc = tanh(c) [H], h [H]. c may alias cp;
 * h must not alias g, cp or tc. */
void lm_lstm_cell_forward(float *g, const float *b, const float *cp, float *c,
                          float *tc, float *h, int H);

/* ---- dropout (inverted) ----------------------------------------------------
 * mask[i] = 0 with probability p, else 1/(1-p), drawn from rng in index
 * order; out = in * mask (out may alias in). p == 0 copies in (mask = 1). */
void lm_dropout_forward(float *out, float *mask, const float *in, size_t n,
                        float p, lm_rng *rng);
/* din = dout * mask (din may alias dout). */
void lm_dropout_backward(float *din, const float *dout, const float *mask,
                         size_t n);

/* ---- linear + softmax cross-entropy (the output layer) ---------------------
 * logits [N,V] = h [N,H] W^T + b;  W [V,H], b [V]. */
void lm_linear_forward(float *logits, const float *h, const float *w,
                       const float *b, int N, int H, int V);

/* Fused softmax + cross-entropy + gradient, one pass per row of z [N,V]:
 * with bias b [V] (NULL for none) added first, row n gets
 *   loss_n = logsumexp(z_n + b) - (z_n + b)[tgt[n]]
 *   z_n   <- scale * (softmax(z_n + b) - onehot(tgt[n]))   (d scale*loss/dz)
 *   db    += z_n  (if db != NULL)
 * Rows whose target is ignore_id (use -1 for none) get loss 0 and z_n = 0.
 * Returns the summed loss (double) and the number of counted rows. */
double lm_softmax_xent_forward_backward(float *z, const float *b,
                                        const int32_t *tgt, int N, int V,
                                        int ignore_id, float scale, float *db,
                                        long *count);
/* Loss only: z is used as scratch. Rows with tgt == ignore_id or
 * tgt == exclude_id (each -1 for none) are left out of the sum and count. */
double lm_softmax_xent_forward(float *z, const float *b, const int32_t *tgt,
                               int N, int V, int ignore_id, int exclude_id,
                               long *count);

/* The whole output layer over N rows, processed `chunk` rows at a time so
 * memory is chunk*V floats (scratch) whatever N is. Per chunk:
 *   Z = h W^T (GEMM) -> fused softmax/loss/grad in place -> dW += Z^T h,
 *   dh = Z W (GEMMs).
 * Writes dw [V,H], db [V], dh [N,H] (all overwritten). Returns the loss sum;
 * count as above. */
double lm_head_forward_backward(float *dw, float *db, float *dh,
                                const float *h, const int32_t *tgt,
                                const float *w, const float *b, int N, int H,
                                int V, int ignore_id, float scale,
                                float *scratch, int chunk, long *count);
/* The same output layer on lm_gemm's own microkernels with the softmax
 * fused over vocabulary blocks (lm_head_fused.c), for H a multiple of 32
 * (lm_head_fused_ok). Same contract and outputs as lm_head_forward_backward
 * up to float rounding; scratch holds lm_head_fused_scratch_floats(V, H,
 * chunk) floats. Runs on up to `threads` threads (fixed work groups: the
 * results are bitwise the same for every thread count). */
int lm_head_fused_ok(int H);
size_t lm_head_fused_scratch_floats(int V, int H, int chunk);
double lm_head_fused_forward_backward(float *dw, float *db, float *dh,
                                      const float *h, const int32_t *tgt,
                                      const float *w, const float *b, int N,
                                      int H, int V, int ignore_id, float scale,
                                      float *scratch, int chunk, int threads,
                                      long *count);
/* Optional callbacks of the fused head (all from the calling thread; any
 * may be NULL):
 * - on_rows(ctx, row0, row1): dw rows [row0, row1) are final (their sums
 *   are complete). Called only in the last chunk of rows (the only one after
 *   which rows can be final), in increasing row order, covering [0, V)
 *   exactly once per call of the head, after each wave of `threads` groups
 *   of vocabulary blocks. db is final only when the head returns.
 * - on_progress(ctx): often, after each vocabulary block the calling thread
 *   computes in pass 2 (a few hundred microseconds apart at the spec sizes).
 * With on_rows set, pass 2 runs its fixed groups in waves of `threads`
 * groups; the results are bitwise those without callbacks. */
typedef struct lm_head_hooks {
    void (*on_rows)(void *ctx, int row0, int row1);
    void (*on_progress)(void *ctx);
    void *ctx;
} lm_head_hooks;
double lm_head_fused_forward_backward_hooks(float *dw, float *db, float *dh,
                                            const float *h, const int32_t *tgt,
                                            const float *w, const float *b, int N,
                                            int H, int V, int ignore_id, float scale,
                                            float *scratch, int chunk, int threads,
                                            lm_par_pool *pool, const lm_head_hooks *hk,
                                            long *count);
/* Loss only, same chunking; see lm_softmax_xent_forward for the ids. */
double lm_head_forward(const float *h, const int32_t *tgt, const float *w,
                       const float *b, int N, int H, int V, int ignore_id,
                       int exclude_id, float *scratch, int chunk, long *count);

#endif
