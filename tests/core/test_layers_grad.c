/* Finite-difference checks of the layer backward passes (lm_layers.h) on
 * random small shapes, plus the head's chunking and dropout's mask.
 *
 * Method: central differences (f(p+eps) - f(p-eps)) / 2eps of a scalar loss
 * accumulated in double, eps = 1e-2, against the analytic gradient. Tolerance
 * per element: |fd - analytic| <= 2e-3 + 1e-2 |analytic|. Float rounding
 * gives ~1e-4 here; a wrong term (a missing gate derivative, a transposed
 * GEMM, a gradient step missing from BPTT) is off by the size of the
 * gradient itself (>= 1e-2 on these shapes), which the test rejects. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_layers.h"
#include "lm_rng.h"

#define FD_EPS 1e-2f
#define FD_ATOL 2e-3
#define FD_RTOL 1e-2

static float *rnd(lm_rng *r, size_t n, float scale) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = (2.0f * lm_rng_uniform(r) - 1.0f) * scale;
    return p;
}

/* Central differences of loss(ctx) in each p[i] against grad[i]. */
static void fd_check(const char *what, float *p, const float *grad, int n,
                     double (*loss)(void *), void *ctx) {
    for (int i = 0; i < n; i++) {
        float keep = p[i];
        p[i] = keep + FD_EPS;
        double lp = loss(ctx);
        p[i] = keep - FD_EPS;
        double lm = loss(ctx);
        p[i] = keep;
        double fd = (lp - lm) / (2.0 * FD_EPS);
        cr_expect(fabs(fd - grad[i]) <= FD_ATOL + FD_RTOL * fabs(grad[i]),
                  "%s[%d]: finite difference %.6g, backward %.6g", what, i, fd, grad[i]);
    }
}

/* ---- LSTM ----------------------------------------------------------------- */
typedef struct {
    int B, T, E, H;
    float *x, *w_ih, *w_hh, *b, *h0, *c0, *R; /* R [B,T,H]: loss = sum R*hs */
    float *hs, *hT, *cT;
    lm_lstm_cache k;
} lstm_case;

/* packed: give the cache its wt scratch (lm_gemm's kernels where H allows) */
static void lstm_case_init(lstm_case *c, int B, int T, int E, int H, uint64_t seed, int packed) {
    lm_rng r;
    lm_rng_seed(&r, seed);
    size_t N = (size_t)B * T;
    *c = (lstm_case){.B = B, .T = T, .E = E, .H = H};
    c->x = rnd(&r, N * E, 1.0f);
    c->w_ih = rnd(&r, 4 * H * E, 0.6f);
    c->w_hh = rnd(&r, 4 * H * H, 0.6f);
    c->b = rnd(&r, 4 * H, 0.5f);
    c->h0 = rnd(&r, B * H, 0.5f);
    c->c0 = rnd(&r, B * H, 0.5f);
    c->R = rnd(&r, N * H, 1.0f);
    c->hs = malloc(sizeof(float) * N * H);
    c->hT = malloc(sizeof(float) * B * H);
    c->cT = malloc(sizeof(float) * B * H);
    c->k = (lm_lstm_cache){malloc(sizeof(float) * N * 4 * H), malloc(sizeof(float) * N * H),
                           malloc(sizeof(float) * N * H), malloc(sizeof(float) * N * H),
                           packed ? malloc(sizeof(float) * 4 * H * (H + E)) : NULL};
}

static void lstm_case_free(lstm_case *c) {
    float *p[] = {c->x, c->w_ih, c->w_hh, c->b, c->h0, c->c0, c->R, c->hs, c->hT, c->cT,
                  c->k.gates, c->k.hprev, c->k.cprev, c->k.tc, c->k.wt};
    for (size_t i = 0; i < sizeof p / sizeof *p; i++) free(p[i]);
}

static double lstm_loss(lstm_case *c) {
    lm_lstm_forward(c->hs, &c->k, c->hT, c->cT, c->x, c->w_ih, c->w_hh, c->b, c->h0, c->c0,
                    c->B, c->T, c->E, c->H);
    double L = 0.0;
    for (size_t i = 0; i < (size_t)c->B * c->T * c->H; i++) L += (double)c->R[i] * c->hs[i];
    return L;
}

static double lstm_loss_ctx(void *c) { return lstm_loss(c); }

static void lstm_fd(int B, int T, int E, int H, uint64_t seed, int packed) {
    lstm_case c;
    lstm_case_init(&c, B, T, E, H, seed, packed);
    size_t N = (size_t)B * T;
    float *dx = malloc(sizeof(float) * N * E), *dw_ih = malloc(sizeof(float) * 4 * H * E);
    float *dw_hh = malloc(sizeof(float) * 4 * H * H), *db = malloc(sizeof(float) * 4 * H);
    float *scratch = malloc(sizeof(float) * 2 * B * H);
    lstm_loss(&c);
    lm_lstm_backward(dx, dw_ih, dw_hh, db, c.R, &c.k, c.x, c.w_ih, c.w_hh, scratch, B, T, E, H);
    fd_check("w_ih", c.w_ih, dw_ih, 4 * H * E, lstm_loss_ctx, &c);
    fd_check("w_hh", c.w_hh, dw_hh, 4 * H * H, lstm_loss_ctx, &c);
    fd_check("bias", c.b, db, 4 * H, lstm_loss_ctx, &c);
    fd_check("x", c.x, dx, (int)(N * E), lstm_loss_ctx, &c);
    free(dx), free(dw_ih), free(dw_hh), free(db), free(scratch);
    lstm_case_free(&c);
}

Test(lstm, backward_matches_finite_differences_2x4x3x5) { lstm_fd(2, 4, 3, 5, 1, 0); }
Test(lstm, backward_matches_finite_differences_3x3x4x2) { lstm_fd(3, 3, 4, 2, 2, 0); }
Test(lstm, backward_matches_finite_differences_1x7x2x6) { lstm_fd(1, 7, 2, 6, 3, 0); }
/* lm_gemm's kernels: every product (E 32), and the H-wide ones only (E 5) */
Test(lstm, packed_backward_matches_finite_differences_2x4x32x32) { lstm_fd(2, 4, 32, 32, 4, 1); }
Test(lstm, packed_backward_matches_finite_differences_5x3x5x32) { lstm_fd(5, 3, 5, 32, 5, 1); }

/* Forward and backward of one case: hs, hT, cT, then dx, dw_ih, dw_hh, db
 * concatenated into out (threads as given). */
static void lstm_run(lstm_case *c, int threads, float *out) {
    const int B = c->B, T = c->T, E = c->E, H = c->H;
    const size_t N = (size_t)B * T;
    float *scratch = malloc(sizeof(float) * 2 * B * H);
    lm_lstm_forward_threads(c->hs, &c->k, c->hT, c->cT, c->x, c->w_ih, c->w_hh, c->b, c->h0,
                            c->c0, B, T, E, H, threads, NULL);
    float *o = out;
    memcpy(o, c->hs, sizeof(float) * N * H), o += N * H;
    memcpy(o, c->hT, sizeof(float) * B * H), o += B * H;
    memcpy(o, c->cT, sizeof(float) * B * H), o += B * H;
    float *dx = o, *dw_ih = dx + N * E, *dw_hh = dw_ih + 4 * H * E, *db = dw_hh + 4 * H * H;
    lm_lstm_backward_threads(dx, dw_ih, dw_hh, db, c->R, &c->k, c->x, c->w_ih, c->w_hh, scratch,
                             B, T, E, H, threads, NULL);
    free(scratch);
}

/* The packed path computes the same function as BLAS (to rounding), and its
 * results do not depend on the thread count (B 9: three row groups). */
Test(lstm, packed_products_match_blas_and_ignore_the_thread_count) {
    const int B = 9, T = 6, E = 32, H = 64;
    const size_t n = (size_t)B * T * H + 2 * B * H + (size_t)B * T * E + 4 * H * E + 4 * H * H + 4 * H;
    lstm_case pk, bl;
    lstm_case_init(&pk, B, T, E, H, 6, 1);
    lstm_case_init(&bl, B, T, E, H, 6, 0);
    float *p1 = malloc(sizeof(float) * n), *p2 = malloc(sizeof(float) * n);
    float *p3 = malloc(sizeof(float) * n), *ref = malloc(sizeof(float) * n);
    lstm_run(&pk, 1, p1), lstm_run(&pk, 2, p2), lstm_run(&pk, 3, p3), lstm_run(&bl, 1, ref);
    cr_expect_arr_eq(p2, p1, sizeof(float) * n, "2 threads differ from 1");
    cr_expect_arr_eq(p3, p1, sizeof(float) * n, "3 threads differ from 1");
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)p1[i] - ref[i]) / (1.0 + fabs((double)ref[i]));
        worst = d > worst ? d : worst;
    }
    cr_expect_lt(worst, 1e-5, "packed and BLAS differ by %g (relative)", worst);
    cr_expect_gt(worst, 0.0, "the packed path must not be BLAS itself");
    free(p1), free(p2), free(p3), free(ref);
    lstm_case_free(&pk), lstm_case_free(&bl);
}

Test(lstm, final_state_may_alias_initial_state_and_backward_overwrites) {
    lstm_case c;
    lstm_case_init(&c, 2, 3, 2, 3, 9, 0);
    lstm_loss(&c);
    float hT[6], cT[6];
    memcpy(hT, c.hT, sizeof hT), memcpy(cT, c.cT, sizeof cT);
    lm_lstm_forward(c.hs, &c.k, c.h0, c.c0, c.x, c.w_ih, c.w_hh, c.b, c.h0, c.c0, 2, 3, 2, 3);
    cr_expect_arr_eq(c.h0, hT, sizeof hT);
    cr_expect_arr_eq(c.c0, cT, sizeof cT);
    lstm_case_free(&c);
}

/* ---- fused softmax cross-entropy ------------------------------------------ */
typedef struct {
    float *z, *b;
    const int32_t *t;
    int N, V, ignore;
    float scale;
} xent_case;

static double xent_loss(void *p) {
    xent_case *c = p;
    float *tmp = malloc(sizeof(float) * c->N * c->V);
    memcpy(tmp, c->z, sizeof(float) * c->N * c->V);
    long cnt;
    double L = lm_softmax_xent_forward(tmp, c->b, c->t, c->N, c->V, c->ignore, -1, &cnt);
    free(tmp);
    return c->scale * L;
}

Test(softmax_xent, loss_matches_a_direct_double_computation) {
    lm_rng r;
    lm_rng_seed(&r, 4);
    int N = 5, V = 37;
    float *z = rnd(&r, N * V, 8.0f), *b = rnd(&r, V, 1.0f), *db = calloc(V, sizeof(float));
    int32_t t[5] = {3, 0, 36, 7, 0};
    double want = 0.0;
    for (int n = 0; n < N; n++) {
        if (t[n] == 0) continue; /* ignored */
        double mx = -INFINITY, s = 0.0;
        for (int v = 0; v < V; v++) mx = fmax(mx, (double)z[n * V + v] + b[v]);
        for (int v = 0; v < V; v++) s += exp((double)z[n * V + v] + b[v] - mx);
        want += log(s) + mx - ((double)z[n * V + t[n]] + b[t[n]]);
    }
    long cnt;
    double got = lm_softmax_xent_forward_backward(z, b, t, N, V, 0, 1.0f, db, &cnt);
    cr_expect_eq(cnt, 3);
    cr_expect(fabs(got - want) <= 1e-5 * fabs(want), "loss %.9g, want %.9g", got, want);
    for (int v = 0; v < V; v++) { /* ignored rows get a zero gradient */
        cr_expect_eq(z[1 * V + v], 0.0f);
        cr_expect_eq(z[4 * V + v], 0.0f);
    }
    free(z), free(b), free(db);
}

Test(softmax_xent, gradient_matches_finite_differences) {
    lm_rng r;
    lm_rng_seed(&r, 5);
    int N = 4, V = 19;
    const float scale = 0.7f;
    float *z = rnd(&r, N * V, 3.0f), *b = rnd(&r, V, 1.0f);
    float *g = malloc(sizeof(float) * N * V), *db = calloc(V, sizeof(float));
    int32_t t[4] = {5, 2, 18, 11}; /* ignore_id 2: row 1 is ignored */
    memcpy(g, z, sizeof(float) * N * V);
    long cnt;
    lm_softmax_xent_forward_backward(g, b, t, N, V, 2, scale, db, &cnt);
    cr_expect_eq(cnt, 3);
    xent_case c = {z, b, t, N, V, 2, scale};
    fd_check("dlogits", z, g, N * V, xent_loss, &c);
    fd_check("dbias", b, db, V, xent_loss, &c);
    free(z), free(b), free(g), free(db);
}

/* ---- the chunked output layer ---------------------------------------------- */
typedef struct {
    int N, H, V;
    float scale;
    float *h, *w, *b, *dw, *db, *dh, *scratch;
    int32_t *t;
} head_case;

static void head_case_init(head_case *c, int N, int H, int V, uint64_t seed) {
    lm_rng r;
    lm_rng_seed(&r, seed);
    *c = (head_case){.N = N, .H = H, .V = V};
    c->h = rnd(&r, (size_t)N * H, 1.0f);
    c->w = rnd(&r, (size_t)V * H, 0.8f);
    c->b = rnd(&r, V, 0.5f);
    c->dw = malloc(sizeof(float) * V * H);
    c->db = malloc(sizeof(float) * V);
    c->dh = malloc(sizeof(float) * N * H);
    c->scratch = malloc(sizeof(float) * (size_t)N * V);
    c->t = malloc(sizeof(int32_t) * N);
    for (int n = 0; n < N; n++) c->t[n] = (int32_t)lm_rng_below(&r, V);
    c->t[N / 2] = 0; /* a pad target */
}

static void head_case_free(head_case *c) {
    free(c->h), free(c->w), free(c->b), free(c->dw), free(c->db), free(c->dh);
    free(c->scratch), free(c->t);
}

static double head_loss(void *p) {
    head_case *c = p;
    long cnt;
    return c->scale * lm_head_forward(c->h, c->t, c->w, c->b, c->N, c->H, c->V, 0, -1,
                                      c->scratch, 3, &cnt);
}

Test(head, gradients_match_finite_differences) {
    head_case c;
    head_case_init(&c, 7, 5, 13, 6);
    c.scale = 1.0f / 6.0f;
    long cnt;
    lm_head_forward_backward(c.dw, c.db, c.dh, c.h, c.t, c.w, c.b, c.N, c.H, c.V, 0, c.scale,
                             c.scratch, 3, &cnt);
    cr_expect_eq(cnt, 6);
    fd_check("dW", c.w, c.dw, c.V * c.H, head_loss, &c);
    fd_check("db", c.b, c.db, c.V, head_loss, &c);
    fd_check("dh", c.h, c.dh, c.N * c.H, head_loss, &c);
    head_case_free(&c);
}

static void expect_near_arrays(const char *what, const float *a, const float *b, size_t n) {
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= 1e-5 * (fabs(b[i]) + scale))) {
            cr_expect_fail("%s[%zu]: %.9g vs %.9g", what, i, a[i], b[i]);
            return;
        }
}

Test(head, row_chunks_give_the_same_result_as_one_chunk) {
    head_case c;
    head_case_init(&c, 37, 8, 300, 7);
    float *dw1 = malloc(sizeof(float) * 300 * 8), *db1 = malloc(sizeof(float) * 300);
    float *dh1 = malloc(sizeof(float) * 37 * 8);
    long cnt1, cnt;
    double l1 = lm_head_forward_backward(dw1, db1, dh1, c.h, c.t, c.w, c.b, 37, 8, 300, 0,
                                         0.1f, c.scratch, 37, &cnt1);
    const int chunks[] = {1, 5, 36};
    for (int k = 0; k < 3; k++) {
        double l = lm_head_forward_backward(c.dw, c.db, c.dh, c.h, c.t, c.w, c.b, 37, 8, 300,
                                            0, 0.1f, c.scratch, chunks[k], &cnt);
        cr_expect_eq(cnt, cnt1);
        cr_expect(fabs(l - l1) <= 1e-6 * fabs(l1), "chunk %d: loss %.9g vs %.9g", chunks[k],
                  l, l1);
        expect_near_arrays("dW", c.dw, dw1, 300 * 8);
        expect_near_arrays("db", c.db, db1, 300);
        expect_near_arrays("dh", c.dh, dh1, 37 * 8);
        double lf = lm_head_forward(c.h, c.t, c.w, c.b, 37, 8, 300, 0, -1, c.scratch,
                                    chunks[k], &cnt);
        cr_expect(fabs(lf - l1) <= 1e-6 * fabs(l1), "forward-only loss %.9g vs %.9g", lf, l1);
    }
    free(dw1), free(db1), free(dh1);
    head_case_free(&c);
}

Test(head, linear_forward_is_h_times_w_transposed_plus_bias) {
    head_case c;
    head_case_init(&c, 3, 4, 6, 8);
    float out[18];
    lm_linear_forward(out, c.h, c.w, c.b, 3, 4, 6);
    for (int n = 0; n < 3; n++)
        for (int v = 0; v < 6; v++) {
            double s = c.b[v];
            for (int j = 0; j < 4; j++) s += (double)c.h[n * 4 + j] * c.w[v * 4 + j];
            cr_expect(fabs(out[n * 6 + v] - s) <= 1e-5, "[%d,%d] %g vs %g", n, v, out[n * 6 + v], s);
        }
    head_case_free(&c);
}

/* ---- dropout -------------------------------------------------------------- */
Test(dropout, drops_a_fraction_p_and_keeps_the_expectation) {
    const size_t n = 200000;
    const float p = 0.3f;
    float *in = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
    float *mask = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) in[i] = 1.0f + (float)(i % 5);
    lm_rng r;
    lm_rng_seed(&r, 10);
    lm_dropout_forward(out, mask, in, n, p, &r);
    size_t zeros = 0;
    double sum_in = 0.0, sum_out = 0.0;
    for (size_t i = 0; i < n; i++) {
        zeros += mask[i] == 0.0f;
        cr_assert(mask[i] == 0.0f || mask[i] == 1.0f / (1.0f - p));
        cr_assert_eq(out[i], in[i] * mask[i]);
        sum_in += in[i], sum_out += out[i];
    }
    /* 5 standard deviations of a binomial(n, p) count */
    double sd = sqrt(n * p * (1 - p));
    cr_expect(fabs((double)zeros - n * p) < 5 * sd, "%zu zeros of %zu", zeros, n);
    /* E[out] = in: relative sd of the mean is sqrt(p/(1-p)/n) * (rms/mean) */
    cr_expect(fabs(sum_out / sum_in - 1.0) < 5 * sqrt(p / (1 - p) / n) * 1.2,
              "mean ratio %.5f", sum_out / sum_in);
    free(in), free(out), free(mask);
}

Test(dropout, backward_uses_the_forward_mask_and_replays_with_the_rng_state) {
    const size_t n = 1000;
    float in[1000], out[1000], mask[1000], mask2[1000], dout[1000], din[1000];
    for (size_t i = 0; i < n; i++) in[i] = (float)i, dout[i] = 1.0f + (float)i;
    lm_rng r, saved;
    lm_rng_seed(&r, 11);
    saved = r;
    lm_dropout_forward(out, mask, in, n, 0.5f, &r);
    lm_dropout_backward(din, dout, mask, n);
    for (size_t i = 0; i < n; i++) cr_assert_eq(din[i], dout[i] * mask[i]);
    lm_dropout_forward(out, mask2, in, n, 0.5f, &saved);
    cr_expect_arr_eq(mask, mask2, sizeof mask);
    lm_dropout_forward(out, mask, in, n, 0.0f, &r); /* p = 0: identity */
    cr_expect_arr_eq(out, in, sizeof in);
}

/* ---- the fused output layer (own microkernels, online softmax) -------------
 * Against finite differences, and against the BLAS head (itself checked
 * above and against PyTorch) on shapes with several vocabulary blocks, a
 * partial last block, row chunks, rows that are not a multiple of the
 * microkernel tile or of 32, and a pad target; at every ISA level (ctest). */
static double fused_loss_of(head_case *c, float *scratch, int chunk, long *cnt) {
    float *dw = malloc(sizeof(float) * c->V * c->H), *db = malloc(sizeof(float) * c->V);
    float *dh = malloc(sizeof(float) * c->N * c->H);
    double l = lm_head_fused_forward_backward(dw, db, dh, c->h, c->t, c->w, c->b, c->N, c->H,
                                              c->V, 0, 1.0f, scratch, chunk, 1, cnt);
    free(dw), free(db), free(dh);
    return l;
}

typedef struct {
    head_case *c;
    float *scratch;
} fused_fd;

static double fused_fd_loss(void *p) {
    fused_fd *f = p;
    long cnt;
    return f->c->scale * fused_loss_of(f->c, f->scratch, 3, &cnt);
}

Test(head_fused, gradients_match_finite_differences) {
    head_case c;
    head_case_init(&c, 7, 32, 13, 16);
    c.scale = 1.0f / 6.0f;
    cr_assert(lm_head_fused_ok(32) && !lm_head_fused_ok(16));
    float *scratch = malloc(sizeof(float) * lm_head_fused_scratch_floats(13, 32, 3));
    long cnt;
    lm_head_fused_forward_backward(c.dw, c.db, c.dh, c.h, c.t, c.w, c.b, c.N, c.H, c.V, 0,
                                   c.scale, scratch, 3, 1, &cnt);
    cr_expect_eq(cnt, 6);
    fused_fd f = {&c, scratch};
    fd_check("dW", c.w, c.dw, c.V * c.H, fused_fd_loss, &f);
    fd_check("db", c.b, c.db, c.V, fused_fd_loss, &f);
    fd_check("dh", c.h, c.dh, c.N * c.H, fused_fd_loss, &f);
    free(scratch);
    head_case_free(&c);
}

static void fused_matches_blas(int N, int H, int V, int chunk, uint64_t seed) {
    head_case c;
    head_case_init(&c, N, H, V, seed);
    float *dw = malloc(sizeof(float) * V * H), *db = malloc(sizeof(float) * V);
    float *dh = malloc(sizeof(float) * N * H);
    float *scratch = malloc(sizeof(float) * lm_head_fused_scratch_floats(V, H, chunk));
    long cnt_ref, cnt;
    double ref = lm_head_forward_backward(c.dw, c.db, c.dh, c.h, c.t, c.w, c.b, N, H, V, 0, 0.1f,
                                          c.scratch, chunk, &cnt_ref);
    double l = lm_head_fused_forward_backward(dw, db, dh, c.h, c.t, c.w, c.b, N, H, V, 0, 0.1f,
                                              scratch, chunk, 1, &cnt);
    cr_expect_eq(cnt, cnt_ref);
    cr_expect(fabs(l - ref) <= 1e-6 * fabs(ref), "N%d H%d V%d chunk %d: loss %.9g vs %.9g", N, H,
              V, chunk, l, ref);
    expect_near_arrays("dW", dw, c.dw, (size_t)V * H);
    expect_near_arrays("db", db, c.db, V);
    expect_near_arrays("dh", dh, c.dh, (size_t)N * H);
    free(dw), free(db), free(dh), free(scratch);
    head_case_free(&c);
}

Test(head_fused, matches_the_blas_head_over_blocks_chunks_and_tails) {
    fused_matches_blas(37, 32, 1300, 37, 21); /* 3 vocabulary blocks, the last partial */
    fused_matches_blas(37, 32, 1300, 5, 22);  /* row chunks, a short last chunk */
    fused_matches_blas(37, 64, 511, 36, 23);  /* one partial block */
    fused_matches_blas(240, 128, 1100, 240, 24); /* the spec's B*T and H */
}

/* Bitwise the same results on 1, 2, 3, 8 and 20 threads (fixed groups). */
Test(head_fused, results_do_not_depend_on_the_thread_count) {
    const int N = 37, H = 32, V = 2900, chunk = 20; /* 12 blocks: uneven groups */
    head_case c;
    head_case_init(&c, N, H, V, 31);
    float *scratch = malloc(sizeof(float) * lm_head_fused_scratch_floats(V, H, chunk));
    float *dw = malloc(sizeof(float) * V * H), *db = malloc(sizeof(float) * V);
    float *dh = malloc(sizeof(float) * N * H);
    long cnt1, cnt;
    double l1 = lm_head_fused_forward_backward(c.dw, c.db, c.dh, c.h, c.t, c.w, c.b, N, H, V, 0,
                                               0.1f, scratch, chunk, 1, &cnt1);
    const int threads[] = {2, 3, 8, 20};
    for (int k = 0; k < 4; k++) {
        double l = lm_head_fused_forward_backward(dw, db, dh, c.h, c.t, c.w, c.b, N, H, V, 0,
                                                  0.1f, scratch, chunk, threads[k], &cnt);
        cr_expect_eq(cnt, cnt1);
        cr_expect(l == l1, "%d threads: loss %.17g vs %.17g", threads[k], l, l1);
        cr_expect(!memcmp(dw, c.dw, sizeof(float) * V * H), "%d threads: dW differs", threads[k]);
        cr_expect(!memcmp(db, c.db, sizeof(float) * V), "%d threads: db differs", threads[k]);
        cr_expect(!memcmp(dh, c.dh, sizeof(float) * N * H), "%d threads: dh differs", threads[k]);
    }
    free(scratch), free(dw), free(db), free(dh);
    head_case_free(&c);
}
