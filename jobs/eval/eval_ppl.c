/* eval_ppl: validation cross-entropy, carried per song and in zero-state
 * windows (see eval_ppl.h). The forward pass is the model's own layer chain
 * (embedding, LSTM, output layer as lm_model_eval_window), but the loss is
 * taken row by row so that one pass gives the sums with and without <unk>
 * targets. Invariant: padding (<pad> inputs and targets) fills the rows that
 * have no data; pad targets are never counted. */
#include "eval_ppl.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "io_vocab.h"
#include "lm_layers.h"

#define HEAD_ROWS LM_HEAD_CHUNK_ROWS /* 256: the GEMM is ~1.6x faster per row than at 64 */

typedef struct fwd {
    const lm_model *m;
    int B, T;
    int32_t *in, *tgt;
    float *x, *hs, *h, *c, *logits;
    lm_lstm_cache k;
} fwd;

static void fwd_free(fwd *f) {
    free(f->in), free(f->tgt), free(f->x), free(f->hs), free(f->h), free(f->c), free(f->logits);
    free(f->k.gates), free(f->k.hprev), free(f->k.cprev), free(f->k.tc), free(f->k.wt);
}

static int fwd_init(fwd *f, const lm_model *m, int B, int T, lm_err *e) {
    memset(f, 0, sizeof *f);
    f->m = m, f->B = B, f->T = T;
    size_t N = (size_t)B * T, E = (size_t)m->d.E, H = (size_t)m->d.H, V = (size_t)m->d.V;
    f->in = malloc(N * sizeof(int32_t));
    f->tgt = malloc(N * sizeof(int32_t));
    f->x = malloc(N * E * sizeof(float));
    f->hs = malloc(N * H * sizeof(float));
    f->h = calloc((size_t)B * H, sizeof(float));
    f->c = calloc((size_t)B * H, sizeof(float));
    f->logits = malloc((size_t)HEAD_ROWS * V * sizeof(float));
    f->k.gates = malloc(N * 4 * H * sizeof(float));
    f->k.hprev = malloc(N * H * sizeof(float));
    f->k.cprev = malloc(N * H * sizeof(float));
    f->k.tc = malloc(N * H * sizeof(float));
    f->k.wt = malloc(4 * H * (H + E) * sizeof(float)); /* the same kernels as train's */
    if (!f->in || !f->tgt || !f->x || !f->hs || !f->h || !f->c || !f->logits || !f->k.gates ||
        !f->k.hprev || !f->k.cprev || !f->k.tc || !f->k.wt) {
        fwd_free(f);
        return lm_err_set(e, "out of memory for evaluation windows (%d x %d, V=%zu)", B, T, V);
    }
    return 0;
}

/* One window of f->in/f->tgt [B,T] from state f->h, f->c (updated). */
static void fwd_window(fwd *f, double out[EVAL_PPL_N]) {
    const lm_model *m = f->m;
    const int N = f->B * f->T, E = m->d.E, H = m->d.H, V = m->d.V;
    lm_embedding_forward(f->x, f->in, m->emb, N, E);
    lm_lstm_forward(f->hs, &f->k, f->h, f->c, f->x, m->w_ih, m->w_hh, m->lstm_b, f->h, f->c, f->B,
                    f->T, E, H);
    for (int r0 = 0; r0 < N; r0 += HEAD_ROWS) {
        int n = N - r0 < HEAD_ROWS ? N - r0 : HEAD_ROWS, any = 0;
        for (int r = 0; r < n; r++) any |= f->tgt[r0 + r] != IO_TOK_PAD;
        if (!any) continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, V, H, 1.0f, f->hs + (size_t)r0 * H, H,
                    m->fc_w, H, 0.0f, f->logits, V);
        for (int r = 0; r < n; r++) {
            int32_t t = f->tgt[r0 + r];
            if (t == IO_TOK_PAD) continue;
            long cnt;
            double l = lm_softmax_xent_forward(f->logits + (size_t)r * V, m->fc_b, &t, 1, V, -1, -1, &cnt);
            out[EVAL_PPL_LOSS] += l;
            out[EVAL_PPL_COUNT] += 1;
            if (t != IO_TOK_UNK) {
                out[EVAL_PPL_LOSS_KNOWN] += l;
                out[EVAL_PPL_COUNT_KNOWN] += 1;
            }
        }
    }
}

static int check_ids(const lm_model *m, const eval_songs *s, lm_err *e) {
    for (uint64_t i = 0; i < s->off[s->n]; i++)
        if (s->tok[i] < 0 || s->tok[i] >= m->d.V)
            return lm_err_set(e, "validation token %llu has id %d outside the model's vocabulary (V=%d)",
                              (unsigned long long)i, s->tok[i], m->d.V);
    return 0;
}

/* Zeroes the sums, checks the ids and allocates the pass. */
static int fwd_start(fwd *f, const lm_model *m, const eval_songs *s, int B, int T, double out[EVAL_PPL_N],
                     lm_err *e) {
    memset(out, 0, EVAL_PPL_N * sizeof *out);
    return check_ids(m, s, e) || fwd_init(f, m, B, T, e) ? -1 : 0;
}

/* How many of 0..n-1 are rank, rank + size, ... */
static double share(uint64_t n, int rank, int size) {
    return n > (uint64_t)rank ? (double)((n - (uint64_t)rank - 1) / (uint64_t)size + 1) : 0;
}

int eval_ppl_carried(const lm_model *m, const eval_songs *s, int rank, int size, int B, int T,
                     progress *pr, double out[EVAL_PPL_N], lm_err *e) {
    fwd f;
    if (fwd_start(&f, m, s, B, T, out, e)) return -1;
    const size_t H = (size_t)m->d.H;
    long *cur = malloc((size_t)B * sizeof *cur);
    uint64_t *pos = calloc((size_t)B, sizeof *pos);
    if (!cur || !pos) {
        free(cur), free(pos), fwd_free(&f);
        return lm_err_set(e, "out of memory");
    }
    for (int b = 0; b < B; b++) cur[b] = -1;
    size_t next = (size_t)rank; /* this rank's songs: rank, rank + size, ... */
    progress_begin(pr, "perplexity (carried state)", share(s->n, rank, size), "songs");
    for (;;) {
        int active = 0;
        for (int b = 0; b < B; b++) {
            while (cur[b] < 0 && next < s->n) {
                if (s->off[next + 1] - s->off[next] >= 2) {
                    cur[b] = (long)next, pos[b] = 0;
                    memset(f.h + b * H, 0, H * sizeof(float));
                    memset(f.c + b * H, 0, H * sizeof(float));
                }
                next += (size_t)size;
            }
            active += cur[b] >= 0;
            for (int t = 0; t < T; t++) {
                int32_t *in = f.in + (size_t)b * T + t, *tg = f.tgt + (size_t)b * T + t;
                *in = *tg = IO_TOK_PAD;
                if (cur[b] < 0) continue;
                uint64_t a = s->off[cur[b]], len = s->off[cur[b] + 1] - a, p = pos[b] + (uint64_t)t;
                if (p + 1 < len) *in = s->tok[a + p], *tg = s->tok[a + p + 1];
            }
        }
        if (!active) break;
        fwd_window(&f, out);
        progress_update(pr, share(next < s->n ? next : s->n, rank, size));
        for (int b = 0; b < B; b++) {
            if (cur[b] < 0) continue;
            pos[b] += (uint64_t)T;
            if (pos[b] + 1 >= s->off[cur[b] + 1] - s->off[cur[b]]) cur[b] = -1;
        }
    }
    free(cur), free(pos), fwd_free(&f);
    progress_end(pr);
    return 0;
}

int eval_ppl_windows(const lm_model *m, const eval_songs *s, int rank, int size, int B, int T,
                     progress *pr, double out[EVAL_PPL_N], lm_err *e) {
    fwd f;
    if (fwd_start(&f, m, s, B, T, out, e)) return -1;
    const uint64_t N = s->off[s->n];
    const uint64_t W = N > 1 ? (N - 2) / (uint64_t)T + 1 : 0; /* ceil((N - 1) / T) */
    uint64_t k = (uint64_t)rank;
    progress_begin(pr, "perplexity (zero-state windows)", share(W, rank, size), "windows");
    while (k < W) {
        for (int b = 0; b < B; b++, k += (uint64_t)size) {
            for (int t = 0; t < T; t++) {
                uint64_t p = k * (uint64_t)T + (uint64_t)t;
                int ok = k < W && p + 1 < N;
                f.in[(size_t)b * T + t] = ok ? s->tok[p] : IO_TOK_PAD;
                f.tgt[(size_t)b * T + t] = ok ? s->tok[p + 1] : IO_TOK_PAD;
            }
        }
        memset(f.h, 0, (size_t)B * m->d.H * sizeof(float));
        memset(f.c, 0, (size_t)B * m->d.H * sizeof(float));
        fwd_window(&f, out);
        progress_update(pr, share(k < W ? k : W, rank, size));
    }
    fwd_free(&f);
    progress_end(pr);
    return 0;
}
