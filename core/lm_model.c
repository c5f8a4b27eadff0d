/* lm_model: the parameter buffer, the activation arena, and the window
 * forward/backward that chains the layers of lm_layers.h:
 *
 *   in [B,T] -> embedding x [B,T,E] -> LSTM hs [B,T,H] -> dropout hd [B,T,H]
 *   -> head (Linear + fused softmax CE, in row chunks) -> loss
 *
 * Invariants: the parameter and gradient buffers hold the tensors in the
 * order of lm_model.h with no padding (n_params == lm_model_count_params);
 * a window call validates every size and id before it touches anything, so a
 * bad call returns -1 with the state, grads and activations unchanged. */
#include "lm_model.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_layers.h"
#include "lm_par.h"
#include "lm_vmath.h"

struct lm_acts {
    lm_dims d;
    int B, T, chunk;   /* capacity */
    float *buf;        /* one allocation, carved below */
    float *x, *dx;     /* [B,T,E] */
    float *hs, *hd, *mask, *dh; /* [B,T,H] */
    lm_lstm_cache k;   /* gates [B,T,4H]; hprev, cprev, tc [B,T,H]; wt [4H*(H+E)] */
    float *lstm_scratch; /* [2,B,H] */
    float *logits;     /* [chunk,V], or the fused head's scratch */
};

size_t lm_model_count_params(lm_dims d) {
    size_t V = (size_t)d.V, E = (size_t)d.E, H = (size_t)d.H;
    return V * H + V + 4 * H * E + 4 * H * H + 4 * H + V * E;
}

static float *alloc_floats(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes);
    return p;
}

static void set_views(float *base, const lm_param_info *info, float **v) {
    for (int i = 0; i < LM_P_COUNT; i++) v[i] = base ? base + info[i].offset : NULL;
}

/* The tensor table and n_params of d (m zeroed first); -1 on bad dims. */
static int layout(lm_model *m, lm_dims d, lm_err *e) {
    memset(m, 0, sizeof *m);
    if (d.V < 1 || d.E < 1 || d.H < 1 || d.V > (1 << 24) || d.E > 65536 ||
        d.H > 65536)
        return lm_err_set(e, "lm_model: bad dimensions V=%d E=%d H=%d", d.V,
                          d.E, d.H);
    m->d = d;
    const struct { const char *name; int rows, cols; } t[LM_P_COUNT] = {
        [LM_P_FC_W] = {"fc.weight", d.V, d.H},
        [LM_P_FC_B] = {"fc.bias", d.V, 0},
        [LM_P_W_IH] = {"lstm.weight_ih", 4 * d.H, d.E},
        [LM_P_W_HH] = {"lstm.weight_hh", 4 * d.H, d.H},
        [LM_P_LSTM_B] = {"lstm.bias", 4 * d.H, 0},
        [LM_P_EMB] = {"embedding.weight", d.V, d.E},
    };
    size_t off = 0;
    for (int i = 0; i < LM_P_COUNT; i++) {
        m->info[i] = (lm_param_info){t[i].name, off, t[i].rows, t[i].cols};
        off += (size_t)t[i].rows * (size_t)(t[i].cols ? t[i].cols : 1);
    }
    m->n_params = off;
    return 0;
}

/* The named views into m->params and m->grads. */
static void bind(lm_model *m) {
    float *pv[LM_P_COUNT], *gv[LM_P_COUNT];
    set_views(m->params, m->info, pv);
    set_views(m->grads, m->info, gv);
    m->fc_w = pv[LM_P_FC_W], m->fc_b = pv[LM_P_FC_B], m->w_ih = pv[LM_P_W_IH];
    m->w_hh = pv[LM_P_W_HH], m->lstm_b = pv[LM_P_LSTM_B], m->emb = pv[LM_P_EMB];
    m->g_fc_w = gv[LM_P_FC_W], m->g_fc_b = gv[LM_P_FC_B], m->g_w_ih = gv[LM_P_W_IH];
    m->g_w_hh = gv[LM_P_W_HH], m->g_lstm_b = gv[LM_P_LSTM_B], m->g_emb = gv[LM_P_EMB];
}

int lm_model_init(lm_model *m, lm_dims d, int with_grads, lm_err *e) {
    if (layout(m, d, e)) return -1;
    m->params = alloc_floats(m->n_params);
    m->grads = with_grads ? alloc_floats(m->n_params) : NULL;
    if (!m->params || (with_grads && !m->grads)) {
        size_t n = m->n_params;
        lm_model_free(m);
        return lm_err_set(e, "lm_model: out of memory for %zu parameters", n);
    }
    bind(m);
    return 0;
}

int lm_model_init_on(lm_model *m, lm_dims d, float *params, float *grads, lm_err *e) {
    if (layout(m, d, e)) return -1;
    m->params = params;
    m->grads = grads;
    m->borrowed = 1;
    bind(m);
    return 0;
}

void lm_model_free(lm_model *m) {
    free(m->fc_w_f16);
    if (!m->borrowed) {
        free(m->params);
        free(m->grads);
    }
    memset(m, 0, sizeof *m);
}

int lm_model_use_f16_head(lm_model *m, lm_err *e) {
    if (!lm_vf16_supported()) return 1;
    size_t n = (size_t)m->d.V * (size_t)m->d.H;
    uint16_t *w = malloc(n * sizeof *w);
    if (!w) return lm_err_set(e, "lm_model: out of memory for the fp16 head (%zu weights)", n);
    lm_vf32_to_f16(w, m->fc_w, n);
    free(m->fc_w_f16);
    m->fc_w_f16 = w;
    return 0;
}

static void fill_uniform(float *p, size_t n, float k, lm_rng *rng) {
    for (size_t i = 0; i < n; i++) p[i] = (2.0f * lm_rng_uniform(rng) - 1.0f) * k;
}

void lm_model_init_weights(lm_model *m, lm_rng *rng) {
    const size_t V = m->d.V, E = m->d.E, H = m->d.H;
    const float k = 1.0f / sqrtf((float)H);
    for (size_t i = 0; i < V * E; i++) m->emb[i] = lm_rng_normal(rng);
    fill_uniform(m->w_ih, 4 * H * E, k, rng);
    fill_uniform(m->w_hh, 4 * H * H, k, rng);
    fill_uniform(m->lstm_b, 4 * H, k, rng); /* bias_ih ... */
    for (size_t i = 0; i < 4 * H; i++)      /* ... + bias_hh */
        m->lstm_b[i] += (2.0f * lm_rng_uniform(rng) - 1.0f) * k;
    fill_uniform(m->fc_w, V * H, k, rng);
    fill_uniform(m->fc_b, V, k, rng);
}

lm_acts *lm_acts_create_chunked(lm_dims d, int B, int T, int chunk_rows) {
    if (B < 1 || T < 1 || d.V < 1 || d.E < 1 || d.H < 1) return NULL;
    /* BLAS dimensions and leading dimensions are int */
    if ((size_t)B * T * 4 * d.H > INT_MAX || (size_t)B * T * d.E > INT_MAX) return NULL;
    if (chunk_rows <= 0) chunk_rows = LM_HEAD_CHUNK_ROWS;
    if (chunk_rows > B * T) chunk_rows = B * T;
    lm_acts *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->d = d, a->B = B, a->T = T, a->chunk = chunk_rows;
    const size_t N = (size_t)B * T, E = d.E, H = d.H;
    /* sizes in floats, each rounded up to 16 so every array is 64B aligned */
    size_t head = (size_t)chunk_rows * d.V;
    if (lm_head_fused_ok(d.H) && lm_head_fused_scratch_floats(d.V, d.H, chunk_rows) > head)
        head = lm_head_fused_scratch_floats(d.V, d.H, chunk_rows);
    const size_t sz[] = {N * E, N * E, N * H, N * H, N * H, N * H, N * 4 * H,
                         N * H, N * H, N * H, 4 * H * (H + E), 2 * (size_t)B * H, head};
    float **dst[] = {&a->x, &a->dx, &a->hs, &a->hd, &a->mask, &a->dh,
                     &a->k.gates, &a->k.hprev, &a->k.cprev, &a->k.tc, &a->k.wt,
                     &a->lstm_scratch, &a->logits};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sz / sizeof *sz; i++) total += (sz[i] + 15) / 16 * 16;
    /* not zeroed: every array is written before it is read */
    a->buf = aligned_alloc(64, total * sizeof(float));
    if (!a->buf) {
        free(a);
        return NULL;
    }
    float *p = a->buf;
    for (size_t i = 0; i < sizeof sz / sizeof *sz; i++) {
        *dst[i] = p;
        p += (sz[i] + 15) / 16 * 16;
    }
    return a;
}

lm_acts *lm_acts_create(lm_dims d, int B, int T) {
    return lm_acts_create_chunked(d, B, T, 0);
}

void lm_acts_free(lm_acts *a) {
    if (!a) return;
    free(a->buf);
    free(a);
}

static int ids_ok(const int32_t *ids, size_t n, int V) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V) return 0;
    return 1;
}

/* The checks shared by train and eval: sizes against the arena, ids. */
static int window_ok(const lm_model *m, const lm_acts *a, int B, int T,
                     const int32_t *in, const int32_t *tgt) {
    if (!a || B < 1 || T < 1 || B > a->B || T > a->T) return 0;
    if (a->d.V != m->d.V || a->d.E != m->d.E || a->d.H != m->d.H) return 0;
    size_t N = (size_t)B * T;
    return ids_ok(in, N, m->d.V) && ids_ok(tgt, N, m->d.V);
}

/* memset of n floats in `threads` pieces (the embedding gradient, 12.8 MB
 * at the spec sizes: 0.3 ms on one thread, bound by memory) */
typedef struct {
    float *p;
    size_t n;
    int parts;
} zero_job;

static void zero_part(void *ctx, int k) {
    const zero_job *z = ctx;
    size_t lo = z->n * (size_t)k / (size_t)z->parts, hi = z->n * (size_t)(k + 1) / (size_t)z->parts;
    memset(z->p + lo, 0, sizeof(float) * (hi - lo));
}

static void zero_floats(float *p, size_t n, int threads, lm_par_pool *pool) {
    zero_job z = {p, n, threads < 1 ? 1 : threads};
    lm_par_run_on(pool, zero_part, &z, z.parts, z.parts);
}

int lm_model_train_window(lm_model *m, lm_acts *a, int B, int T,
                          const int32_t *in, const int32_t *tgt, float *h,
                          float *c, const lm_step_opts *o, double *loss_sum,
                          long *n_tokens) {
    if (!m->grads || !window_ok(m, a, B, T, in, tgt)) return -1;
    if (!(o->dropout >= 0.0f && o->dropout < 1.0f) ||
        (o->dropout > 0.0f && !o->rng))
        return -1;
    const int N = B * T, V = m->d.V, E = m->d.E, H = m->d.H;
    lm_embedding_forward(a->x, in, m->emb, N, E);
    lm_lstm_forward_threads(a->hs, &a->k, h, c, a->x, m->w_ih, m->w_hh, m->lstm_b, h,
                            c, B, T, E, H, o->threads, o->pool);
    const float *hd = a->hs;
    if (o->dropout > 0.0f) {
        lm_dropout_forward(a->hd, a->mask, a->hs, (size_t)N * H, o->dropout,
                           o->rng);
        hd = a->hd;
    }
    long cnt;
    /* own microkernels where H allows (1.7x OpenBLAS here), else BLAS */
    if (lm_head_fused_ok(H)) {
        lm_head_hooks hk = {o->on_head_rows, o->on_progress, o->ctx};
        *loss_sum = lm_head_fused_forward_backward_hooks(
            m->g_fc_w, m->g_fc_b, a->dh, hd, tgt, m->fc_w, m->fc_b, N, H, V,
            o->pad_id, o->loss_scale, a->logits, a->chunk, o->threads, o->pool, &hk, &cnt);
    } else {
        *loss_sum = lm_head_forward_backward(
            m->g_fc_w, m->g_fc_b, a->dh, hd, tgt, m->fc_w, m->fc_b, N, H, V,
            o->pad_id, o->loss_scale, a->logits, a->chunk, &cnt);
        if (o->on_head_rows) o->on_head_rows(o->ctx, 0, V);
    }
    *n_tokens = cnt;
    if (o->on_head_grads) o->on_head_grads(o->ctx);
    if (o->dropout > 0.0f)
        lm_dropout_backward(a->dh, a->dh, a->mask, (size_t)N * H);
    lm_lstm_backward_progress(a->dx, m->g_w_ih, m->g_w_hh, m->g_lstm_b, a->dh, &a->k, a->x,
                              m->w_ih, m->w_hh, a->lstm_scratch, B, T, E, H, o->threads,
                              o->pool, o->on_progress, o->ctx);
    zero_floats(m->g_emb, (size_t)V * E, o->pool ? o->threads : 1, o->pool);
    lm_embedding_backward(m->g_emb, a->dx, in, N, E);
    return 0;
}

int lm_model_eval_window(const lm_model *m, lm_acts *a, int B, int T,
                         const int32_t *in, const int32_t *tgt, float *h,
                         float *c, int pad_id, int exclude_id,
                         double *loss_sum, long *n_tokens) {
    if (!window_ok(m, a, B, T, in, tgt)) return -1;
    const int N = B * T, V = m->d.V, E = m->d.E, H = m->d.H;
    lm_embedding_forward(a->x, in, m->emb, N, E);
    lm_lstm_forward(a->hs, &a->k, h, c, a->x, m->w_ih, m->w_hh, m->lstm_b, h,
                    c, B, T, E, H);
    *loss_sum = lm_head_forward(a->hs, tgt, m->fc_w, m->fc_b, N, H, V, pad_id,
                                exclude_id, a->logits, a->chunk, n_tokens);
    return 0;
}

size_t lm_model_step_scratch_floats(lm_dims d) { return 5 * (size_t)d.H; }

int lm_model_step_token(const lm_model *m, int32_t token, float *h, float *c,
                        float *logits, float *scratch) {
    const int V = m->d.V, E = m->d.E, H = m->d.H;
    if (token < 0 || token >= V) return -1;
    float *g = scratch, *tc = scratch + 4 * H;
    /* g [4H] = W_ih x + W_hh h  (the bias is added inside the cell) */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 4 * H, E, 1.0f, m->w_ih, E,
                m->emb + (size_t)token * E, 1, 0.0f, g, 1);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 4 * H, H, 1.0f, m->w_hh, H, h, 1,
                1.0f, g, 1);
    lm_lstm_cell_forward(g, m->lstm_b, c, c, tc, h, H);
    /* logits [V] = fc_w h + fc_b: one pass over the [V,H] output weights
     * (lm_vgemv_rows: memory-bound, ~2x OpenBLAS's row-major sgemv here) */
    if (m->fc_w_f16) lm_vgemv_rows_f16(logits, m->fc_w_f16, h, m->fc_b, (size_t)V, (size_t)H);
    else lm_vgemv_rows(logits, m->fc_w, h, m->fc_b, (size_t)V, (size_t)H);
    return 0;
}
