/* lm_vmath: float kernels per ISA level (see lm_vmath.h).
 *
 * Written with GCC vector extensions one register wide at each level (16
 * floats in a zmm at AVX-512, 8 in a ymm at AVX2, 4 in an xmm at baseline:
 * lm_vmath_level.h, included once per level), so the code is vectorized the
 * same way whatever the optimizer's mood, without -ffast-math, and no level
 * splits a vector into more registers than it has. Tails shorter than a
 * vector go through the scalar version of the same formula. Vectors never
 * cross a function boundary, hence the macros. Invariant: results depend
 * only on the inputs and the level lm_isa_level() picked. */
#include "lm_vmath.h"
#include "lm_clones.h"

#include <stdint.h>
#include <string.h>

/* Let a*b+c become one FMA where the ISA has it (halves the polynomial). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

#define LM_CAT_(a, b) a##b
#define LM_CAT(a, b) LM_CAT_(a, b)

/* vf and vi are the current level's float and int32 vectors (set by
 * lm_vmath_level.h around the kernels that use these macros). */
#define VLOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(v))
#define VSPLAT(a) ((vf){0} + (a))
/* lane-wise max of two vf variables: a > b ? a : b (NaN in either gives
 * b), which is exactly x86's MAXPS; gcc writes the generic form as a compare
 * and a blend, so AVX2 names the instruction (same bits, one op instead of
 * two). VMAX picks the current level's form (LEVEL is set around the
 * kernels). */
#define VMAX_GENERIC(a, b) ((vf)(((vi)(a) & ((a) > (b))) | ((vi)(b) & ~((a) > (b)))))
#define VMAX_avx512 VMAX_GENERIC
#define VMAX_baseline VMAX_GENERIC
#if defined(__x86_64__) && defined(__GNUC__)
#define VMAX_avx2(a, b) ((vf)__builtin_ia32_maxps256((a), (b)))
#else
#define VMAX_avx2 VMAX_GENERIC
#endif
#define VMAX(a, b) LM_CAT(VMAX_, LEVEL)(a, b)

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

/* VEXP for V <= 0 or NaN (x minus a max of x): only the lower clamp is
 * needed, and the results are VEXP's bit for bit. */
#define VEXP_NONPOS(Y, V)                                                     \
    do {                                                                      \
        vf lo_ = VSPLAT(EXP_LO), c_ = (V);                                    \
        c_ = VMAX(c_, lo_);                                                   \
        EXP_BODY(vf, Y, c_);                                                  \
    } while (0)

static inline float sexp(float v) {
    v = v < EXP_LO ? EXP_LO : v;
    v = v > EXP_HI ? EXP_HI : v;
    float y;
    EXP_BODY(float, y, v);
    return y;
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


#define LEVEL avx512
#define W 16
#define LM_TGT LM_TARGET_AVX512
#include "lm_vmath_level.h"
#undef LEVEL
#undef W
#undef LM_TGT
#define LEVEL avx2
#define W 8
#define LM_TGT LM_TARGET_AVX2
#include "lm_vmath_level.h"
#undef LEVEL
#undef W
#undef LM_TGT
#define LEVEL baseline
#define W 4
#define LM_TGT LM_TARGET_BASELINE
#include "lm_vmath_level.h"

float lm_vmax(const float *x, size_t n) { return LM_ISA_CALL(kmax, (x, n)); }
float lm_vadd_max(float *x, const float *b, size_t n) { return LM_ISA_CALL(kadd_max, (x, b, n)); }
float lm_vexp_sum(float *x, size_t n, float shift) { return LM_ISA_CALL(kexp_sum, (x, n, shift)); }
void lm_vexp(float *x, size_t n) { LM_ISA_CALL(kexp, (x, n)); }
void lm_vscale_acc(float *x, size_t n, float a, float *acc) { LM_ISA_CALL(kscale_acc, (x, n, a, acc)); }
void lm_vsigmoid(float *x, size_t n) { LM_ISA_CALL(ksigmoid, (x, n)); }
void lm_vtanh(float *x, size_t n) { LM_ISA_CALL(ktanh, (x, n)); }
void lm_vadd_colmax(float *x, float c, float *mx, size_t n) { LM_ISA_CALL(kadd_colmax, (x, c, mx, n)); }
void lm_vexp_sub_acc(float *x, const float *m, float *s, size_t n) { LM_ISA_CALL(kexp_sub_acc, (x, m, s, n)); }
float lm_vmul_sum(float *x, const float *f, size_t n) { return LM_ISA_CALL(kmul_sum, (x, f, n)); }
