/* lm_vgemv: the generation head, y = A x + b over a row-major [rows, cols]
 * matrix read once per token (see lm_vmath.h). A token's cost is that one
 * pass over fc.weight, which is memory-bound, so: one vector width of rows
 * at a time (16 at AVX-512, 8 at AVX2, 4 at baseline; lm_vgemv_level.h,
 * included once per level), their dot products folded into one vector by
 * shuffle-adds instead of one horizontal sum per row, in fp32 or over an IEEE
 * fp16 copy that halves the bytes (AVX2 level and up, which have F16C; at
 * baseline, or off x86, lm_vf16_supported() is 0 and callers keep the fp32
 * head). Invariant: results depend only on the inputs and lm_isa_level(). */
#include "lm_vgemv.h"
#include "lm_vmath.h"
#include "lm_clones.h"

#include <string.h>

/* Let a*b+c become one FMA where the ISA has it, as in lm_vmath.c. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LM_HAVE_X86 1
#else
#define LM_HAVE_X86 0
#endif

/* Portable IEEE binary16 <-> binary32 (round to nearest even), for tails. */
static float half_to_float(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    if (e == 0x1f) bits = s | 0x7f800000u | (m << 13);           /* inf, nan */
    else if (e) bits = s | ((e + 112u) << 23) | (m << 13);       /* normal */
    else if (!m) bits = s;                                       /* zero */
    else {                                                       /* subnormal */
        e = 113;
        while (!(m & 0x400u)) m <<= 1, e--;
        bits = s | (e << 23) | ((m & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t s = (x >> 16) & 0x8000u, e = (x >> 23) & 0xffu, m = x & 0x7fffffu;
    if (e == 0xff) return (uint16_t)(s | 0x7c00u | (m ? 0x200u : 0));
    int he = (int)e - 112;
    if (he >= 0x1f) return (uint16_t)(s | 0x7c00u);              /* overflow -> inf */
    if (he <= 0) {                                               /* subnormal or zero */
        if (he < -10) return (uint16_t)s;
        m |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - he), hm = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (hm & 1))) hm++;
        return (uint16_t)(s | hm);
    }
    uint32_t hm = m >> 13, rem = m & 0x1fffu;
    uint32_t r = s | ((uint32_t)he << 10) | hm;
    if (rem > 0x1000u || (rem == 0x1000u && (hm & 1))) r++;    /* may carry into the exponent: right */
    return (uint16_t)r;
}

#define LM_CAT_(a, b) a##b
#define LM_CAT(a, b) LM_CAT_(a, b)

/* Row offset of lane l of a folded vector of w lanes (w a power of two). */
static inline int bitrev(int l, int w) {
    int r = 0;
    for (int m = w >> 1; m; m >>= 1, l >>= 1) r |= (l & 1) ? m : 0;
    return r;
}

#define LEVEL avx512
#define W 16
#define LM_TGT LM_TARGET_AVX512
#define LM_F16 LM_HAVE_X86
#define LOADW_F16(v, p) ((v) = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p))))
#include "lm_vgemv_level.h"
#undef LEVEL
#undef W
#undef LM_TGT
#undef LOADW_F16
#define LEVEL avx2
#define W 8
#define LM_TGT LM_TARGET_AVX2
#define LOADW_F16(v, p) ((v) = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p))))
#include "lm_vgemv_level.h"
#undef LEVEL
#undef W
#undef LM_TGT
#undef LM_F16
#define LEVEL baseline
#define W 4
#define LM_TGT LM_TARGET_BASELINE
#define LM_F16 0
#include "lm_vgemv_level.h"

void lm_vgemv_rows(float *y, const float *A, const float *x, const float *b, size_t rows,
                   size_t cols) {
    LM_ISA_CALL(gemv_f32, (y, A, x, b, rows, cols));
}

/* The fp16 head needs F16C: AVX2 level and up. */
int lm_vf16_supported(void) { return LM_HAVE_X86 && lm_isa_level() >= LM_ISA_AVX2; }

void lm_vgemv_rows_f16(float *y, const uint16_t *A, const float *x, const float *b, size_t rows,
                       size_t cols) {
#if LM_HAVE_X86
    lm_isa l = lm_isa_level();
    if (l >= LM_ISA_AVX2) {
        if (l == LM_ISA_AVX512) gemv_f16_avx512(y, A, x, b, rows, cols);
        else gemv_f16_avx2(y, A, x, b, rows, cols);
        return;
    }
#endif
    for (size_t r = 0; r < rows; r++) {
        float d = 0.0f;
        for (size_t j = 0; j < cols; j++) d += half_to_float(A[r * cols + j]) * x[j];
        y[r] = d + (b ? b[r] : 0.0f);
    }
}

void lm_vf32_to_f16(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

float lm_vf16_to_f32(uint16_t h) { return half_to_float(h); }
