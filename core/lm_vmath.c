/* lm_vmath: float kernels cloned per ISA (see lm_vmath.h).
 *
 * Written with GCC vector extensions over 16 floats (one zmm register under
 * the avx512f clone, two ymm under avx2, four xmm in the baseline), so the
 * code is vectorized the same way whatever the optimizer's mood, without
 * -ffast-math. Tails shorter than 16 go through the scalar version of the
 * same formula. Vectors never cross a function boundary (gcc notes an ABI
 * change for 64-byte vector arguments), hence the macros. Invariant: results
 * depend only on the inputs and the ISA clone picked at load time. */
#include "lm_vmath.h"

#include <stdint.h>
#include <string.h>

/* Let a*b+c become one FMA where the ISA has it (halves the polynomial). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

/* ifunc resolvers run before the sanitizers' runtime is up: no clones there */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define LM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LM_CLONES
#endif
#define W 16

typedef float vf __attribute__((vector_size(W * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(W * sizeof(int32_t))));

#define VLOAD(v, p) memcpy(&(v), (p), sizeof(vf))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(vf))
#define VSPLAT(a) ((vf){0} + (a))
/* lane-wise max of two vf variables */
#define VMAX(a, b) ((vf)(((vi)(a) & ((a) > (b))) | ((vi)(b) & ~((a) > (b)))))

/* exp(v) = 2^k * p(r), k = round(v / ln2) by the 1.5 * 2^23 trick (no libm
 * call), r = v - k ln2 with ln2 split in two for accuracy, Cephes expf
 * polynomial p; v is first clamped to [EXP_LO, EXP_HI] so 2^k stays a normal
 * float. T is float or vf, Y receives the result, V is clobbered. */
#define EXP_LO (-87.0f)
#define EXP_HI 88.0f
#define EXP_BODY(T, Y, V)                                                     \
    do {                                                                      \
        T kf_ = ((V) * 1.44269504088896341f + 12582912.0f) - 12582912.0f;     \
        T r_ = (V) - kf_ * 0.693359375f;                                      \
        r_ = r_ - kf_ * -2.12194440e-4f;                                      \
        T p_ = r_ * 1.9875691500e-4f + 1.3981999507e-3f;                      \
        p_ = p_ * r_ + 8.3334519073e-3f;                                      \
        p_ = p_ * r_ + 4.1665795894e-2f;                                      \
        p_ = p_ * r_ + 1.6666665459e-1f;                                      \
        p_ = p_ * r_ + 5.0000001201e-1f;                                      \
        p_ = p_ * r_ * r_ + r_ + 1.0f;                                        \
        EXP_SCALE_##T(Y, p_, kf_);                                            \
    } while (0)
#define EXP_SCALE_vf(Y, P, KF)                                                \
    do {                                                                      \
        vi bits_ = (__builtin_convertvector((KF), vi) + 127) << 23;           \
        (Y) = (P) * (vf)bits_;                                                \
    } while (0)
#define EXP_SCALE_float(Y, P, KF)                                             \
    do {                                                                      \
        uint32_t bits_ = (uint32_t)((int32_t)(KF) + 127) << 23;               \
        float s_;                                                             \
        memcpy(&s_, &bits_, sizeof s_);                                       \
        (Y) = (P) * s_;                                                       \
    } while (0)
#define VEXP(Y, V)                                                            \
    do {                                                                      \
        vf lo_ = VSPLAT(EXP_LO), hi_ = VSPLAT(EXP_HI), c_ = (V);              \
        c_ = VMAX(c_, lo_);                                                   \
        c_ = -c_;                                                             \
        hi_ = -hi_;                                                           \
        c_ = -VMAX(c_, hi_);                                                  \
        EXP_BODY(vf, Y, c_);                                                  \
    } while (0)

static inline float sexp(float v) {
    v = v < EXP_LO ? EXP_LO : v;
    v = v > EXP_HI ? EXP_HI : v;
    float y;
    EXP_BODY(float, y, v);
    return y;
}

LM_CLONES float lm_vmax(const float *x, size_t n) {
    float m = x[0];
    size_t i = 0;
    if (n >= W) {
        vf acc, v;
        VLOAD(acc, x);
        for (i = W; i + W <= n; i += W) {
            VLOAD(v, x + i);
            acc = VMAX(v, acc);
        }
        for (int j = 0; j < W; j++) m = acc[j] > m ? acc[j] : m;
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

LM_CLONES float lm_vadd_max(float *x, const float *b, size_t n) {
    float m = x[0] + b[0];
    size_t i = 0;
    if (n >= W) {
        vf acc = VSPLAT(m), v, u;
        for (; i + W <= n; i += W) {
            VLOAD(v, x + i);
            VLOAD(u, b + i);
            v += u;
            VSTORE(x + i, v);
            acc = VMAX(v, acc);
        }
        for (int j = 0; j < W; j++) m = acc[j] > m ? acc[j] : m;
    }
    for (; i < n; i++) {
        x[i] += b[i];
        m = x[i] > m ? x[i] : m;
    }
    return m;
}

LM_CLONES float lm_vexp_sum(float *x, size_t n, float shift) {
    vf acc = VSPLAT(0.0f), v, e;
    size_t i = 0;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        v -= shift;
        VEXP(e, v);
        VSTORE(x + i, e);
        acc += e;
    }
    float s = 0.0f;
    for (int j = 0; j < W; j++) s += acc[j];
    for (; i < n; i++) {
        x[i] = sexp(x[i] - shift);
        s += x[i];
    }
    return s;
}

LM_CLONES void lm_vexp(float *x, size_t n) {
    size_t i = 0;
    vf v, e;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        VEXP(e, v);
        VSTORE(x + i, e);
    }
    for (; i < n; i++) x[i] = sexp(x[i]);
}

LM_CLONES void lm_vscale_acc(float *x, size_t n, float a, float *acc) {
    size_t i = 0;
    vf v, u;
    if (acc) {
        for (; i + W <= n; i += W) {
            VLOAD(v, x + i);
            VLOAD(u, acc + i);
            v *= a;
            u += v;
            VSTORE(x + i, v);
            VSTORE(acc + i, u);
        }
        for (; i < n; i++) {
            x[i] *= a;
            acc[i] += x[i];
        }
    } else {
        for (; i + W <= n; i += W) {
            VLOAD(v, x + i);
            v *= a;
            VSTORE(x + i, v);
        }
        for (; i < n; i++) x[i] *= a;
    }
}

/* sigmoid(x) = 1 / (1 + exp(-x)): full relative accuracy everywhere (exp is
 * clamped, so the result saturates to 0 or 1 cleanly). */
LM_CLONES void lm_vsigmoid(float *x, size_t n) {
    size_t i = 0;
    vf v, e;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        v = -v;
        VEXP(e, v);
        v = 1.0f / (1.0f + e);
        VSTORE(x + i, v);
    }
    for (; i < n; i++) x[i] = 1.0f / (1.0f + sexp(-x[i]));
}

/* tanh as Cephes tanhf: x + x^3 P(x^2) for |x| < 0.625 (no cancellation near
 * 0), else sign(x) (1 - 2 / (exp(2|x|) + 1)). The vector path computes both
 * and selects per lane. */
#define TANH_SMALL(T, Y, X)                                                   \
    do {                                                                      \
        T z_ = (X) * (X);                                                     \
        T q_ = z_ * -5.70498872745e-3f + 2.06390887954e-2f;                   \
        q_ = q_ * z_ - 5.37397155531e-2f;                                     \
        q_ = q_ * z_ + 1.33314422036e-1f;                                     \
        q_ = q_ * z_ - 3.33332819422e-1f;                                     \
        (Y) = q_ * z_ * (X) + (X);                                            \
    } while (0)

static inline float stanh(float x) {
    float a = x < 0.0f ? -x : x, y;
    if (a < 0.625f) {
        TANH_SMALL(float, y, x);
        return y;
    }
    y = 1.0f - 2.0f / (sexp(2.0f * a) + 1.0f);
    return x < 0.0f ? -y : y;
}

LM_CLONES void lm_vtanh(float *x, size_t n) {
    size_t i = 0;
    vf v, a, e, big, small;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        vi neg = v < 0.0f;
        a = (vf)(((vi)v & ~neg) | ((vi)-v & neg));
        e = a + a;
        VEXP(e, e);
        big = 1.0f - 2.0f / (e + 1.0f);
        big = (vf)(((vi)big & ~neg) | ((vi)-big & neg));
        TANH_SMALL(vf, small, v);
        vi lo = a < 0.625f;
        v = (vf)(((vi)small & lo) | ((vi)big & ~lo));
        VSTORE(x + i, v);
    }
    for (; i < n; i++) x[i] = stanh(x[i]);
}

/* Folding 16 row accumulators into one vector of 16 row sums: each level
 * adds the two halves of adjacent blocks (a shuffle pair and one add), so 16
 * rows cost 15 folds instead of 16 horizontal sums. The lanes come out in
 * 4-bit bit-reversed row order (FOLD_ORDER). */
#define FOLD(a, b, lo, hi) (__builtin_shuffle(a, b, lo) + __builtin_shuffle(a, b, hi))
static const int FOLD_ORDER[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};

/* Sixteen rows per pass, each a dot product over whole vectors, then one
 * fold: the matrix streams from memory once, so this runs near memory
 * bandwidth (0.8 ms for [50000,128] here; OpenBLAS's row-major sgemv ~1.4 ms). */
LM_CLONES void lm_vgemv_rows(float *y, const float *A, const float *x, const float *b,
                             size_t rows, size_t cols) {
    size_t r = 0;
    if (cols % W == 0) {
        for (; r + 16 <= rows; r += 16) {
            const vi lo8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
            const vi hi8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
            const vi lo4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
            const vi hi4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
            const vi lo2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
            const vi hi2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
            const vi lo1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
            const vi hi1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};
            vf p[16], q[8], u[4], w[2], av, xv;
            for (int i = 0; i < 16; i++) {
                const float *a = A + (r + (size_t)i) * cols;
                vf s = {0}, t = {0};
                size_t j = 0;
                for (; j + 2 * W <= cols; j += 2 * W) {
                    VLOAD(av, a + j); VLOAD(xv, x + j); s += av * xv;
                    VLOAD(av, a + j + W); VLOAD(xv, x + j + W); t += av * xv;
                }
                for (; j < cols; j += W) {
                    VLOAD(av, a + j); VLOAD(xv, x + j); s += av * xv;
                }
                p[i] = s + t;
            }
            for (int i = 0; i < 8; i++) q[i] = FOLD(p[2 * i], p[2 * i + 1], lo8, hi8);
            for (int i = 0; i < 4; i++) u[i] = FOLD(q[2 * i], q[2 * i + 1], lo4, hi4);
            for (int i = 0; i < 2; i++) w[i] = FOLD(u[2 * i], u[2 * i + 1], lo2, hi2);
            vf z = FOLD(w[0], w[1], lo1, hi1);
            float o[W];
            VSTORE(o, z);
            for (int l = 0; l < 16; l++) {
                size_t row = r + (size_t)FOLD_ORDER[l];
                y[row] = o[l] + (b ? b[row] : 0.0f);
            }
        }
    }
    for (; r < rows; r++) {
        const float *a = A + r * cols;
        float d = 0.0f;
        for (size_t j = 0; j < cols; j++) d += a[j] * x[j];
        y[r] = d + (b ? b[r] : 0.0f);
    }
}
