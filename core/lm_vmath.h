/* lm_vmath: small vector kernels over float arrays for the hot loops of the
 * model (the softmax over a vocabulary row, the LSTM gate nonlinearities).
 *
 * Each kernel is plain C that gcc auto-vectorizes, compiled for several ISAs
 * (avx512f, avx2, baseline) and picked at load time, so the binary stays
 * portable without -march=native. lm_vexp is a Cephes-style polynomial exp,
 * accurate to ~2 ulp on [-87, 88] (inputs are clamped to that range, so
 * exp(-inf) gives ~1e-38, never NaN or a denormal). */
#ifndef LM_VMATH_H
#define LM_VMATH_H

#include <stddef.h>
#include <stdint.h>

/* Largest element of x[0..n), n >= 1. */
float lm_vmax(const float *x, size_t n);
/* x[i] = exp(x[i] - shift); returns the sum of the new x[i]. */
float lm_vexp_sum(float *x, size_t n, float shift);
/* x[i] = exp(x[i]). */
void lm_vexp(float *x, size_t n);
/* x[i] += b[i]; returns the largest new x[i]; n >= 1. */
float lm_vadd_max(float *x, const float *b, size_t n);
/* x[i] = 1 / (1 + exp(-x[i])), relative error < 1e-6. */
void lm_vsigmoid(float *x, size_t n);
/* x[i] = tanh(x[i]), relative error < 1e-6 (a polynomial near 0). */
void lm_vtanh(float *x, size_t n);
/* x[i] *= a; acc[i] += x[i]  (acc may be NULL). */
void lm_vscale_acc(float *x, size_t n, float a, float *acc);

/* Elementwise kernels of the fused head (one vocabulary row of logits over
 * the batch rows): */
/* x[i] += c; mx[i] = max(mx[i], x[i]). */
void lm_vadd_colmax(float *x, float c, float *mx, size_t n);
/* x[i] = exp(x[i] - m[i]); s[i] += x[i]. For x[i] <= m[i] (m[i] a max
 * over x[i]): larger x[i] are not clamped to lm_vexp's range. */
void lm_vexp_sub_acc(float *x, const float *m, float *s, size_t n);
/* x[i] *= f[i]; returns the sum of the new x[i] (in a fixed order). */
float lm_vmul_sum(float *x, const float *f, size_t n);

/* The generation head's matrix-vector products: lm_vgemv.h. */
#include "lm_vgemv.h"

#endif
