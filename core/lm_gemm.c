/* lm_gemm: lm_gemm_strided per ISA level (see lm_gemm.h, lm_gemm_level.h).
 * The level's tile is 2W columns wide; a 32-column block of C is covered by
 * 1, 2 or 4 of them. */
#include "lm_gemm.h"

#include <string.h>

#include "lm_clones.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

#define LM_CAT_(a, b) a##b
#define LM_CAT(a, b) LM_CAT_(a, b)
/* Longest K whose B panels are packed (64 KB of stack at AVX-512). */
#define LM_GEMM_PACK_K 512

#define LEVEL avx512
#define W 16
#define MR 8
#define LM_TGT LM_TARGET_AVX512
#include "lm_gemm_level.h"
#undef LEVEL
#undef W
#undef MR
#undef LM_TGT
#define LEVEL avx2
#define W 8
#define MR 6
#define LM_TGT LM_TARGET_AVX2
#include "lm_gemm_level.h"
#undef LEVEL
#undef W
#undef MR
#undef LM_TGT
#define LEVEL baseline
#define W 4
#define MR 4
#define LM_TGT LM_TARGET_BASELINE
#include "lm_gemm_level.h"

size_t lm_gemm_tile_cols(void) { return LM_ISA_CALL(tile_cols, ()); }

void lm_gemm_strided(float *c, size_t ldc, const float *a, size_t a_rs, size_t a_ks,
                     const float *b, size_t b_ks, size_t m, size_t n, size_t k, int accumulate) {
    if (!m || !n) return;
    LM_ISA_CALL(gemm, (c, ldc, a, a_rs, a_ks, b, b_ks, m, n, k, accumulate));
}

void lm_gemm_pack_b(float *bp, const float *b, size_t b_ks, size_t b_js, size_t n_valid, size_t n,
                    size_t k) {
    LM_ISA_CALL(pack_b, (bp, b, b_ks, b_js, n_valid, n, k));
}

void lm_gemm_packed(float *c, size_t ldc, const float *a, size_t a_rs, size_t a_ks, const float *bp,
                    size_t m, size_t n, size_t k, int accumulate) {
    if (!m || !n) return;
    LM_ISA_CALL(gemm_packed, (c, ldc, a, a_rs, a_ks, bp, m, n, k, accumulate));
}
