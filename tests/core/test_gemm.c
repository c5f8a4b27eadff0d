/* The head's matrix products (lm_gemm.h) against a double-precision
 * reference, and the contract that B's layout moves data only: the same
 * product read in place, packed inside lm_gemm_strided (K <= 512, several
 * row tiles), or packed by lm_gemm_pack_b gives the same bits. ctest runs
 * this binary once per ISA level (LM_ISA), so each level's tile width and
 * kernels are checked. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_gemm.h"
#include "lm_isa.h"

static float *randv(size_t n, unsigned seed) {
    float *x = malloc(sizeof(float) * n);
    srand(seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return x;
}

Test(gemm, tile_width_is_the_levels) {
    const size_t want[] = {8, 16, 32}; /* baseline, avx2, avx512 */
    cr_assert_eq(lm_gemm_tile_cols(), want[lm_isa_level()]);
    cr_assert_eq(LM_GEMM_NR % lm_gemm_tile_cols(), 0);
}

/* C = A B (+ C0) with A stored either way; n one tile wide (not a multiple
 * of 32 below AVX-512) and several tiles; K around the packing limit.
 * Tolerance: entries are in [-0.5, 0.5), so each product is <= 0.25 and an
 * fp32 sum of k of them carries rounding of ~2^-24 per add, growing like
 * sqrt(k) for random signs (~1e-6 at k = 600); 1e-5 (1 + sqrt(k)) leaves
 * that a wide margin, while a dropped or doubled term (~0.06 on average)
 * is over 200x that (2.5e-4 at k = 600). */
Test(gemm, strided_matches_double_reference_within_1e_minus_5) {
    const size_t tc = lm_gemm_tile_cols(), ms[] = {1, 5, 13, 37}, ks[] = {1, 7, 130, 600};
    for (int t = 0; t < 2; t++)
        for (size_t im = 0; im < 4; im++)
            for (size_t ik = 0; ik < 4; ik++) {
                size_t m = ms[im], k = ks[ik], n = t ? 3 * tc : tc, ldc = n + 3;
                float *a = randv(m * k, 1), *b = randv(k * n, 2), *c = randv(m * ldc, 3);
                float *c0 = malloc(sizeof(float) * m * ldc);
                memcpy(c0, c, sizeof(float) * m * ldc);
                size_t a_rs = t ? 1 : k, a_ks = t ? m : 1; /* columns / rows of a */
                lm_gemm_strided(c, ldc, a, a_rs, a_ks, b, n, m, n, k, t);
                for (size_t r = 0; r < m; r++)
                    for (size_t j = 0; j < n; j++) {
                        double want = t ? c0[r * ldc + j] : 0.0;
                        for (size_t q = 0; q < k; q++)
                            want += (double)a[r * a_rs + q * a_ks] * b[q * n + j];
                        cr_assert(fabs(c[r * ldc + j] - want) <= 1e-5 * (1.0 + sqrt((double)k)),
                                  "m %zu n %zu k %zu: C[%zu][%zu] = %.9g, want %.9g", m, n, k, r, j,
                                  c[r * ldc + j], want);
                    }
                free(a), free(b), free(c), free(c0);
            }
}

/* The head's three shapes, small: bits equal whichever way B is read. */
Test(gemm, packing_b_leaves_every_bit_unchanged) {
    const size_t tc = lm_gemm_tile_cols(), m = 29, n = 2 * tc, k = 45;
    float *a = randv(m * k, 4), *b = randv(k * n, 5), *bt = malloc(sizeof(float) * k * n);
    for (size_t q = 0; q < k; q++)
        for (size_t j = 0; j < n; j++) bt[j * k + q] = b[q * n + j];
    float *bp = malloc(sizeof(float) * k * n), *c1 = malloc(sizeof(float) * m * n);
    float *c2 = malloc(sizeof(float) * m * n), *c3 = malloc(sizeof(float) * m * n);
    float *c4 = malloc(sizeof(float) * m * n);
    lm_gemm_strided(c1, n, a, k, 1, b, n, m, n, k, 0); /* packed inside (m > tile rows) */
    for (size_t r = 0; r < m; r++)                      /* one row: read in place */
        lm_gemm_strided(c2 + r * n, n, a + r * k, k, 1, b, n, 1, n, k, 0);
    lm_gemm_pack_b(bp, b, n, 1, n, n, k);
    lm_gemm_packed(c3, n, a, k, 1, bp, m, n, k, 0);
    lm_gemm_pack_b(bp, bt, 1, k, n, n, k); /* B given transposed (b_js = k) */
    lm_gemm_packed(c4, n, a, k, 1, bp, m, n, k, 0);
    cr_assert(!memcmp(c1, c2, sizeof(float) * m * n));
    cr_assert(!memcmp(c1, c3, sizeof(float) * m * n));
    cr_assert(!memcmp(c1, c4, sizeof(float) * m * n));
    free(a), free(b), free(bt), free(bp), free(c1), free(c2), free(c3), free(c4);
}

Test(gemm, pack_b_zeroes_columns_past_n_valid) {
    const size_t tc = lm_gemm_tile_cols(), n = 2 * tc, k = 3, nv = tc + 1;
    float *b = randv(k * n, 6), *bp = malloc(sizeof(float) * k * n);
    float a[3] = {1.0f, 2.0f, -1.0f}, c[64];
    lm_gemm_pack_b(bp, b, n, 1, nv, n, k);
    lm_gemm_packed(c, n, a, k, 1, bp, 1, n, k, 0);
    /* three terms below 1 in size: a few ulps (~2e-7) of rounding at most;
     * a padding column left unzeroed would be off by ~0.5 */
    for (size_t j = 0; j < n; j++) {
        float want = j < nv ? (b[j] + 2.0f * b[n + j]) - b[2 * n + j] : 0.0f;
        cr_assert(fabsf(c[j] - want) <= 1e-6f, "C[%zu] = %.9g, want %.9g", j, c[j], want);
    }
    free(b), free(bp);
}
