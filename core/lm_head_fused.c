/* lm_head_fused: the output layer with the fused softmax cross-entropy on
 * lm_gemm's microkernels instead of BLAS (see lm_layers.h).
 *
 * Logits are kept vocabulary-major, Zt[v][i] for batch row i of a chunk
 * (rows padded to np, a multiple of 32, with zero h rows), so that all three
 * products need no packing besides h^T (a few hundred KB):
 *   Zt_b = W_b h^T        (A = rows of W, B = rows of h^T)
 *   dW_b = dZt_b h        (A = rows of dZt, B = rows of h)
 *   dh  += dZt_b^T W_b    (A = columns of dZt, B = rows of W)
 * The vocabulary is walked in blocks of LM_HEAD_VBLOCK = 256 rows (a block
 * of logits, 256 KB at 256 batch rows, and of W, 128 KB at H 128, stay in
 * L2; 256 measured 5-10% faster than 128 or 512 here). Pass 1, per
 * block: logits + bias, each row's block max mb and block sum of
 * exp(z - mb), folded into a running max m and sum s (online softmax), and
 * exp(z - mb) kept in place. Pass 2, per block: scale each column by
 * exp(mb - m) * scale / s (0 for ignored and pad rows), subtract scale at
 * the targets, then both gradient products while the block is in cache.
 * Invariant: every sum has a fixed order, so results depend only on the
 * inputs, the chunk size and lm_isa_level(). */
#include <math.h>
#include <string.h>

#include "lm_gemm.h"
#include "lm_layers.h"
#include "lm_vmath.h"

#define LM_HEAD_VBLOCK 256

typedef struct {
    float *zt, *ht, *mblk; /* [V][np], [H][np], [blocks][np] */
    float *m, *s, *zt_tgt, *f, *t1, *t2; /* [np] each */
} fused_scratch;

static int pad32(int n) { return (n + LM_GEMM_NR - 1) / LM_GEMM_NR * LM_GEMM_NR; }
static int n_blocks(int V) { return (V + LM_HEAD_VBLOCK - 1) / LM_HEAD_VBLOCK; }

int lm_head_fused_ok(int H) { return H > 0 && H % LM_GEMM_NR == 0; }

size_t lm_head_fused_scratch_floats(int V, int H, int chunk) {
    size_t np = (size_t)pad32(chunk);
    return np * ((size_t)V + (size_t)H + (size_t)n_blocks(V) + 6);
}

static fused_scratch carve(float *p, int V, int H, int np) {
    fused_scratch k;
    k.zt = p, p += (size_t)V * np;
    k.ht = p, p += (size_t)H * np;
    k.mblk = p, p += (size_t)n_blocks(V) * np;
    k.m = p, k.s = p + np, k.zt_tgt = p + 2 * np, k.f = p + 3 * np;
    k.t1 = p + 4 * np, k.t2 = p + 5 * np;
    return k;
}

/* Pass 1 on block [v0, v0+vb): logits, block max, exp, running max/sum. */
static void block_forward(const fused_scratch *k, const float *w, const float *b,
                          const int32_t *tgt, int n, int np, int H, int v0, int vb, int blk) {
    float *zb = k->zt + (size_t)v0 * np, *mb = k->mblk + (size_t)blk * np;
    lm_gemm_strided(zb, (size_t)np, w + (size_t)v0 * H, (size_t)H, 1, k->ht, (size_t)np,
                    (size_t)vb, (size_t)np, (size_t)H, 0);
    for (int i = 0; i < np; i++) mb[i] = -INFINITY;
    for (int v = 0; v < vb; v++) lm_vadd_colmax(zb + (size_t)v * np, b[v0 + v], mb, (size_t)np);
    for (int i = 0; i < n; i++) {
        int t = tgt[i] - v0;
        if (t >= 0 && t < vb) k->zt_tgt[i] = zb[(size_t)t * np + i];
    }
    float *sb = k->t1;
    memset(sb, 0, sizeof(float) * np);
    for (int v = 0; v < vb; v++) lm_vexp_sub_acc(zb + (size_t)v * np, mb, sb, (size_t)np);
    if (blk == 0) {
        memcpy(k->m, mb, sizeof(float) * np);
        memcpy(k->s, sb, sizeof(float) * np);
        return;
    }
    for (int i = 0; i < np; i++) {
        float mn = k->m[i] > mb[i] ? k->m[i] : mb[i];
        k->t2[i] = k->m[i] - mn; /* the old sum's rescale, then the block's */
        mb[i] -= mn;             /* reused below, restored after */
        k->m[i] = mn;
    }
    memcpy(k->f, mb, sizeof(float) * np);
    lm_vexp(k->t2, (size_t)np);
    lm_vexp(k->f, (size_t)np);
    for (int i = 0; i < np; i++) {
        k->s[i] = k->s[i] * k->t2[i] + sb[i] * k->f[i];
        mb[i] += k->m[i];
    }
}

/* Pass 2 on block [v0, v0+vb): the gradient in place, db, dW_b, dh. */
static void block_backward(const fused_scratch *k, float *dw, float *db, float *dh,
                           const float *h, const float *w, const int32_t *tgt, int n, int np,
                           int H, int v0, int vb, int blk, int ignore_id, float scale, int acc_dw) {
    float *zb = k->zt + (size_t)v0 * np, *mb = k->mblk + (size_t)blk * np;
    for (int i = 0; i < np; i++) k->f[i] = mb[i] - k->m[i];
    lm_vexp(k->f, (size_t)np);
    for (int i = 0; i < np; i++)
        k->f[i] = i < n && tgt[i] != ignore_id ? k->f[i] * (scale / k->s[i]) : 0.0f;
    for (int v = 0; v < vb; v++) db[v0 + v] += lm_vmul_sum(zb + (size_t)v * np, k->f, (size_t)np);
    for (int i = 0; i < n; i++) {
        int t = tgt[i] - v0;
        if (tgt[i] == ignore_id || t < 0 || t >= vb) continue;
        zb[(size_t)t * np + i] -= scale;
        db[tgt[i]] -= scale;
    }
    lm_gemm_strided(dw + (size_t)v0 * H, (size_t)H, zb, (size_t)np, 1, h, (size_t)H, (size_t)vb,
                    (size_t)H, (size_t)n, acc_dw);
    lm_gemm_strided(dh, (size_t)H, zb, 1, (size_t)np, w + (size_t)v0 * H, (size_t)H, (size_t)n,
                    (size_t)H, (size_t)vb, v0 > 0);
}

/* One chunk of n rows; returns its loss sum and counted rows. */
static double chunk_fwd_bwd(const fused_scratch *k, float *dw, float *db, float *dh,
                            const float *h, const int32_t *tgt, const float *w, const float *b,
                            int n, int H, int V, int ignore_id, float scale, int acc_dw,
                            long *count) {
    const int np = pad32(n);
    for (int j = 0; j < H; j++)
        for (int i = 0; i < np; i++) k->ht[(size_t)j * np + i] = i < n ? h[(size_t)i * H + j] : 0.0f;
    for (int v0 = 0, blk = 0; v0 < V; v0 += LM_HEAD_VBLOCK, blk++)
        block_forward(k, w, b, tgt, n, np, H, v0, V - v0 < LM_HEAD_VBLOCK ? V - v0 : LM_HEAD_VBLOCK, blk);
    double loss = 0.0;
    long cnt = 0;
    for (int i = 0; i < n; i++) {
        if (tgt[i] == ignore_id) continue;
        loss += log((double)k->s[i]) + (double)k->m[i] - (double)k->zt_tgt[i];
        cnt++;
    }
    for (int v0 = 0, blk = 0; v0 < V; v0 += LM_HEAD_VBLOCK, blk++)
        block_backward(k, dw, db, dh, h, w, tgt, n, np, H, v0,
                       V - v0 < LM_HEAD_VBLOCK ? V - v0 : LM_HEAD_VBLOCK, blk, ignore_id, scale, acc_dw);
    *count = cnt;
    return loss;
}

double lm_head_fused_forward_backward(float *dw, float *db, float *dh, const float *h,
                                      const int32_t *tgt, const float *w, const float *b, int N,
                                      int H, int V, int ignore_id, float scale, float *scratch,
                                      int chunk, long *count) {
    fused_scratch k = carve(scratch, V, H, pad32(chunk));
    double loss = 0.0;
    long cnt = 0;
    memset(db, 0, sizeof(float) * V);
    if (N <= 0) memset(dw, 0, sizeof(float) * V * H);
    for (int r0 = 0; r0 < N; r0 += chunk) {
        int n = N - r0 < chunk ? N - r0 : chunk;
        long c;
        /* a shorter last chunk keeps the first chunk's np: carve once */
        loss += chunk_fwd_bwd(&k, dw, db, dh + (size_t)r0 * H, h + (size_t)r0 * H, tgt + r0, w, b,
                              n, H, V, ignore_id, scale, r0 > 0, &c);
        cnt += c;
    }
    *count = cnt;
    return loss;
}
