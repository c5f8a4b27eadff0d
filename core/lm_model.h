/* lm_model: the spec's model over one contiguous parameter buffer.
 *
 *   tokens [B,T] -> Embedding(V,E) -> LSTM(E->H, 1 layer, gates i,f,g,o)
 *   -> Dropout(p, inverted, training only) -> Linear(H->V) -> softmax CE
 *
 * Invariants:
 * - params and grads are each ONE float buffer of n_params (64-byte aligned);
 *   the named views below point into them. Tensor order in the buffer:
 *   fc.weight [V,H], fc.bias [V], lstm.weight_ih [4H,E], lstm.weight_hh [4H,H],
 *   lstm.bias [4H], embedding.weight [V,E]  (row-major, PyTorch names/shapes).
 *   The output layer comes first because its gradient is final first in the
 *   backward pass, so [0, info[LM_P_FC_B].offset + V) can be all-reduced
 *   while the LSTM backward still runs.
 * - lstm.bias is PyTorch's bias_ih + bias_hh.
 * - The loss is mean-free: functions return the SUM of token losses and the
 *   count of non-pad targets; the gradient is that of loss_scale * sum, so a
 *   data-parallel caller passes 1/global_count and PyTorch's mean is 1/count.
 * - Nothing here does I/O or MPI. */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "lm_rng.h"

typedef struct lm_par_pool lm_par_pool; /* lm_par.h */

typedef struct lm_dims {
    int V, E, H;
} lm_dims;

enum {
    LM_P_FC_W = 0, LM_P_FC_B, LM_P_W_IH, LM_P_W_HH, LM_P_LSTM_B, LM_P_EMB,
    LM_P_COUNT
};

typedef struct lm_param_info {
    const char *name; /* "fc.weight", ... as in PyTorch's state_dict */
    size_t offset;    /* in floats from the buffer start */
    int rows, cols;   /* cols == 0 for 1-D tensors */
} lm_param_info;

typedef struct lm_model {
    lm_dims d;
    size_t n_params;
    lm_param_info info[LM_P_COUNT];
    float *params; /* n_params */
    float *grads;  /* n_params, NULL for an inference-only model */
    /* views into params */
    float *fc_w, *fc_b, *w_ih, *w_hh, *lstm_b, *emb;
    /* optional fp16 copy of fc.weight for generation (lm_model_use_f16_head);
     * NULL: lm_model_step_token reads the fp32 weights */
    uint16_t *fc_w_f16;
    /* views into grads (NULL when grads is NULL) */
    float *g_fc_w, *g_fc_b, *g_w_ih, *g_w_hh, *g_lstm_b, *g_emb;
    int borrowed; /* params and grads are the caller's (lm_model_init_on) */
} lm_model;

/* Allocates (zeroed) buffers. with_grads = 0 for generation/eval. */
int lm_model_init(lm_model *m, lm_dims d, int with_grads, lm_err *e);
/* The same over the caller's buffers of lm_model_count_params(d) floats
 * each, 64-byte aligned (grads may be NULL), used as they are (not zeroed)
 * and never freed here: a node-shared parameter buffer (dist_shared). */
int lm_model_init_on(lm_model *m, lm_dims d, float *params, float *grads, lm_err *e);
void lm_model_free(lm_model *m);
size_t lm_model_count_params(lm_dims d);
/* PyTorch default init: embedding N(0,1); LSTM weights and both biases
 * U(-1/sqrt(H), 1/sqrt(H)) (lstm.bias = sum of two draws); Linear weight and
 * bias U(-1/sqrt(H), 1/sqrt(H)). */
void lm_model_init_weights(lm_model *m, lm_rng *rng);

/* Activations and scratch for windows of at most B x T tokens. The output
 * layer is processed in row chunks, so memory does not grow with B*T*V. */
typedef struct lm_acts lm_acts;
#define LM_HEAD_CHUNK_ROWS 256 /* default rows of logits alive at a time */
lm_acts *lm_acts_create(lm_dims d, int B, int T); /* NULL on OOM */
/* Same with an explicit chunk (rows of logits per output-layer pass);
 * chunk_rows <= 0 means the default. Memory: chunk_rows * V floats. */
lm_acts *lm_acts_create_chunked(lm_dims d, int B, int T, int chunk_rows);
void lm_acts_free(lm_acts *a);

typedef struct lm_step_opts {
    float dropout;     /* p in [0,1); 0 disables */
    lm_rng *rng;       /* dropout masks; unused when dropout == 0 */
    int pad_id;        /* targets == pad_id are ignored; -1 for none */
    float loss_scale;  /* gradient is d(loss_scale * sum of losses) */
    /* Called once, from the calling thread, as soon as the fc.weight/fc.bias
     * gradients are final (before the LSTM backward). May be NULL. */
    void (*on_head_grads)(void *ctx);
    void *ctx;
    /* Threads for the output layer (0 or 1: the calling thread only). The
     * results are bitwise the same for every value. */
    int threads;
    /* Optional (NULL: not called), both from the calling thread with ctx:
     * on_head_rows(ctx, row0, row1) as soon as fc.weight's gradient rows
     * [row0, row1) are final, in increasing row order, covering [0, V)
     * exactly once per window, all before on_head_grads (the fused head
     * announces up to 8 ranges during its last row chunk's backward; the
     * BLAS head one, [0, V), at its end). on_progress(ctx) often during the
     * head's backward (after each vocabulary block the calling thread
     * computes) and the LSTM backward (after each timestep), so that a
     * caller can let MPI move data meanwhile. The results are bitwise the
     * same with and without them. */
    void (*on_head_rows)(void *ctx, int row0, int row1);
    void (*on_progress)(void *ctx);
    /* Where the `threads` come from (lm_par.h): a pool the caller keeps for
     * its steps, or NULL (threads started per call). Same results. */
    lm_par_pool *pool;
} lm_step_opts;

/* Forward, loss and backward over one window.
 *   in, tgt: [B,T] token ids in [0,V)
 *   h, c:    [B,H] initial LSTM state, overwritten with the final state
 *            (truncated BPTT: no gradient flows into the initial state)
 * Overwrites m->grads (all of them). Writes the loss sum and non-pad count.
 * Returns 0, or -1 (touching nothing) when m has no grads, a's dims differ
 * from m's, B > a's B, T > a's T, an id is outside [0,V), or the dropout is
 * outside [0,1) or has no rng. */
int lm_model_train_window(lm_model *m, lm_acts *a, int B, int T,
                          const int32_t *in, const int32_t *tgt, float *h,
                          float *c, const lm_step_opts *o, double *loss_sum,
                          long *n_tokens);

/* Forward only, no dropout, no gradients. Same state and loss conventions.
 * exclude_id >= 0 additionally leaves targets equal to it out of the sums
 * (e.g. <unk>); pass -1 for none. Returns 0, or -1 on the size/id errors of
 * lm_model_train_window (touching nothing). */
int lm_model_eval_window(const lm_model *m, lm_acts *a, int B, int T,
                         const int32_t *in, const int32_t *tgt, float *h,
                         float *c, int pad_id, int exclude_id,
                         double *loss_sum, long *n_tokens);

/* Generation: advance one token with carried state h, c [H] and write the
 * logits [V]. scratch holds lm_model_step_scratch_floats(d) floats.
 * Returns 0, or -1 (touching nothing) when token is outside [0,V). Feeding a
 * sequence token by token gives the same states and logits as a window. */
size_t lm_model_step_scratch_floats(lm_dims d);
/* Makes lm_model_step_token read an IEEE fp16 copy of fc.weight (half the
 * memory traffic of the memory-bound output layer; logits then differ from
 * the fp32 model by ~1e-3 relative at most). Take it after the weights are
 * final: the copy is not updated. Returns 0 when enabled, 1 when this CPU has
 * no fast fp16 kernel (nothing changes), -1 on OOM. Freed by lm_model_free. */
int lm_model_use_f16_head(lm_model *m, lm_err *e);
int lm_model_step_token(const lm_model *m, int32_t token, float *h, float *c,
                        float *logits, float *scratch);

#endif
