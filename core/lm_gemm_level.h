/* lm_gemm_level: lm_gemm_strided for one ISA level, included by lm_gemm.c
 * once per level with LEVEL, W (floats per register), MR (tile rows) and
 * LM_TGT defined. The tile is MR rows x 2W columns: 2 MR accumulators, two
 * B vectors and one broadcast A element live in registers (AVX-512 MR 8:
 * 19 of 32 zmm; AVX2 MR 6: 15 of 16 ymm; baseline MR 4: 11 of 16 xmm). The
 * B panel of a column tile (K x 2W floats) is reused by every row tile;
 * it is first copied into one contiguous stack buffer (K <= LM_GEMM_PACK_K):
 * read in place, a panel whose rows lie 512 B or 1 KB apart maps to a few
 * L1 sets only and is refetched from L2 by every row tile (the dh product,
 * B = 256 rows of W 512 B apart, ran at ~0.7 of the FMA peak so). Packing
 * moves data only: the sums are the same. No include guard: included
 * several times. */

typedef float LM_CAT(gvf_, LEVEL) __attribute__((vector_size(W * sizeof(float))));
#define vf LM_CAT(gvf_, LEVEL)
#define KFN(name) LM_CAT(LM_CAT(name, _), LEVEL)

/* One MR x 2W tile of C over all of K. Rows past m repeat row m-1 (their
 * results are dropped), so every tile runs the same unrolled code. */
/* noinline: the spill check (tests/core/check_spills.sh) reads this loop
 * alone; the packing loop beside it stores to the stack by design. */
LM_TGT __attribute__((noinline)) static void KFN(gemm_tile)(float *c, size_t ldc, const float *a,
                                                            size_t a_rs, size_t a_ks, const float *b,
                                                            size_t b_ks, size_t rows, size_t k,
                                                            int accumulate) {
    const float *ar[MR];
    vf c0[MR], c1[MR], b0, b1;
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
        ar[r] = a + ((size_t)r < rows ? (size_t)r : rows - 1) * a_rs;
        c0[r] = (vf){0};
        c1[r] = (vf){0};
    }
    for (size_t kk = 0; kk < k; kk++) {
        memcpy(&b0, b + kk * b_ks, sizeof b0);
        memcpy(&b1, b + kk * b_ks + W, sizeof b1);
        const size_t o = kk * a_ks;
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
            const float s = ar[r][o];
            c0[r] += s * b0;
            c1[r] += s * b1;
        }
    }
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
        if ((size_t)r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        vf o0 = c0[r], o1 = c1[r];
        if (accumulate) {
            vf p0, p1;
            memcpy(&p0, cr, sizeof p0);
            memcpy(&p1, cr + W, sizeof p1);
            o0 += p0;
            o1 += p1;
        }
        memcpy(cr, &o0, sizeof o0);
        memcpy(cr + W, &o1, sizeof o1);
    }
}

static size_t KFN(tile_cols)(void) { return 2 * W; }

/* C[.][j0, j0 + 2W) for all rows: one column tile, B panel at bb (rows bs
 * floats apart). */
LM_TGT static void KFN(gemm_panel)(float *c, size_t ldc, const float *a, size_t a_rs,
                                   size_t a_ks, const float *bb, size_t bs, size_t m, size_t k,
                                   int accumulate) {
    for (size_t r0 = 0; r0 < m; r0 += MR)
        KFN(gemm_tile)(c + r0 * ldc, ldc, a + r0 * a_rs, a_rs, a_ks, bb, bs, m - r0, k, accumulate);
}

LM_TGT static void KFN(gemm)(float *c, size_t ldc, const float *a, size_t a_rs, size_t a_ks,
                             const float *b, size_t b_ks, size_t m, size_t n, size_t k,
                             int accumulate) {
    float bp[LM_GEMM_PACK_K * 2 * W] __attribute__((aligned(64)));
    const int pack = k <= LM_GEMM_PACK_K && m > MR; /* else read B in place */
    for (size_t j0 = 0; j0 < n; j0 += 2 * W) {
        if (pack)
            for (size_t kk = 0; kk < k; kk++)
                memcpy(bp + kk * 2 * W, b + kk * b_ks + j0, sizeof(float) * 2 * W);
        KFN(gemm_panel)(c + j0, ldc, a, a_rs, a_ks, pack ? bp : b + j0, pack ? 2 * W : b_ks, m, k,
                        accumulate);
    }
}

/* B packed by KFN(pack_b): panel p holds columns [2W p, 2W p + 2W), k rows. */
LM_TGT static void KFN(gemm_packed)(float *c, size_t ldc, const float *a, size_t a_rs,
                                    size_t a_ks, const float *bp, size_t m, size_t n, size_t k,
                                    int accumulate) {
    for (size_t j0 = 0; j0 < n; j0 += 2 * W)
        KFN(gemm_panel)(c + j0, ldc, a, a_rs, a_ks, bp + j0 * k, 2 * W, m, k, accumulate);
}

LM_TGT static void KFN(pack_b)(float *bp, const float *b, size_t b_ks, size_t b_js,
                               size_t n_valid, size_t n, size_t k) {
    for (size_t j0 = 0; j0 < n; j0 += 2 * W)
        for (size_t kk = 0; kk < k; kk++)
            for (size_t j = j0; j < j0 + 2 * W; j++)
                *bp++ = j < n_valid ? b[kk * b_ks + j * b_js] : 0.0f;
}

#undef vf
#undef KFN
