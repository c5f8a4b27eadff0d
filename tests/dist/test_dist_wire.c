/* test_dist_wire: the 16-bit wire of the head gradient (DIST_GS_WIRE_BF16,
 * _FP16). Rounding is to nearest even, with ties, overflow, underflow and
 * NaN checked on fixed values; a sync with a 16-bit wire gives every rank
 * the same bits, the head within the stated bound of the fp32 sum (2p - 1
 * roundings, p inputs and p - 1 partial sums, of at most 2^-8 relative for
 * bf16, 2^-11 for fp16, of the sum of magnitudes), really rounded when p > 1 and exact when p == 1, and the
 * rest of the gradient exactly as with the fp32 wire. The same through the
 * overlap engine (16-bit ring, rows in ranges): bitwise the blocking 16-bit
 * sum at p <= 2, within the bound at p = 3, identical on every rank. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist_test.h"

static uint16_t pack1(int kind, float f) {
    uint16_t h;
    dist_wire_pack(kind, &f, &h, 1);
    return h;
}

static float unpack1(int kind, uint16_t h) {
    float f;
    dist_wire_unpack(kind, &h, &f, 1);
    return f;
}

static void test_rounding(dist_world *w) {
    const int B = DIST_WIRE_BF16, F = DIST_WIRE_FP16;
    CHECK(w, pack1(B, 1.0f) == 0x3f80, "bf16(1) = %#x", pack1(B, 1.0f));
    CHECK(w, pack1(B, 1.0f + 0x1p-8f) == 0x3f80, "bf16 tie rounds to even: %#x", pack1(B, 1.0f + 0x1p-8f));
    CHECK(w, pack1(B, 1.0f + 0x3p-8f) == 0x3f82, "bf16 tie rounds to even: %#x", pack1(B, 1.0f + 0x3p-8f));
    CHECK(w, pack1(B, 1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81, "bf16 above a tie rounds up");
    CHECK(w, unpack1(B, pack1(B, -2.5f)) == -2.5f, "bf16 -2.5 round trip");
    CHECK(w, isnan(unpack1(B, pack1(B, NAN))), "bf16 NaN stays NaN");
    CHECK(w, pack1(F, 1.0f) == 0x3c00 && pack1(F, 65504.0f) == 0x7bff, "fp16 of 1 and 65504");
    CHECK(w, pack1(F, 1.0f + 0x1p-11f) == 0x3c00, "fp16 tie rounds to even");
    CHECK(w, isinf(unpack1(F, pack1(F, 1e6f))), "fp16 overflow is inf");
    CHECK(w, unpack1(F, pack1(F, 1e-9f)) == 0.0f, "fp16 underflow is 0");
    CHECK(w, isnan(unpack1(F, pack1(F, NAN))), "fp16 NaN stays NaN");
}

/* The vector paths (8 at a time, F16C where the CPU has it) give the bits
 * of the one-value path (the portable conversion): every 16-bit pattern
 * widened, and values across fp16's range, subnormals and ties narrowed. */
static void test_vector_paths(dist_world *w) {
    enum { N = 65536 };
    uint16_t *h = malloc(N * sizeof *h), *h2 = malloc(N * sizeof *h2);
    float *f = malloc(N * sizeof *f);
    CHECK(w, h && h2 && f, "out of memory");
    for (int kind = DIST_WIRE_BF16; kind <= DIST_WIRE_FP16; kind++) {
        for (int i = 0; i < N; i++) h[i] = (uint16_t)i;
        dist_wire_unpack(kind, h, f, N);
        for (int i = 0; i < N; i++) {
            float one = unpack1(kind, h[i]);
            CHECK(w, (isnan(one) && isnan(f[i])) || !memcmp(&one, &f[i], sizeof one),
                  "kind %d: widening %#x: %g vs %g", kind, i, f[i], one);
        }
        uint64_t st = 77;
        for (int i = 0; i < N; i++) /* magnitudes 2^-30 .. 2^17, and exact ties of fp16 */
            f[i] = i % 3 ? ldexpf(dt_value(&st, 0), (int)(dt_next(&st) % 48) - 30)
                         : (1.0f + 0x1p-11f * (float)(2 * (i % 64) + 1)) * ldexpf(1.0f, i % 20 - 10);
        dist_wire_pack(kind, f, h, N);
        for (int i = 0; i < N; i++) h2[i] = pack1(kind, f[i]);
        CHECK(w, !memcmp(h, h2, N * sizeof *h), "kind %d: narrowing differs between the paths", kind);
    }
    free(h), free(h2), free(f);
}

static void fill(float *g, size_t n, int rank) {
    uint64_t s = 0x5eed0000ull + (uint64_t)rank;
    for (size_t i = 0; i < n; i++) g[i] = dt_value(&s, 0);
}

static void test_sum(dist_world *w, int kind) {
    dist_grad_layout L = {.head = 20000, .emb = 20100, .V = 50, .E = 2, .row = 399};
    L.n = L.emb + (size_t)L.V * (size_t)L.E;
    float *g = malloc(L.n * sizeof *g), *ref = malloc(L.n * sizeof *ref), *x = malloc(L.n * sizeof *x);
    float *ov = malloc(L.n * sizeof *ov);
    double *mag = calloc(L.n, sizeof *mag);
    CHECK(w, g && ref && x && ov && mag, "out of memory");
    lm_err e = {{0}};
    unsigned flag = kind == DIST_WIRE_BF16 ? DIST_GS_WIRE_BF16 : DIST_GS_WIRE_FP16;
    dist_grad_sync *s16 = dist_grad_sync_create(w, g, &L, flag | DIST_GS_DENSE_EMB, &e);
    CHECK(w, s16, "create: %s", e.msg);
    dist_grad_sync *s32 = dist_grad_sync_create(w, ref, &L, DIST_GS_DENSE_EMB, &e);
    CHECK(w, s32, "create: %s", e.msg);
    /* the same through the overlap engine: rows in 3 ranges, bias in finish */
    dist_grad_sync *sov = dist_grad_sync_create(w, ov, &L, flag | DIST_GS_DENSE_EMB | DIST_GS_OVERLAP, &e);
    CHECK(w, sov, "create with overlap: %s", e.msg);
    fill(g, L.n, w->rank);
    fill(ref, L.n, w->rank);
    fill(ov, L.n, w->rank);
    dist_grad_sync_on_head_rows(sov, 0, 7);
    dist_grad_sync_on_progress(sov);
    dist_grad_sync_on_head_rows(sov, 7, 31);
    dist_grad_sync_on_head_rows(sov, 31, 50);
    dist_grad_sync_on_head_grads(sov);
    CHECK(w, dist_grad_sync_finish(sov, &e) == 0, "finish overlapped 16: %s", e.msg);
    CHECK(w, dist_check_identical(w, ov, L.n, &e) == 0, "ranks differ (overlap): %s", e.msg);
    for (int r = 0; r < w->size; r++) {
        fill(x, L.n, r);
        for (size_t i = 0; i < L.n; i++) mag[i] += fabs((double)x[i]);
    }
    CHECK(w, dist_grad_sync_finish(s16, &e) == 0, "finish 16: %s", e.msg);
    CHECK(w, dist_grad_sync_finish(s32, &e) == 0, "finish 32: %s", e.msg);
    CHECK(w, dist_check_identical(w, g, L.n, &e) == 0, "ranks differ: %s", e.msg);
    double u = kind == DIST_WIRE_BF16 ? 0x1p-8 : 0x1p-11, tiny = kind == DIST_WIRE_BF16 ? 0 : 0x1p-24;
    size_t rounded = 0;
    for (size_t i = 0; i < L.head; i++) {
        double err = fabs((double)g[i] - (double)ref[i]);
        double bound = (2 * w->size - 1) * (u * mag[i] + tiny) + 1e-7 * mag[i];
        CHECK(w, err <= bound, "head[%zu]: %g vs fp32 %g (bound %g)", i, g[i], ref[i], bound);
        rounded += g[i] != ref[i];
    }
    CHECK(w, w->size == 1 ? rounded == 0 : rounded > L.head / 2, "%zu of %zu head values rounded at p=%d",
          rounded, L.head, w->size);
    CHECK(w, !memcmp(g + L.head, ref + L.head, (L.n - L.head) * sizeof *g), "non-head part differs from fp32");
    /* overlapped: p <= 2 bitwise the blocking 16-bit sum (one round(a + b));
     * more ranks: another order of roundings, within the same bound */
    for (size_t i = 0; i < L.head; i++) {
        double bound = (2 * w->size - 1) * (u * mag[i] + tiny) + 1e-7 * mag[i];
        CHECK(w, w->size <= 2 ? !memcmp(&ov[i], &g[i], sizeof *g) : fabs((double)ov[i] - (double)ref[i]) <= bound,
              "overlapped head[%zu]: %g vs blocking 16-bit %g, fp32 %g", i, ov[i], g[i], ref[i]);
    }
    CHECK(w, !memcmp(ov + L.head, ref + L.head, (L.n - L.head) * sizeof *g), "overlap: non-head part differs");
    dist_grad_stats st;
    dist_grad_sync_stats(sov, &st);
    CHECK(w, w->size == 1 || (st.overlapped && st.ranges == 3), "overlap: %d ranges", st.ranges);
    dist_grad_sync_free(sov);
    dist_grad_sync_free(s16);
    dist_grad_sync_free(s32);
    free(g), free(ref), free(x), free(ov), free(mag);
}

static void test_refused(dist_world *w) {
    dist_grad_layout L = {.head = 10, .emb = 20, .V = 5, .E = 2, .n = 30};
    float g[30] = {0};
    lm_err e = {{0}};
    CHECK(w, !dist_grad_sync_create(w, g, &L, DIST_GS_WIRE_BF16 | DIST_GS_WIRE_FP16, &e) &&
                 strstr(e.msg, "together"), "bf16 and fp16 together accepted: %s", e.msg);
}

int main(int argc, char **argv) {
    dist_world w;
    dt_init(&w, &argc, &argv);
    test_rounding(&w);
    test_vector_paths(&w);
    test_sum(&w, DIST_WIRE_BF16);
    test_sum(&w, DIST_WIRE_FP16);
    test_refused(&w);
    if (w.rank == 0) printf("test_dist_wire: %d rank(s) ok\n", w.size);
    dist_world_finalize(&w);
    return 0;
}
