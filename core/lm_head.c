/* lm_head: the output layer (Linear H -> V) with the fused softmax
 * cross-entropy, forward and backward, in row chunks.
 *
 * Invariants: a logits row is touched by three vectorized passes (add bias
 * and max; exp and sum; scale into the gradient and accumulate the bias
 * gradient) while it is hot in cache, and overwritten in place with its
 * gradient; only `chunk` rows of logits exist at a time, so memory is
 * chunk*V floats whatever B*T is. Loss sums are accumulated in double. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "lm_layers.h"
#include "lm_vmath.h"

void lm_linear_forward(float *logits, const float *h, const float *w,
                       const float *b, int N, int H, int V) {
    for (int n = 0; n < N; n++)
        memcpy(logits + (size_t)n * V, b, sizeof(float) * V);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, V, H, 1.0f, h, H,
                w, H, 1.0f, logits, V);
}

/* Adds b (if any) to row z [V]; returns logsumexp(z) - z[t] and leaves
 * exp(z - max) in z with their sum in *sum. */
static double xent_row_exp(float *z, const float *b, int V, int t, float *sum) {
    float m = b ? lm_vadd_max(z, b, (size_t)V) : lm_vmax(z, (size_t)V);
    float zt = z[t];
    float s = lm_vexp_sum(z, (size_t)V, m);
    *sum = s;
    return log((double)s) + (double)m - (double)zt;
}

double lm_softmax_xent_forward_backward(float *z, const float *b,
                                        const int32_t *tgt, int N, int V,
                                        int ignore_id, float scale, float *db,
                                        long *count) {
    double loss = 0.0;
    long cnt = 0;
    for (int n = 0; n < N; n++) {
        float *row = z + (size_t)n * V;
        int t = tgt[n];
        if (t == ignore_id) {
            memset(row, 0, sizeof(float) * V);
            continue;
        }
        float s;
        loss += xent_row_exp(row, b, V, t, &s);
        cnt++;
        lm_vscale_acc(row, (size_t)V, scale / s, db); /* scale * softmax */
        row[t] -= scale;
        if (db) db[t] -= scale;
    }
    *count = cnt;
    return loss;
}

double lm_softmax_xent_forward(float *z, const float *b, const int32_t *tgt,
                               int N, int V, int ignore_id, int exclude_id,
                               long *count) {
    double loss = 0.0;
    long cnt = 0;
    for (int n = 0; n < N; n++) {
        int t = tgt[n];
        if (t == ignore_id || t == exclude_id) continue;
        float s;
        loss += xent_row_exp(z + (size_t)n * V, b, V, t, &s);
        cnt++;
    }
    *count = cnt;
    return loss;
}

double lm_head_forward_backward(float *dw, float *db, float *dh,
                                const float *h, const int32_t *tgt,
                                const float *w, const float *b, int N, int H,
                                int V, int ignore_id, float scale,
                                float *scratch, int chunk, long *count) {
    double loss = 0.0;
    long cnt = 0;
    memset(db, 0, sizeof(float) * V);
    if (N <= 0) memset(dw, 0, sizeof(float) * V * H);
    for (int r0 = 0; r0 < N; r0 += chunk) {
        int n = N - r0 < chunk ? N - r0 : chunk;
        const float *hc = h + (size_t)r0 * H;
        long c;
        /* Z [n,V] = h_chunk [n,H] W^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, V, H, 1.0f, hc,
                    H, w, H, 0.0f, scratch, V);
        loss += lm_softmax_xent_forward_backward(scratch, b, tgt + r0, n, V,
                                                 ignore_id, scale, db, &c);
        cnt += c;
        /* dW [V,H] (+)= dZ^T h_chunk;  dh_chunk [n,H] = dZ W */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, H, n, 1.0f,
                    scratch, V, hc, H, r0 ? 1.0f : 0.0f, dw, H);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, V, 1.0f,
                    scratch, V, w, H, 0.0f, dh + (size_t)r0 * H, H);
    }
    *count = cnt;
    return loss;
}

double lm_head_forward(const float *h, const int32_t *tgt, const float *w,
                       const float *b, int N, int H, int V, int ignore_id,
                       int exclude_id, float *scratch, int chunk, long *count) {
    double loss = 0.0;
    long cnt = 0;
    for (int r0 = 0; r0 < N; r0 += chunk) {
        int n = N - r0 < chunk ? N - r0 : chunk;
        long c;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, V, H, 1.0f,
                    h + (size_t)r0 * H, H, w, H, 0.0f, scratch, V);
        loss += lm_softmax_xent_forward(scratch, b, tgt + r0, n, V, ignore_id,
                                        exclude_id, &c);
        cnt += c;
    }
    *count = cnt;
    return loss;
}
