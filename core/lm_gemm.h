/* lm_gemm: the output layer's matrix products, with a register-blocked
 * microkernel per ISA level (lm_isa_level()), for the fused head of
 * lm_head.c. Internal to core/.
 *
 *   C[r][j] (+)= sum_{k < K} A(r, k) B(k, j)      r < m, j < n
 *   A(r, k) = a[r * a_rs + k * a_ks]   (either stride may be 1: rows of a
 *                                       row-major matrix, or its columns)
 *   B(k, j) = b[k * b_ks + j]          (rows of B contiguous)
 *
 * n must be a multiple of lm_gemm_tile_cols() (the level's tile width:
 * 32, 16 or 8 columns, each a divisor of LM_GEMM_NR = 32). C is written
 * (accumulate == 0) or added to. Each C element is summed over k in
 * increasing order in one float accumulator, so results depend only on the
 * inputs and the level (not on the strides or on how B is packed). */
#ifndef LM_GEMM_H
#define LM_GEMM_H

#include <stddef.h>

#define LM_GEMM_NR 32

void lm_gemm_strided(float *c, size_t ldc, const float *a, size_t a_rs, size_t a_ks,
                     const float *b, size_t b_ks, size_t m, size_t n, size_t k, int accumulate);
/* The same product with B packed once for several calls (a B that every
 * vocabulary block reuses): lm_gemm_pack_b fills bp (n x k floats) from
 *   B(kk, j) = j < n_valid ? b[kk * b_ks + j * b_js] : 0   (kk < k, j < n)
 * in the current level's panel layout, and lm_gemm_packed uses it. Same
 * sums, so the same results as lm_gemm_strided on that B. */
void lm_gemm_pack_b(float *bp, const float *b, size_t b_ks, size_t b_js, size_t n_valid, size_t n,
                    size_t k);
void lm_gemm_packed(float *c, size_t ldc, const float *a, size_t a_rs, size_t a_ks, const float *bp,
                    size_t m, size_t n, size_t k, int accumulate);
/* Columns of the current level's tile (32 at AVX-512, 16 at AVX2, 8 at
 * baseline). */
size_t lm_gemm_tile_cols(void);

#endif
