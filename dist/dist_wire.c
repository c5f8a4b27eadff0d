/* dist_wire: 16-bit wire formats for the head gradient (bf16, IEEE fp16):
 * round-to-nearest-even conversion and the MPI user op that sums two 16-bit
 * vectors by widening to fp32, adding in fp32 and rounding back.
 *
 * Rounding: each rank's gradient is rounded once to 16 bits, and every
 * partial sum the reduction forms is rounded again (p - 1 additions per
 * element over p ranks), each time by at most half a unit in the last place:
 * 2^-8 relative for bf16 (8 significant bits), 2^-11 for fp16 (11 bits, but
 * values below 2^-14 lose bits and below 2^-24 become zero). So the sum is
 * within (2p - 1) x that x (sum of the ranks' magnitudes) of the fp32 sum. The op is
 * commutative (a + b == b + a in fp32), so Open MPI's reductions give the
 * same bits on every rank, as for MPI_SUM on floats. */
#include "dist_internal.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static uint16_t bf16_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static float float_of_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint16_t fp16_of(float f) {
    _Float16 h = (_Float16)f; /* round to nearest even */
    uint16_t u;
    memcpy(&u, &h, sizeof u);
    return u;
}

static float float_of_fp16(uint16_t u) {
    _Float16 h;
    memcpy(&h, &u, sizeof h);
    return (float)h;
}

/* fp16 with the CPU's F16C conversions, 8 at a time (the same IEEE
 * round-to-nearest-even results as the software _Float16 path above, which
 * a generic x86-64 build would otherwise use: ~10x slower). The tails and
 * CPUs without F16C take the portable path. */
#if defined(__x86_64__)
__attribute__((target("avx,f16c"))) static size_t pack_fp16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    return i;
}

__attribute__((target("avx,f16c"))) static size_t unpack_fp16_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    return i;
}

__attribute__((target("avx,f16c"))) static size_t sum_fp16_f16c(const uint16_t *a, uint16_t *b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256 y = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
        _mm_storeu_si128((__m128i *)(b + i), _mm256_cvtps_ph(_mm256_add_ps(x, y), _MM_FROUND_TO_NEAREST_INT));
    }
    return i;
}

static int has_f16c(void) { return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c"); }
#else
static size_t pack_fp16_f16c(const float *s, uint16_t *d, size_t n) { return (void)s, (void)d, (void)n, 0; }
static size_t unpack_fp16_f16c(const uint16_t *s, float *d, size_t n) { return (void)s, (void)d, (void)n, 0; }
static size_t sum_fp16_f16c(const uint16_t *a, uint16_t *b, size_t n) { return (void)a, (void)b, (void)n, 0; }
static int has_f16c(void) { return 0; }
#endif

void dist_wire_pack(int kind, const float *src, uint16_t *dst, size_t n) {
    if (kind == DIST_WIRE_BF16) {
        for (size_t i = 0; i < n; i++) dst[i] = bf16_of(src[i]);
        return;
    }
    for (size_t i = has_f16c() ? pack_fp16_f16c(src, dst, n) : 0; i < n; i++) dst[i] = fp16_of(src[i]);
}

void dist_wire_unpack(int kind, const uint16_t *src, float *dst, size_t n) {
    if (kind == DIST_WIRE_BF16) {
        for (size_t i = 0; i < n; i++) dst[i] = float_of_bf16(src[i]);
        return;
    }
    for (size_t i = has_f16c() ? unpack_fp16_f16c(src, dst, n) : 0; i < n; i++) dst[i] = float_of_fp16(src[i]);
}

void dist_wire_add(int kind, const uint16_t *a, uint16_t *b, size_t n) {
    if (kind == DIST_WIRE_BF16) {
        for (size_t i = 0; i < n; i++) b[i] = bf16_of(float_of_bf16(a[i]) + float_of_bf16(b[i]));
        return;
    }
    for (size_t i = has_f16c() ? sum_fp16_f16c(a, b, n) : 0; i < n; i++)
        b[i] = fp16_of(float_of_fp16(a[i]) + float_of_fp16(b[i]));
}

static void sum_bf16(void *in, void *inout, int *len, MPI_Datatype *dt) {
    (void)dt;
    dist_wire_add(DIST_WIRE_BF16, in, inout, (size_t)*len);
}

static void sum_fp16(void *in, void *inout, int *len, MPI_Datatype *dt) {
    (void)dt;
    dist_wire_add(DIST_WIRE_FP16, in, inout, (size_t)*len);
}

int dist_wire_op_create(int kind, MPI_Op *op, lm_err *e) {
    return dist_mpi_check(MPI_Op_create(kind == DIST_WIRE_BF16 ? sum_bf16 : sum_fp16, 1, op),
                          "MPI_Op_create (16-bit sum)", e);
}
