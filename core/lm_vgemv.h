/* lm_vgemv: the generation head, y = A x + b over the [V, H] output weights,
 * fp32 or an fp16 copy (lm_vgemv.c; per-level kernels in lm_vgemv_level.h).
 * Memory-bound: one pass over A per token. */
#ifndef LM_VGEMV_H
#define LM_VGEMV_H

#include <stddef.h>
#include <stdint.h>

/* y[r] = dot(A[r, 0..cols), x) + (b ? b[r] : 0) for r < rows; A row-major.
 * The generation head: one pass over A at memory bandwidth. */
void lm_vgemv_rows(float *y, const float *A, const float *x, const float *b,
                   size_t rows, size_t cols);

/* fp16 generation head (lm_vgemv.c). lm_vf16_supported: 1 where a fast
 * kernel exists (x86 AVX-512F, or AVX2+F16C+FMA); callers use the fp16 path
 * only then. A is an IEEE binary16 copy (lm_vf32_to_f16, round to nearest
 * even) of a row-major [rows, cols] float matrix. */
int lm_vf16_supported(void);
void lm_vf32_to_f16(uint16_t *dst, const float *src, size_t n);
float lm_vf16_to_f32(uint16_t h);
void lm_vgemv_rows_f16(float *y, const uint16_t *A, const float *x, const float *b,
                       size_t rows, size_t cols);

#endif
