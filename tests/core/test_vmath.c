/* The vector kernels (lm_vmath.h) against libm/double, including the
 * scalar tails (lengths that are not a multiple of the vector width). ctest
 * runs this binary once per ISA level (LM_ISA=avx512, avx2, baseline; a
 * level above the host's runs the host's), so every kernel of every level
 * the host has meets the same stated tolerances. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_vmath.h"

Test(vmath, exp_is_within_4e_minus_7_relative_over_the_float_range) {
    const size_t n = 100003;
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = -87.0f + 175.0f * (float)i / (float)n;
    float *y = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    lm_vexp(y, n);
    for (size_t i = 0; i < n; i++) {
        double want = exp((double)x[i]);
        cr_assert(fabs(y[i] - want) <= 4e-7 * want, "exp(%.9g) = %.9g, want %.9g", x[i], y[i],
                  want);
    }
    free(x), free(y);
}

Test(vmath, exp_clamps_instead_of_overflowing_or_going_denormal) {
    float x[19];
    for (int i = 0; i < 19; i++) x[i] = i % 2 ? -1e30f : -INFINITY;
    x[18] = 1e30f;
    lm_vexp(x, 19);
    for (int i = 0; i < 18; i++) cr_expect(x[i] > 0.0f && x[i] < 1e-37f && isnormal(x[i]));
    cr_expect(isfinite(x[18]) && x[18] > 1e38f);
}

Test(vmath, exp_sum_shifts_and_sums) {
    for (size_t n = 1; n < 70; n += 7) {
        float x[80];
        double want = 0.0;
        for (size_t i = 0; i < n; i++) x[i] = (float)i * 0.25f - 3.0f;
        for (size_t i = 0; i < n; i++) want += exp((double)x[i] - 2.0);
        float s = lm_vexp_sum(x, n, 2.0f);
        cr_expect(fabs(s - want) <= 1e-6 * want, "n=%zu sum %.9g want %.9g", n, s, want);
        for (size_t i = 0; i < n; i++)
            cr_expect(fabs(x[i] - exp((double)i * 0.25 - 5.0)) <= 1e-6 * x[i]);
    }
}

Test(vmath, max_and_add_max_see_every_element) {
    for (size_t n = 1; n < 70; n++) {
        for (size_t at = 0; at < n; at++) {
            float x[70], b[70];
            for (size_t i = 0; i < n; i++) x[i] = -(float)i, b[i] = 1.0f;
            x[at] = 100.0f;
            cr_assert_eq(lm_vmax(x, n), 100.0f, "n=%zu at=%zu", n, at);
            cr_assert_eq(lm_vadd_max(x, b, n), 101.0f, "n=%zu at=%zu", n, at);
            cr_assert_eq(x[at], 101.0f);
            cr_assert_eq(x[n - 1], n - 1 == at ? 101.0f : 2.0f - (float)n);
        }
    }
}

Test(vmath, scale_acc_scales_and_accumulates) {
    for (size_t n = 1; n < 40; n += 3) {
        float x[40], acc[40];
        for (size_t i = 0; i < n; i++) x[i] = (float)i, acc[i] = 1.0f;
        lm_vscale_acc(x, n, 0.5f, acc);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(x[i], 0.5f * (float)i);
            cr_assert_eq(acc[i], 1.0f + 0.5f * (float)i);
        }
        lm_vscale_acc(x, n, 2.0f, NULL);
        for (size_t i = 0; i < n; i++) cr_assert_eq(x[i], (float)i);
    }
}

Test(vmath, sigmoid_and_tanh_are_within_1e_minus_6_relative) {
    const size_t n = 40001; /* odd: exercises the scalar tail */
    float *s = malloc(sizeof(float) * n), *t = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) s[i] = t[i] = -20.0f + 40.0f * (float)i / (float)(n - 1);
    t[7] = 1e-4f, t[8] = -3e-7f, t[9] = 0.0f, s[7] = -200.0f, s[8] = 200.0f;
    float xs[40001], xt[40001];
    for (size_t i = 0; i < n; i++) xs[i] = s[i], xt[i] = t[i];
    lm_vsigmoid(s, n);
    lm_vtanh(t, n);
    for (size_t i = 0; i < n; i++) {
        double ws = 1.0 / (1.0 + exp(-(double)xs[i])), wt = tanh((double)xt[i]);
        cr_assert(fabs(s[i] - ws) <= 1e-6 * ws + 1e-30, "sigmoid(%.9g) = %.9g, want %.9g", xs[i],
                  s[i], ws);
        cr_assert(fabs(t[i] - wt) <= 1e-6 * fabs(wt), "tanh(%.9g) = %.9g, want %.9g", xt[i], t[i],
                  wt);
    }
    free(s), free(t);
}

/* The generation head: every row (W-row folded blocks, W = 16, 8 or 4 by
 * level, the row tail, and widths that are multiples of 4 or 8 but not 16)
 * against a double dot product, with
 * and without a bias. Tolerance 1e-5 relative to the sum of |terms|: float
 * rounding of 128 products is ~1e-6 of that; a wrong row or lane is O(1). */
Test(vmath, gemv_rows_matches_double_dot_products_in_every_row) {
    const size_t shapes[][2] = {{16, 16}, {37, 128}, {50000 / 97, 64}, {21, 40}, {3, 7}, {48, 32},
                                {13, 24}, {9, 12}, {4, 4}, {8, 8}};
    srand(7);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t R = shapes[s][0], C = shapes[s][1];
        float *A = malloc(R * C * sizeof *A), *x = malloc(C * sizeof *x), *b = malloc(R * sizeof *b),
              *y = malloc(R * sizeof *y);
        for (size_t i = 0; i < R * C; i++) A[i] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t j = 0; j < C; j++) x[j] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t r = 0; r < R; r++) b[r] = (float)r;
        for (int with_b = 0; with_b < 2; with_b++) {
            lm_vgemv_rows(y, A, x, with_b ? b : NULL, R, C);
            for (size_t r = 0; r < R; r++) {
                double d = with_b ? b[r] : 0.0, mag = fabs(d);
                for (size_t j = 0; j < C; j++) {
                    d += (double)A[r * C + j] * x[j];
                    mag += fabs((double)A[r * C + j] * x[j]);
                }
                cr_assert(fabs(y[r] - d) <= 1e-5 * (mag + 1e-30), "shape %zux%zu row %zu: %g vs %g", R, C, r,
                          (double)y[r], d);
            }
        }
        free(A), free(x), free(b), free(y);
    }
}

/* IEEE binary16 conversion: exact values, rounding to nearest even, the
 * subnormal and overflow ends. */
Test(vmath, f16_conversion_rounds_to_nearest_even) {
    const float in[] = {1.0f, -2.0f, 65504.0f, 65520.0f, 6.103515625e-05f, 5.960464477539063e-08f,
                        1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 0.0f, 1e-9f, INFINITY};
    const uint16_t want[] = {0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0400, 0x0001, 0x3c00, 0x3c02, 0, 0, 0x7c00};
    uint16_t out[sizeof in / sizeof in[0]];
    lm_vf32_to_f16(out, in, sizeof in / sizeof in[0]);
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        cr_assert_eq(out[i], want[i], "%g -> 0x%04x, want 0x%04x", (double)in[i], out[i], want[i]);
    for (uint32_t h = 0; h < 0x7c00; h += 7) { /* every 7th finite positive half round-trips */
        uint16_t back;
        float f = lm_vf16_to_f32((uint16_t)h);
        lm_vf32_to_f16(&back, &f, 1);
        cr_assert_eq(back, h, "0x%04x -> %g -> 0x%04x", h, (double)f, back);
    }
}

/* The fp16 head computes exactly the dot products of the dequantized
 * weights (float rounding aside), in every row and for odd widths. */
Test(vmath, gemv_rows_f16_matches_dequantized_double_dot_products) {
    const size_t shapes[][2] = {{16, 16}, {37, 128}, {515, 64}, {21, 40}, {3, 7}, {13, 24}, {9, 12}, {8, 8}};
    srand(11);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t R = shapes[s][0], C = shapes[s][1];
        float *A = malloc(R * C * sizeof *A), *x = malloc(C * sizeof *x), *y = malloc(R * sizeof *y);
        uint16_t *Ah = malloc(R * C * sizeof *Ah);
        for (size_t i = 0; i < R * C; i++) A[i] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t j = 0; j < C; j++) x[j] = (float)rand() / RAND_MAX - 0.5f;
        lm_vf32_to_f16(Ah, A, R * C);
        lm_vgemv_rows_f16(y, Ah, x, NULL, R, C);
        for (size_t r = 0; r < R; r++) {
            double d = 0, mag = 0, d32 = 0;
            for (size_t j = 0; j < C; j++) {
                double w = lm_vf16_to_f32(Ah[r * C + j]);
                d += w * x[j];
                d32 += (double)A[r * C + j] * x[j];
                mag += fabs(w * x[j]);
            }
            cr_assert(fabs(y[r] - d) <= 1e-5 * (mag + 1e-30), "shape %zux%zu row %zu: %g vs %g", R, C, r,
                      (double)y[r], d);
            /* and the fp16 weights stay within 2^-11 relative of the fp32 ones */
            cr_assert(fabs(d - d32) <= 5e-4 * mag + 1e-12, "row %zu: fp16 %g vs fp32 %g", r, d, d32);
        }
        free(A), free(x), free(y), free(Ah);
    }
}

/* The head's exp pass (x minus a column max, so <= 0 or NaN) clamps only
 * from below; that must give lm_vexp's bits, including -inf, NaN and the
 * scalar tail, and add them to s in place. */
Test(vmath, exp_sub_acc_is_vexp_of_the_difference_bit_for_bit) {
    enum { N = 61 };
    float x[N], m[N], d[N], s[N], s0[N];
    for (int i = 0; i < N; i++) {
        m[i] = i % 5 == 0 ? INFINITY : (float)(i % 7) * 13.0f - 40.0f;
        x[i] = m[i] - (float)i * (float)i * 0.37f;
        s[i] = s0[i] = (float)i * 0.5f;
    }
    x[3] = -INFINITY, x[7] = NAN, x[9] = m[9], x[10] = INFINITY, m[11] = -INFINITY,
    x[11] = -INFINITY, x[N - 1] = m[N - 1] - 200.0f;
    for (int i = 0; i < N; i++) d[i] = x[i] - m[i];
    lm_vexp(d, N);
    lm_vexp_sub_acc(x, m, s, N);
    for (int i = 0; i < N; i++) {
        cr_assert(!memcmp(&x[i], &d[i], sizeof(float)), "[%d]: %.9g, want %.9g", i, x[i], d[i]);
        float want = s0[i] + d[i];
        cr_assert(!memcmp(&s[i], &want, sizeof(float)), "s[%d]", i);
    }
}
