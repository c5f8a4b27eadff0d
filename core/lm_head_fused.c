/* lm_head_fused: the output layer with the fused softmax cross-entropy on
 * lm_gemm's microkernels instead of BLAS (see lm_layers.h).
 *
 * Logits are kept vocabulary-major, Zt[v][i] for batch row i of a chunk
 * (rows padded to np, a multiple of the level's tile width lm_gemm_tile_cols(),
 * with zero h rows), so that all three
 * products need no packing besides their B operands:
 *   Zt_b = W_b h^T        (A = rows of W, B = h^T, packed once per chunk)
 *   dW_b = dZt_b h        (A = rows of dZt, B = h, packed once per chunk)
 *   dh  += dZt_b^T W_b    (A = columns of dZt, B = rows of W, packed per
 *                          block inside lm_gemm_strided)
 * The vocabulary is walked in blocks of LM_HEAD_VBLOCK = 256 rows (a block
 * of logits, 256 KB at 256 batch rows, and of W, 128 KB at H 128, stay in
 * L2; 256 measured 5-10% faster than 128 or 512 here). Pass 1, per
 * block: logits + bias, each row's block max mb and block sum of
 * exp(z - mb), with exp(z - mb) kept in place; then each row's max m and
 * sum s over the blocks (in block order). Pass 2, per block: scale each
 * column by exp(mb - m) * scale / s (0 for ignored and pad rows), subtract
 * scale at the targets, then both gradient products while the block is in
 * cache. Blocks are split into LM_HEAD_GROUPS fixed groups run on up to
 * `threads` threads; with a rows callback (lm_head_hooks), the last chunk's
 * pass 2 runs them in waves of `threads` groups and announces each wave's
 * rows of dW as final, for a caller that sends them while the rest
 * computes. Invariant: every sum has a fixed order, so results
 * depend only on the inputs, the chunk size and lm_isa_level(), not on the
 * thread count. */
#include <math.h>
#include <string.h>

#include "lm_gemm.h"
#include "lm_layers.h"
#include "lm_par.h"
#include "lm_vmath.h"

#define LM_HEAD_VBLOCK 256
/* Fixed work groups of consecutive blocks: whatever the thread count, each
 * group does the same sums in the same order, and the groups' partial dh
 * are added in group order, so results do not depend on the threads. */
#define LM_HEAD_GROUPS 8

typedef struct {
    float *zt, *ht, *mblk, *sblk; /* [V][np], h^T packed [H][np], [blocks][np] x 2 */
    float *hp;                    /* h packed, [chunk][H] */
    float *m, *s, *zt_tgt, *t1;   /* [np] each */
    float *f;                     /* [groups][np] */
    float *dhg;                   /* [groups][chunk][H] */
} fused_scratch;

static int pad32(int n) { return (n + LM_GEMM_NR - 1) / LM_GEMM_NR * LM_GEMM_NR; }
/* A chunk's rows padded to the level's tile width (<= pad32: the scratch
 * is carved for pad32(chunk)); pad rows cost FLOPs in the logits product. */
static int pad_tile(int n) {
    const int t = (int)lm_gemm_tile_cols();
    return (n + t - 1) / t * t;
}
static int n_blocks(int V) { return (V + LM_HEAD_VBLOCK - 1) / LM_HEAD_VBLOCK; }

int lm_head_fused_ok(int H) { return H > 0 && H % LM_GEMM_NR == 0; }

size_t lm_head_fused_scratch_floats(int V, int H, int chunk) {
    size_t np = (size_t)pad32(chunk);
    return np * ((size_t)V + (size_t)H + 2 * (size_t)n_blocks(V) + 4 + LM_HEAD_GROUPS) +
           (size_t)(LM_HEAD_GROUPS + 1) * (size_t)chunk * (size_t)H;
}

static fused_scratch carve(float *p, int V, int H, int np, int chunk) {
    fused_scratch k;
    k.zt = p, p += (size_t)V * np;
    k.ht = p, p += (size_t)H * np;
    k.mblk = p, p += (size_t)n_blocks(V) * np;
    k.sblk = p, p += (size_t)n_blocks(V) * np;
    k.m = p, k.s = p + np, k.zt_tgt = p + 2 * np, k.t1 = p + 3 * np, p += 4 * (size_t)np;
    k.f = p, p += (size_t)LM_HEAD_GROUPS * np;
    k.dhg = p, p += (size_t)LM_HEAD_GROUPS * chunk * H;
    k.hp = p;
    return k;
}

/* One chunk's work, shared by the group workers. */
typedef struct {
    const fused_scratch *k;
    float *dw, *db;
    const float *h, *w, *b;
    const int32_t *tgt;
    int n, np, H, V, chunk, ignore_id, acc_dw, pass;
    float scale;
    const lm_head_hooks *hk; /* NULL: no callbacks */
    lm_par_pool *pool;
    int g0, ngroups, nthreads; /* lm_par_run parts: groups [g0, g0 + ngroups) (group_part) */
} chunk_job;

static int block_rows(const chunk_job *j, int blk) {
    int v0 = blk * LM_HEAD_VBLOCK;
    return j->V - v0 < LM_HEAD_VBLOCK ? j->V - v0 : LM_HEAD_VBLOCK;
}

/* Pass 1 on one block: logits + bias, block max mb and sum sb of
 * exp(z - mb) per row (the exp kept in place), the target logits. */
static void block_forward(const chunk_job *j, int blk) {
    const fused_scratch *k = j->k;
    const int np = j->np, v0 = blk * LM_HEAD_VBLOCK, vb = block_rows(j, blk);
    float *zb = k->zt + (size_t)v0 * np, *mb = k->mblk + (size_t)blk * np;
    float *sb = k->sblk + (size_t)blk * np;
    lm_gemm_packed(zb, (size_t)np, j->w + (size_t)v0 * j->H, (size_t)j->H, 1, k->ht, (size_t)vb,
                   (size_t)np, (size_t)j->H, 0);
    for (int i = 0; i < np; i++) mb[i] = -INFINITY, sb[i] = 0.0f;
    for (int v = 0; v < vb; v++) lm_vadd_colmax(zb + (size_t)v * np, j->b[v0 + v], mb, (size_t)np);
    for (int i = 0; i < j->n; i++) {
        int t = j->tgt[i] - v0;
        if (t >= 0 && t < vb) k->zt_tgt[i] = zb[(size_t)t * np + i];
    }
    for (int v = 0; v < vb; v++) lm_vexp_sub_acc(zb + (size_t)v * np, mb, sb, (size_t)np);
}

/* Every row's max m and sum s over the blocks, in block order. */
static void combine_blocks(const chunk_job *j) {
    const fused_scratch *k = j->k;
    const int np = j->np, nb = n_blocks(j->V);
    memcpy(k->m, k->mblk, sizeof(float) * np);
    for (int b = 1; b < nb; b++)
        for (int i = 0; i < np; i++) {
            float x = k->mblk[(size_t)b * np + i];
            k->m[i] = x > k->m[i] ? x : k->m[i];
        }
    memset(k->s, 0, sizeof(float) * np);
    for (int b = 0; b < nb; b++) {
        for (int i = 0; i < np; i++) k->t1[i] = k->mblk[(size_t)b * np + i] - k->m[i];
        lm_vexp(k->t1, (size_t)np);
        for (int i = 0; i < np; i++) k->s[i] += k->sblk[(size_t)b * np + i] * k->t1[i];
    }
}

/* Pass 2 on one block of group g: the gradient in place, db, dW_b, and the
 * group's partial dh (first = the group's first block overwrites it). */
static void block_backward(const chunk_job *j, int blk, int g, int first) {
    const fused_scratch *k = j->k;
    const int np = j->np, H = j->H, v0 = blk * LM_HEAD_VBLOCK, vb = block_rows(j, blk);
    float *zb = k->zt + (size_t)v0 * np, *mb = k->mblk + (size_t)blk * np;
    float *f = k->f + (size_t)g * np, *dh = k->dhg + (size_t)g * j->chunk * H;
    for (int i = 0; i < np; i++) f[i] = mb[i] - k->m[i];
    lm_vexp(f, (size_t)np);
    for (int i = 0; i < np; i++)
        f[i] = i < j->n && j->tgt[i] != j->ignore_id ? f[i] * (j->scale / k->s[i]) : 0.0f;
    for (int v = 0; v < vb; v++) j->db[v0 + v] += lm_vmul_sum(zb + (size_t)v * np, f, (size_t)np);
    for (int i = 0; i < j->n; i++) {
        int t = j->tgt[i] - v0;
        if (j->tgt[i] == j->ignore_id || t < 0 || t >= vb) continue;
        zb[(size_t)t * np + i] -= j->scale;
        j->db[j->tgt[i]] -= j->scale;
    }
    lm_gemm_packed(j->dw + (size_t)v0 * H, (size_t)H, zb, (size_t)np, 1, k->hp, (size_t)vb,
                   (size_t)H, (size_t)j->n, j->acc_dw);
    lm_gemm_strided(dh, (size_t)H, zb, 1, (size_t)np, j->w + (size_t)v0 * H, (size_t)H,
                    (size_t)j->n, (size_t)H, (size_t)vb, !first);
}

/* Group g's first block: groups are blocks [g nb / G, (g+1) nb / G). */
static int group_block0(int V, int g) { return g * n_blocks(V) / LM_HEAD_GROUPS; }

/* Group g, run as lm_par part `part` (lm_par: thread 0, the caller, runs
 * the parts that are 0 modulo the thread count). */
static void run_group(const chunk_job *j, int g, int part) {
    const int b0 = group_block0(j->V, g), b1 = group_block0(j->V, g + 1);
    const int caller = j->hk && j->hk->on_progress && part % j->nthreads == 0;
    for (int blk = b0; blk < b1; blk++) {
        if (j->pass == 1) {
            block_forward(j, blk);
            continue;
        }
        block_backward(j, blk, g, blk == b0);
        if (caller) j->hk->on_progress(j->hk->ctx);
    }
}

/* lm_par gives thread t the parts t, t + n, t + 2n, ...; when n divides the
 * groups, part p is group g0 + (p mod n) G/n + p/n, so each thread runs
 * consecutive groups. Group sizes differ by a block in a pattern that the
 * cyclic order summed unevenly (at V 50,000 two threads got 96 and 99.3
 * blocks); results are the same either way, only the timing changes. */
static void group_part(void *p, int part) {
    chunk_job *j = p;
    const int n = j->nthreads, per = j->ngroups / n;
    run_group(j, j->g0 + (j->ngroups % n ? part : part % n * per + part / n), part);
}

/* Groups [g0, g1) on up to `threads` threads (lm_par: the caller is one). */
static void run_groups_range(chunk_job *j, int g0, int g1, int threads) {
    j->g0 = g0;
    j->ngroups = g1 - g0;
    j->nthreads = threads < 1 ? 1 : threads > g1 - g0 ? g1 - g0 : threads;
    lm_par_run_on(j->pool, group_part, j, g1 - g0, threads);
}

static void run_groups(chunk_job *j, int threads) { run_groups_range(j, 0, LM_HEAD_GROUPS, threads); }

/* Pass 2 of the last chunk with a rows callback: waves of `threads` groups,
 * each wave's rows announced once its groups are done. */
static void run_groups_waves(chunk_job *j, int threads) {
    const int step = threads < 1 ? 1 : threads;
    for (int g = 0; g < LM_HEAD_GROUPS; g += step) {
        int g1 = g + step < LM_HEAD_GROUPS ? g + step : LM_HEAD_GROUPS;
        run_groups_range(j, g, g1, threads);
        int r0 = group_block0(j->V, g) * LM_HEAD_VBLOCK, r1 = group_block0(j->V, g1) * LM_HEAD_VBLOCK;
        if (r1 > j->V) r1 = j->V;
        if (r1 > r0) j->hk->on_rows(j->hk->ctx, r0, r1);
    }
}

/* One chunk of n rows; returns its loss sum and counted rows. last: the
 * window's last chunk (its pass 2 makes the dw rows final). */
static double chunk_fwd_bwd(chunk_job *j, float *dh, int threads, int last, long *count) {
    const fused_scratch *k = j->k;
    const int np = j->np, H = j->H, n = j->n;
    /* B of the logits (h^T, zero pad rows) and of dW (h), for every block */
    lm_gemm_pack_b(k->ht, j->h, 1, (size_t)H, (size_t)n, (size_t)np, (size_t)H);
    lm_gemm_pack_b(k->hp, j->h, (size_t)H, 1, (size_t)H, (size_t)H, (size_t)n);
    j->pass = 1;
    run_groups(j, threads);
    combine_blocks(j);
    double loss = 0.0;
    long cnt = 0;
    for (int i = 0; i < n; i++) {
        if (j->tgt[i] == j->ignore_id) continue;
        loss += log((double)k->s[i]) + (double)k->m[i] - (double)k->zt_tgt[i];
        cnt++;
    }
    j->pass = 2;
    if (last && j->hk && j->hk->on_rows) run_groups_waves(j, threads);
    else run_groups(j, threads);
    int have = 0;
    for (int g = 0; g < LM_HEAD_GROUPS; g++) {
        if (group_block0(j->V, g) == group_block0(j->V, g + 1)) continue; /* empty group */
        const float *p = k->dhg + (size_t)g * j->chunk * H;
        if (!have) memcpy(dh, p, sizeof(float) * n * H);
        else for (size_t e = 0; e < (size_t)n * H; e++) dh[e] += p[e];
        have = 1;
    }
    *count = cnt;
    return loss;
}

double lm_head_fused_forward_backward_hooks(float *dw, float *db, float *dh, const float *h,
                                            const int32_t *tgt, const float *w, const float *b,
                                            int N, int H, int V, int ignore_id, float scale,
                                            float *scratch, int chunk, int threads,
                                            lm_par_pool *pool, const lm_head_hooks *hk,
                                            long *count) {
    fused_scratch k = carve(scratch, V, H, pad32(chunk), chunk);
    double loss = 0.0;
    long cnt = 0;
    memset(db, 0, sizeof(float) * V);
    if (N <= 0) {
        memset(dw, 0, sizeof(float) * V * H);
        if (hk && hk->on_rows) hk->on_rows(hk->ctx, 0, V);
    }
    for (int r0 = 0; r0 < N; r0 += chunk) {
        int n = N - r0 < chunk ? N - r0 : chunk;
        long c;
        /* a shorter last chunk uses a smaller np inside the same regions */
        chunk_job j = {&k, dw, db, h + (size_t)r0 * H, w, b, tgt + r0, n, pad_tile(n), H, V,
                       chunk, ignore_id, r0 > 0, 0, scale, hk, pool, 0, 1, 1};
        loss += chunk_fwd_bwd(&j, dh + (size_t)r0 * H, threads, r0 + n >= N, &c);
        cnt += c;
    }
    *count = cnt;
    return loss;
}

double lm_head_fused_forward_backward(float *dw, float *db, float *dh, const float *h,
                                      const int32_t *tgt, const float *w, const float *b, int N,
                                      int H, int V, int ignore_id, float scale, float *scratch,
                                      int chunk, int threads, long *count) {
    return lm_head_fused_forward_backward_hooks(dw, db, dh, h, tgt, w, b, N, H, V, ignore_id, scale,
                                                scratch, chunk, threads, NULL, NULL, count);
}
