/* lm_vmath_level: the lm_vmath kernels for one ISA level, included by
 * lm_vmath.c once per level with LEVEL (avx512, avx2, baseline), W (the
 * level's native width in floats: 16, 8, 4) and LM_TGT (its target
 * attribute) defined. Defines static k<name>_<LEVEL> functions; the vector
 * types are exactly one register wide, so no level splits a vector into
 * more registers than it has. The shared formulas (EXP_BODY, TANH_SMALL,
 * VMAX) come from lm_vmath.c. No include guard: meant to be included
 * several times. */

typedef float LM_CAT(vf_, LEVEL) __attribute__((vector_size(W * sizeof(float))));
typedef int32_t LM_CAT(vi_, LEVEL) __attribute__((vector_size(W * sizeof(int32_t))));
#define vf LM_CAT(vf_, LEVEL)
#define vi LM_CAT(vi_, LEVEL)
#define KFN(name) LM_CAT(LM_CAT(name, _), LEVEL)

/* Two accumulators: max has a 2-cycle-or-more dependency per vector. */
LM_TGT static float KFN(kmax)(const float *x, size_t n) {
    float m = x[0];
    size_t i = 0;
    if (n >= 2 * W) {
        vf a0, a1, v, u;
        VLOAD(a0, x);
        VLOAD(a1, x + W);
        for (i = 2 * W; i + 2 * W <= n; i += 2 * W) {
            VLOAD(v, x + i);
            VLOAD(u, x + i + W);
            a0 = VMAX(v, a0);
            a1 = VMAX(u, a1);
        }
        a0 = VMAX(a1, a0);
        for (int j = 0; j < W; j++) m = a0[j] > m ? a0[j] : m;
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

LM_TGT static float KFN(kadd_max)(float *x, const float *b, size_t n) {
    float m = x[0] + b[0];
    size_t i = 0;
    if (n >= 2 * W) {
        vf a0 = VSPLAT(m), a1 = a0, v, u, c, d;
        for (; i + 2 * W <= n; i += 2 * W) {
            VLOAD(v, x + i);
            VLOAD(u, b + i);
            VLOAD(c, x + i + W);
            VLOAD(d, b + i + W);
            v += u;
            c += d;
            VSTORE(x + i, v);
            VSTORE(x + i + W, c);
            a0 = VMAX(v, a0);
            a1 = VMAX(c, a1);
        }
        a0 = VMAX(a1, a0);
        for (int j = 0; j < W; j++) m = a0[j] > m ? a0[j] : m;
    }
    for (; i < n; i++) {
        x[i] += b[i];
        m = x[i] > m ? x[i] : m;
    }
    return m;
}

LM_TGT static float KFN(kexp_sum)(float *x, size_t n, float shift) {
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

LM_TGT static void KFN(kexp)(float *x, size_t n) {
    size_t i = 0;
    vf v, e;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        VEXP(e, v);
        VSTORE(x + i, e);
    }
    for (; i < n; i++) x[i] = sexp(x[i]);
}

LM_TGT static void KFN(kscale_acc)(float *x, size_t n, float a, float *acc) {
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
LM_TGT static void KFN(ksigmoid)(float *x, size_t n) {
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

/* tanh: both Cephes branches (TANH_SMALL, 1 - 2/(exp(2|x|)+1)) per lane. */
LM_TGT static void KFN(ktanh)(float *x, size_t n) {
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

/* Column kernels of the fused head (lm_head.c), over one row of logits
 * stored vocabulary-major: x[i] is row i's logit. */
LM_TGT static void KFN(kadd_colmax)(float *x, float c, float *mx, size_t n) {
    size_t i = 0;
    vf v, m;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        VLOAD(m, mx + i);
        v += c;
        m = VMAX(v, m);
        VSTORE(x + i, v);
        VSTORE(mx + i, m);
    }
    for (; i < n; i++) {
        x[i] += c;
        mx[i] = x[i] > mx[i] ? x[i] : mx[i];
    }
}

LM_TGT static void KFN(kexp_sub_acc)(float *x, const float *m, float *s, size_t n) {
    size_t i = 0;
    vf v, u, e;
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        VLOAD(u, m + i);
        v -= u;
        VEXP_NONPOS(e, v);
        VSTORE(x + i, e);
        VLOAD(u, s + i);
        u += e;
        VSTORE(s + i, u);
    }
    for (; i < n; i++) {
        x[i] = sexp(x[i] - m[i]);
        s[i] += x[i];
    }
}

LM_TGT static float KFN(kmul_sum)(float *x, const float *f, size_t n) {
    size_t i = 0;
    vf v, u, acc = VSPLAT(0.0f);
    for (; i + W <= n; i += W) {
        VLOAD(v, x + i);
        VLOAD(u, f + i);
        v *= u;
        acc += v;
        VSTORE(x + i, v);
    }
    float s = 0.0f;
    for (int j = 0; j < W; j++) s += acc[j];
    for (; i < n; i++) {
        x[i] *= f[i];
        s += x[i];
    }
    return s;
}

#undef vf
#undef vi
#undef KFN
