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
#include "lm_clones.h"

#include <stdint.h>
#include <string.h>

/* Let a*b+c become one FMA where the ISA has it (halves the polynomial). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
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
