/* lm_vgemv: the generation head, y = A x + b over a row-major [rows, cols]
 * matrix read once per token (see lm_vmath.h). A token's cost is that one
 * pass over fc.weight, which is memory-bound, so: sixteen row dot products at
 * a time folded into one vector with 15 shuffle-adds (instead of 16
 * horizontal sums), in fp32 (cloned per ISA) or over an IEEE fp16 copy that
 * halves the bytes (x86: AVX-512F, or AVX2+F16C+FMA, chosen at run time;
 * elsewhere lm_vf16_supported() is 0 and callers keep the fp32 head).
 * Invariant: results depend only on the inputs and the kernel picked. */
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

typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));

/* 16 rows at a time, each a dot product over whole 16-wide blocks, then one
 * fold of the 16 row vectors into a vector of 16 row sums (lanes in 4-bit
 * bit-reversed row order). LOAD16(v, p) loads 16 elements of A at p as
 * floats into v; SCALAR(a) converts one element (for the row tail). */
#define GEMV_BODY(LOAD16, SCALAR)                                                    \
    size_t r = 0;                                                                    \
    if (cols % 16 == 0) {                                                            \
        const vi lo8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};     \
        const vi hi8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}; \
        const vi lo4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};   \
        const vi hi4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31}; \
        const vi lo2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};   \
        const vi hi2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31}; \
        const vi lo1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};  \
        const vi hi1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};  \
        static const int order[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15}; \
        for (; r + 16 <= rows; r += 16) {                                            \
            vf p[16], q[8], u[4], w[2], av, xv;                                      \
            for (int i = 0; i < 16; i++) {                                           \
                const __typeof__(*A) *a = A + (r + (size_t)i) * cols;                \
                vf s = {0};                                                          \
                for (size_t j = 0; j < cols; j += 16) {                              \
                    LOAD16(av, a + j);                                               \
                    memcpy(&xv, x + j, sizeof xv);                                   \
                    s += av * xv;                                                    \
                }                                                                    \
                p[i] = s;                                                            \
            }                                                                        \
            for (int i = 0; i < 8; i++)                                              \
                q[i] = __builtin_shuffle(p[2 * i], p[2 * i + 1], lo8) +              \
                       __builtin_shuffle(p[2 * i], p[2 * i + 1], hi8);               \
            for (int i = 0; i < 4; i++)                                              \
                u[i] = __builtin_shuffle(q[2 * i], q[2 * i + 1], lo4) +              \
                       __builtin_shuffle(q[2 * i], q[2 * i + 1], hi4);               \
            for (int i = 0; i < 2; i++)                                              \
                w[i] = __builtin_shuffle(u[2 * i], u[2 * i + 1], lo2) +              \
                       __builtin_shuffle(u[2 * i], u[2 * i + 1], hi2);               \
            vf z = __builtin_shuffle(w[0], w[1], lo1) + __builtin_shuffle(w[0], w[1], hi1); \
            float o[16];                                                             \
            memcpy(o, &z, sizeof o);                                                 \
            for (int l = 0; l < 16; l++) {                                           \
                size_t row = r + (size_t)order[l];                                   \
                y[row] = o[l] + (b ? b[row] : 0.0f);                                 \
            }                                                                        \
        }                                                                            \
    }                                                                                \
    for (; r < rows; r++) {                                                          \
        float d = 0.0f;                                                              \
        for (size_t j = 0; j < cols; j++) d += SCALAR(A[r * cols + j]) * x[j];       \
        y[r] = d + (b ? b[r] : 0.0f);                                                \
    }

#define LOAD16_F32(v, p) memcpy(&(v), (p), sizeof(v))
#define SCALAR_F32(a) (a)

LM_CLONES void lm_vgemv_rows(float *y, const float *A, const float *x, const float *b, size_t rows,
                             size_t cols) {
    GEMV_BODY(LOAD16_F32, SCALAR_F32)
}

#ifdef LM_HAVE_X86
#define LOAD16_512(v, p)                                                             \
    do {                                                                             \
        __m512 f_ = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)));       \
        memcpy(&(v), &f_, sizeof(v));                                                \
    } while (0)
#define LOAD16_256(v, p)                                                             \
    do {                                                                             \
        __m256 f_[2] = {_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p))),       \
                        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p) + 1))};  \
        memcpy(&(v), f_, sizeof(v));                                                 \
    } while (0)

__attribute__((target("avx512f"))) static void gemv_f16_avx512(float *y, const uint16_t *A, const float *x,
                                                               const float *b, size_t rows, size_t cols) {
    GEMV_BODY(LOAD16_512, half_to_float)
}

__attribute__((target("avx2,fma,f16c"))) static void gemv_f16_avx2(float *y, const uint16_t *A, const float *x,
                                                                   const float *b, size_t rows, size_t cols) {
    GEMV_BODY(LOAD16_256, half_to_float)
}

int lm_vf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ||
           (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"));
}

void lm_vgemv_rows_f16(float *y, const uint16_t *A, const float *x, const float *b, size_t rows, size_t cols) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) gemv_f16_avx512(y, A, x, b, rows, cols);
    else gemv_f16_avx2(y, A, x, b, rows, cols);
}
#else
int lm_vf16_supported(void) { return 0; }
void lm_vgemv_rows_f16(float *y, const uint16_t *A, const float *x, const float *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float d = 0.0f;
        for (size_t j = 0; j < cols; j++) d += half_to_float(A[r * cols + j]) * x[j];
        y[r] = d + (b ? b[r] : 0.0f);
    }
}
#endif

void lm_vf32_to_f16(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

float lm_vf16_to_f32(uint16_t h) { return half_to_float(h); }
