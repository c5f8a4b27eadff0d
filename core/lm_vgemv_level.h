/* lm_vgemv_level: the generation-head kernels for one ISA level, included
 * by lm_vgemv.c once per level with LEVEL, W (native width in floats: 16,
 * 8, 4) and LM_TGT defined (and LM_F16 1 where the level has F16C).
 *
 * W rows at a time: for each W-wide column block the x block is loaded once
 * and each row's block is multiplied into that row's accumulator, so W
 * independent FMA chains run while the rows stream from memory. W
 * accumulators + x + one A block = W + 2 registers: 18 of 32 zmm, 10 of 16
 * ymm, 6 of 16 xmm, so no level spills. The W row vectors are then folded
 * into one vector of W row sums by log2(W) shuffle-add steps (lane l ends up
 * holding row bitreverse(l)). No include guard: included several times. */

typedef float LM_CAT(vf_, LEVEL) __attribute__((vector_size(W * sizeof(float))));
typedef int LM_CAT(vi_, LEVEL) __attribute__((vector_size(W * sizeof(int))));
#define vf LM_CAT(vf_, LEVEL)
#define vi LM_CAT(vi_, LEVEL)
#define KFN(name) LM_CAT(LM_CAT(name, _), LEVEL)

/* One fold step: n pairs of src vectors into n dst vectors. */
#define FOLD_STEP(dst, src, n, lo, hi)                                                 \
    for (int i_ = 0; i_ < (n); i_++)                                                   \
        dst[i_] = __builtin_shuffle(src[2 * i_], src[2 * i_ + 1], lo) +                \
                  __builtin_shuffle(src[2 * i_], src[2 * i_ + 1], hi)

#if W == 16
#define FOLD(p, z)                                                                     \
    do {                                                                               \
        const vi l8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};        \
        const vi h8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};  \
        const vi l4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};      \
        const vi h4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};    \
        const vi l2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};      \
        const vi h2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};    \
        const vi l1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};     \
        const vi h1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};     \
        vf q_[8], u_[4], w_[2], z_[1];                                                 \
        FOLD_STEP(q_, p, 8, l8, h8);                                                   \
        FOLD_STEP(u_, q_, 4, l4, h4);                                                  \
        FOLD_STEP(w_, u_, 2, l2, h2);                                                  \
        FOLD_STEP(z_, w_, 1, l1, h1);                                                  \
        (z) = z_[0];                                                                   \
    } while (0)
#elif W == 8
#define FOLD(p, z)                                                                     \
    do {                                                                               \
        const vi l4 = {0, 1, 2, 3, 8, 9, 10, 11}, h4 = {4, 5, 6, 7, 12, 13, 14, 15};   \
        const vi l2 = {0, 1, 8, 9, 4, 5, 12, 13}, h2 = {2, 3, 10, 11, 6, 7, 14, 15};   \
        const vi l1 = {0, 8, 2, 10, 4, 12, 6, 14}, h1 = {1, 9, 3, 11, 5, 13, 7, 15};   \
        vf u_[4], w_[2], z_[1];                                                        \
        FOLD_STEP(u_, p, 4, l4, h4);                                                   \
        FOLD_STEP(w_, u_, 2, l2, h2);                                                  \
        FOLD_STEP(z_, w_, 1, l1, h1);                                                  \
        (z) = z_[0];                                                                   \
    } while (0)
#else
#define FOLD(p, z)                                                                     \
    do {                                                                               \
        const vi l2 = {0, 1, 4, 5}, h2 = {2, 3, 6, 7}, l1 = {0, 4, 2, 6}, h1 = {1, 5, 3, 7}; \
        vf w_[2], z_[1];                                                               \
        FOLD_STEP(w_, p, 2, l2, h2);                                                   \
        FOLD_STEP(z_, w_, 1, l1, h1);                                                  \
        (z) = z_[0];                                                                   \
    } while (0)
#endif

/* y = A x + b; LOADW(v, p) loads W elements of A at p as floats, SCALAR(a)
 * converts one element (rows past the last whole block, odd widths). */
#define GEMV_LEVEL_BODY(LOADW, SCALAR)                                                 \
    size_t r = 0;                                                                      \
    if (cols % W == 0) {                                                               \
        for (; r + W <= rows; r += W) {                                                \
            vf p[W], av, xv, z;                                                        \
            const __typeof__(*A) *a0 = A + r * cols;                                   \
            _Pragma("GCC unroll 16") for (int i = 0; i < W; i++) p[i] = (vf){0};       \
            for (size_t j = 0; j < cols; j += W) {                                     \
                memcpy(&xv, x + j, sizeof xv);                                         \
                _Pragma("GCC unroll 16") for (int i = 0; i < W; i++) {                 \
                    LOADW(av, a0 + (size_t)i * cols + j);                              \
                    p[i] += av * xv;                                                   \
                }                                                                      \
            }                                                                          \
            FOLD(p, z);                                                                \
            for (int l = 0; l < W; l++) {                                              \
                size_t row = r + (size_t)bitrev(l, W);                                 \
                y[row] = z[l] + (b ? b[row] : 0.0f);                                   \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
    for (; r < rows; r++) {                                                            \
        float d = 0.0f;                                                                \
        for (size_t j = 0; j < cols; j++) d += SCALAR(A[r * cols + j]) * x[j];         \
        y[r] = d + (b ? b[r] : 0.0f);                                                  \
    }

#define LOADW_F32(v, p) memcpy(&(v), (p), sizeof(v))
#define SCALAR_F32(a) (a)

LM_TGT static void KFN(gemv_f32)(float *y, const float *A, const float *x, const float *b,
                                 size_t rows, size_t cols) {
    GEMV_LEVEL_BODY(LOADW_F32, SCALAR_F32)
}

#if LM_F16
LM_TGT static void KFN(gemv_f16)(float *y, const uint16_t *A, const float *x, const float *b,
                                 size_t rows, size_t cols) {
    GEMV_LEVEL_BODY(LOADW_F16, half_to_float)
}
#endif

#undef vf
#undef vi
#undef KFN
#undef FOLD
#undef FOLD_STEP
#undef GEMV_LEVEL_BODY
#undef LOADW_F32
#undef SCALAR_F32
