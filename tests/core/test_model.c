/* lm_model: parameter layout and init, the window API's invariants (carried
 * state, eval = train without dropout, token-by-token generation = a window,
 * chunking, the head-gradient hook, bad input), and a finite-difference check
 * of the whole chain including embedding and dropout. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_model.h"
#include "lm_optim.h"
#include "lm_par.h"

static void make_model(lm_model *m, lm_dims d, uint64_t seed) {
    lm_err e;
    cr_assert_eq(lm_model_init(m, d, 1, &e), 0, "%s", e.msg);
    lm_rng r;
    lm_rng_seed(&r, seed);
    lm_model_init_weights(m, &r);
}

static void random_ids(int32_t *ids, int n, int V, lm_rng *r) {
    for (int i = 0; i < n; i++) ids[i] = (int32_t)lm_rng_below(r, (uint64_t)V);
}

/* A model with random weights and n random inputs and targets in [0,V). */
static void make_case(lm_model *m, lm_dims d, uint64_t seed, int32_t *in, int32_t *tgt,
                      int n, lm_rng *r) {
    make_model(m, d, seed);
    lm_rng_seed(r, seed + 1000);
    random_ids(in, n, d.V, r);
    random_ids(tgt, n, d.V, r);
}

static int close_rel(double a, double b, double rtol) { return fabs(a - b) <= rtol * fmax(fabs(a), fabs(b)) + 1e-12; }

static int arrays_close(const float *a, const float *b, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= tol * (1.0 + fabs(b[i])))) return 0;
    return 1;
}

Test(model, parameter_count_and_buffer_layout) {
    lm_dims d = {50000, 64, 128};
    cr_expect_eq(lm_model_count_params(d), 9748816);
    lm_model m;
    lm_err e;
    cr_assert_eq(lm_model_init(&m, (lm_dims){11, 3, 4}, 0, &e), 0);
    cr_expect_eq(m.n_params, lm_model_count_params(m.d));
    cr_expect_null(m.grads);
    cr_expect_null(m.g_fc_w);
    const char *names[] = {"fc.weight", "fc.bias", "lstm.weight_ih", "lstm.weight_hh",
                           "lstm.bias", "embedding.weight"};
    size_t off = 0;
    for (int i = 0; i < LM_P_COUNT; i++) {
        cr_expect_str_eq(m.info[i].name, names[i]);
        cr_expect_eq(m.info[i].offset, off);
        off += (size_t)m.info[i].rows * (m.info[i].cols ? m.info[i].cols : 1);
    }
    cr_expect_eq(off, m.n_params);
    cr_expect_eq(m.fc_w, m.params);
    cr_expect_eq(m.fc_b, m.params + 11 * 4);
    cr_expect_eq(m.emb, m.params + m.info[LM_P_EMB].offset);
    cr_expect_eq((uintptr_t)m.params % 64, 0);
    lm_model_free(&m);
    cr_expect_eq(lm_model_init(&m, (lm_dims){0, 3, 4}, 1, &e), -1);
    cr_expect(strstr(e.msg, "lm_model") != NULL);
}

/* A model over the caller's buffers (dist_shared's memory): the same
 * layout and views, the buffers used as they are, and lm_model_free leaves
 * them to the caller (a free of them here would crash the free() below). */
Test(model, init_on_borrows_the_callers_buffers) {
    lm_dims d = {11, 3, 4};
    size_t n = lm_model_count_params(d);
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    float *g = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)i, g[i] = -(float)i;
    lm_model m;
    lm_err e;
    cr_assert_eq(lm_model_init_on(&m, d, p, g, &e), 0);
    cr_expect_eq(m.n_params, n);
    cr_expect_eq(m.params, p);
    cr_expect_eq(m.grads, g);
    cr_expect_eq(m.emb, p + m.info[LM_P_EMB].offset);
    cr_expect_eq(m.g_w_hh, g + m.info[LM_P_W_HH].offset);
    cr_expect_eq(m.fc_b[1], (float)(11 * 4 + 1), "not zeroed");
    lm_model_free(&m);
    cr_expect_eq(p[5], 5.0f);
    cr_expect_eq(lm_model_init_on(&m, (lm_dims){11, 0, 4}, p, g, &e), -1);
    free(p), free(g);
}

Test(model, init_weights_follow_pytorch_defaults) {
    lm_model m;
    make_model(&m, (lm_dims){2000, 16, 25}, 1);
    const float k = 1.0f / 5.0f; /* 1/sqrt(H) */
    for (int i = 0; i < 2000 * 25; i++) cr_assert(fabsf(m.fc_w[i]) <= k);
    for (int i = 0; i < 100; i++) cr_assert(fabsf(m.lstm_b[i]) <= 2 * k);
    for (int i = 0; i < 100 * 16; i++) cr_assert(fabsf(m.w_ih[i]) <= k);
    double s = 0, s2 = 0;
    for (int i = 0; i < 2000 * 16; i++) s += m.emb[i], s2 += (double)m.emb[i] * m.emb[i];
    double mean = s / 32000, var = s2 / 32000 - mean * mean;
    cr_expect(fabs(mean) < 0.03 && fabs(var - 1.0) < 0.05, "N(0,1)? mean %g var %g", mean, var);
    lm_model_free(&m);
}

/* Loss sum of one window, pad id 0, by eval (train == 0) or by train
 * without dropout; carries the state in h, c. */
static double run_window(lm_model *m, lm_acts *a, int train, int B, int T, const int32_t *in,
                         const int32_t *tgt, float *h, float *c, long *n) {
    double L;
    lm_step_opts o = {.pad_id = 0, .loss_scale = 0.5f};
    if (train)
        cr_assert_eq(lm_model_train_window(m, a, B, T, in, tgt, h, c, &o, &L, n), 0);
    else
        cr_assert_eq(lm_model_eval_window(m, a, B, T, in, tgt, h, c, 0, -1, &L, n), 0);
    return L;
}

/* Loss of one window under train_window (dropout with a fixed rng state) */
static double train_loss(lm_model *m, lm_acts *a, int B, int T, const int32_t *in,
                         const int32_t *tgt, const float *h0, const float *c0, float p,
                         const lm_rng *rng0) {
    float h[64], c[64];
    memcpy(h, h0, sizeof(float) * B * m->d.H);
    memcpy(c, c0, sizeof(float) * B * m->d.H);
    lm_rng r = *rng0;
    lm_step_opts o = {.dropout = p, .rng = &r, .pad_id = 0, .loss_scale = 1.0f};
    double L;
    long n;
    cr_assert_eq(lm_model_train_window(m, a, B, T, in, tgt, h, c, &o, &L, &n), 0);
    return L;
}

/* The whole chain (embedding, LSTM, dropout, head, pad) by central differences
 * on a sample of every tensor. Tolerance as in test_layers_grad.c. */
Test(model, gradients_match_finite_differences_through_dropout) {
    const int B = 2, T = 3, H = 4;
    lm_model m;
    lm_rng r, rng0;
    int32_t in[6], tgt[6];
    make_case(&m, (lm_dims){11, 3, H}, 2, in, tgt, 6, &r);
    lm_acts *a = lm_acts_create_chunked(m.d, B, T, 4);
    tgt[2] = 0, in[0] = in[4]; /* a pad target; a repeated input row */
    float h0[8], c0[8];
    for (int i = 0; i < 8; i++) h0[i] = lm_rng_uniform(&r) - 0.5f, c0[i] = lm_rng_uniform(&r);
    lm_rng_seed(&rng0, 99);
    train_loss(&m, a, B, T, in, tgt, h0, c0, 0.4f, &rng0);
    float *g = malloc(sizeof(float) * m.n_params);
    memcpy(g, m.grads, sizeof(float) * m.n_params);
    int checked = 0;
    for (int t = 0; t < LM_P_COUNT; t++) {
        size_t n = (size_t)m.info[t].rows * (m.info[t].cols ? m.info[t].cols : 1);
        for (size_t i = 0; i < n; i += (n > 40 ? 7 : 1)) {
            float *p = m.params + m.info[t].offset + i;
            float keep = *p;
            *p = keep + 1e-2f;
            double lp = train_loss(&m, a, B, T, in, tgt, h0, c0, 0.4f, &rng0);
            *p = keep - 1e-2f;
            double lm = train_loss(&m, a, B, T, in, tgt, h0, c0, 0.4f, &rng0);
            *p = keep;
            double fd = (lp - lm) / 2e-2, an = g[m.info[t].offset + i];
            cr_expect(fabs(fd - an) <= 2e-3 + 1e-2 * fabs(an), "%s[%zu]: fd %.6g backward %.6g",
                      m.info[t].name, i, fd, an);
            checked++;
        }
    }
    cr_expect_gt(checked, 60);
    free(g);
    lm_acts_free(a);
    lm_model_free(&m);
}

/* Running 2T tokens at once = two windows of T with the state carried. */
Test(model, carried_state_splits_a_window_exactly) {
    const int B = 3, T = 4, H = 6;
    lm_model m;
    lm_rng r;
    int32_t in[3 * 8], tgt[3 * 8], in1[12], tgt1[12], in2[12], tgt2[12];
    make_case(&m, (lm_dims){23, 5, H}, 4, in, tgt, 24, &r);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            in1[b * T + t] = in[b * 2 * T + t], tgt1[b * T + t] = tgt[b * 2 * T + t];
            in2[b * T + t] = in[b * 2 * T + T + t], tgt2[b * T + t] = tgt[b * 2 * T + T + t];
        }
    lm_acts *a = lm_acts_create(m.d, B, 2 * T);
    for (int train = 0; train < 2; train++) {
        float h[18] = {0}, c[18] = {0}, h2[18] = {0}, c2[18] = {0};
        long n, n1, n2;
        double L = run_window(&m, a, train, B, 2 * T, in, tgt, h, c, &n);
        double L1 = run_window(&m, a, train, B, T, in1, tgt1, h2, c2, &n1);
        double L2 = run_window(&m, a, train, B, T, in2, tgt2, h2, c2, &n2);
        cr_expect_eq(n, n1 + n2);
        cr_expect(close_rel(L, L1 + L2, 1e-6), "train %d: %.9g vs %.9g", train, L, L1 + L2);
        cr_expect(arrays_close(h, h2, 18, 1e-6) && arrays_close(c, c2, 18, 1e-6));
    }
    lm_acts_free(a);
    lm_model_free(&m);
}

Test(model, eval_equals_train_without_dropout_and_excludes_ids) {
    const int B = 2, T = 5, H = 7;
    lm_model m;
    lm_rng r;
    int32_t in[10], tgt[10];
    make_case(&m, (lm_dims){31, 4, H}, 6, in, tgt, 10, &r);
    random_ids(tgt, 10, 29, &r);
    for (int i = 0; i < 10; i++) tgt[i] += 2; /* ids 0 and 1 only where set: */
    tgt[3] = 0, tgt[7] = 1, tgt[8] = 1;
    lm_acts *a = lm_acts_create(m.d, B, T);
    float h[14] = {0}, c[14] = {0}, h2[14] = {0}, c2[14] = {0};
    double Lx;
    long nt, ne, nx;
    double Lt = run_window(&m, a, 1, B, T, in, tgt, h, c, &nt);
    double Le = run_window(&m, a, 0, B, T, in, tgt, h2, c2, &ne);
    cr_expect_eq(nt, 9);
    cr_expect_eq(ne, 9);
    cr_expect(close_rel(Lt, Le, 1e-6), "train %.9g eval %.9g", Lt, Le);
    cr_expect_arr_eq(h, h2, sizeof h);
    /* exclude_id 1 drops the two targets equal to 1 */
    memset(h2, 0, sizeof h2), memset(c2, 0, sizeof c2);
    cr_assert_eq(lm_model_eval_window(&m, a, B, T, in, tgt, h2, c2, 0, 1, &Lx, &nx), 0);
    cr_expect_eq(nx, 7);
    cr_expect_lt(Lx, Le);
    lm_acts_free(a);
    lm_model_free(&m);
}

/* Feeding one sequence token by token (generation) reproduces the window:
 * the same final state and the same loss from the step logits. */
Test(model, step_token_reproduces_eval_window) {
    const int T = 9, H = 8, V = 40;
    lm_model m;
    lm_rng r;
    int32_t in[9], tgt[9];
    make_case(&m, (lm_dims){V, 6, H}, 8, in, tgt, T, &r);
    for (int t = 0; t < T; t++) tgt[t] += tgt[t] == 0; /* no pad */
    float h[8], c[8], hs[8], cs[8];
    for (int i = 0; i < H; i++) h[i] = hs[i] = 0.1f * (float)i, c[i] = cs[i] = -0.05f * (float)i;
    lm_acts *a = lm_acts_create(m.d, 1, T);
    double Le;
    long ne;
    cr_assert_eq(lm_model_eval_window(&m, a, 1, T, in, tgt, h, c, 0, -1, &Le, &ne), 0);
    float *logits = malloc(sizeof(float) * V);
    float *scratch = malloc(sizeof(float) * lm_model_step_scratch_floats(m.d));
    double Ls = 0.0;
    for (int t = 0; t < T; t++) {
        cr_assert_eq(lm_model_step_token(&m, in[t], hs, cs, logits, scratch), 0);
        double mx = -INFINITY, s = 0.0;
        for (int v = 0; v < V; v++) mx = fmax(mx, logits[v]);
        for (int v = 0; v < V; v++) s += exp(logits[v] - mx);
        Ls += log(s) + mx - logits[tgt[t]];
    }
    cr_expect(close_rel(Le, Ls, 1e-5), "window %.9g tokens %.9g", Le, Ls);
    cr_expect(arrays_close(h, hs, H, 1e-6) && arrays_close(c, cs, H, 1e-6));
    float h_before[8];
    memcpy(h_before, hs, sizeof h_before);
    cr_expect_eq(lm_model_step_token(&m, V, hs, cs, logits, scratch), -1);
    cr_expect_eq(lm_model_step_token(&m, -1, hs, cs, logits, scratch), -1);
    cr_expect_arr_eq(hs, h_before, sizeof h_before);
    free(logits), free(scratch);
    lm_acts_free(a);
    lm_model_free(&m);
}

typedef struct {
    lm_model *m;
    float *fc_copy;
    int calls;
} hook_ctx;

static void on_head(void *p) {
    hook_ctx *h = p;
    h->calls++;
    memcpy(h->fc_copy, h->m->grads, sizeof(float) * (h->m->info[LM_P_FC_B].offset + h->m->d.V));
}

/* Chunk size does not change the gradients; the hook sees the final fc
 * gradients; a second call overwrites (never accumulates) every gradient. */
Test(model, chunking_hook_and_overwritten_gradients) {
    const int B = 4, T = 6, H = 5, V = 57;
    lm_model m;
    lm_rng r;
    int32_t in[24], tgt[24], in2[24];
    make_case(&m, (lm_dims){V, 3, H}, 10, in, tgt, 24, &r);
    random_ids(in2, 24, V, &r);
    size_t n_fc = m.info[LM_P_FC_B].offset + V;
    hook_ctx hc = {&m, malloc(sizeof(float) * n_fc), 0};
    lm_step_opts o = {.pad_id = 0, .loss_scale = 0.1f, .on_head_grads = on_head, .ctx = &hc};
    float h[20], c[20];
    double L;
    long n;
    lm_acts *big = lm_acts_create_chunked(m.d, B, T, 1000), *small = lm_acts_create_chunked(m.d, B, T, 5);
    float *g1 = malloc(sizeof(float) * m.n_params);
    memset(h, 0, sizeof h), memset(c, 0, sizeof c);
    cr_assert_eq(lm_model_train_window(&m, big, B, T, in, tgt, h, c, &o, &L, &n), 0);
    cr_expect_eq(hc.calls, 1);
    cr_expect_arr_eq(hc.fc_copy, m.grads, sizeof(float) * n_fc);
    memcpy(g1, m.grads, sizeof(float) * m.n_params);
    /* another window in between leaves other embedding rows dirty */
    memset(h, 0, sizeof h), memset(c, 0, sizeof c);
    cr_assert_eq(lm_model_train_window(&m, small, B, T, in2, tgt, h, c, &o, &L, &n), 0);
    memset(h, 0, sizeof h), memset(c, 0, sizeof c);
    cr_assert_eq(lm_model_train_window(&m, small, B, T, in, tgt, h, c, &o, &L, &n), 0);
    cr_expect_eq(hc.calls, 3);
    cr_expect(arrays_close(m.grads, g1, m.n_params, 1e-5), "chunk 5 vs one chunk");
    free(g1), free(hc.fc_copy);
    lm_acts_free(big), lm_acts_free(small);
    lm_model_free(&m);
}

Test(model, bad_windows_are_refused_without_touching_state) {
    const int B = 2, T = 3, H = 4, V = 9;
    lm_model m, inf;
    make_model(&m, (lm_dims){V, 3, H}, 12);
    lm_err e;
    cr_assert_eq(lm_model_init(&inf, m.d, 0, &e), 0);
    lm_acts *a = lm_acts_create(m.d, B, T);
    lm_acts *other = lm_acts_create((lm_dims){V + 1, 3, H}, B, T);
    int32_t in[6] = {1, 2, 3, 4, 5, 6}, tgt[6] = {1, 2, 3, 4, 5, 6};
    float h[8] = {1, 2, 3, 4, 5, 6, 7, 8}, c[8] = {0}, h0[8];
    memcpy(h0, h, sizeof h);
    lm_step_opts o = {.pad_id = 0, .loss_scale = 1.0f};
    double L;
    long n;
    int32_t bad[6] = {1, 2, V, 4, 5, 6}, neg[6] = {1, -1, 3, 4, 5, 6};
    cr_expect_eq(lm_model_train_window(&m, a, B, T, bad, tgt, h, c, &o, &L, &n), -1);
    cr_expect_eq(lm_model_train_window(&m, a, B, T, in, neg, h, c, &o, &L, &n), -1);
    cr_expect_eq(lm_model_train_window(&m, a, B + 1, T, in, tgt, h, c, &o, &L, &n), -1);
    cr_expect_eq(lm_model_train_window(&m, a, B, T + 1, in, tgt, h, c, &o, &L, &n), -1);
    cr_expect_eq(lm_model_train_window(&m, other, B, T, in, tgt, h, c, &o, &L, &n), -1);
    cr_expect_eq(lm_model_train_window(&inf, a, B, T, in, tgt, h, c, &o, &L, &n), -1);
    o.dropout = 0.5f; /* no rng */
    cr_expect_eq(lm_model_train_window(&m, a, B, T, in, tgt, h, c, &o, &L, &n), -1);
    o.dropout = 1.0f;
    cr_expect_eq(lm_model_train_window(&m, a, B, T, in, tgt, h, c, &o, &L, &n), -1);
    cr_expect_eq(lm_model_eval_window(&m, a, B, T, bad, tgt, h, c, 0, -1, &L, &n), -1);
    cr_expect_eq(lm_model_eval_window(&m, a, B, T, in, neg, h, c, 0, -1, &L, &n), -1);
    cr_expect_arr_eq(h, h0, sizeof h);
    cr_expect_null(lm_acts_create(m.d, 1 << 20, 1 << 20)); /* beyond BLAS's int */
    cr_expect_null(lm_acts_create(m.d, 0, T));
    /* smaller windows than the arena are fine; inference models evaluate */
    cr_expect_eq(lm_model_eval_window(&inf, a, 1, 2, in, tgt, h, c, 0, -1, &L, &n), 0);
    cr_expect_eq(n, 2);
    lm_acts_free(a), lm_acts_free(other);
    lm_model_free(&m), lm_model_free(&inf);
}

/* Steps of train window + clip + Adam with `threads` threads (from pool
 * when not NULL) from the same start; the parameters left in a fresh copy
 * of the model. */
static float *params_after_steps(int threads, lm_par_pool *pool) {
    /* H % 32: fused head; B 9: three LSTM row groups, the last one short */
    const int B = 9, T = 5, V = 3001, H = 32, steps = 3;
    lm_model m;
    lm_rng r, drop;
    int32_t in[45], tgt[45];
    make_case(&m, (lm_dims){V, 16, H}, 21, in, tgt, B * T, &r);
    cr_assert_geq(m.n_params, (size_t)1 << 17, "large enough for threaded clip/Adam");
    lm_acts *a = lm_acts_create(m.d, B, T);
    float *mo = calloc(m.n_params, sizeof(float)), *vo = calloc(m.n_params, sizeof(float));
    float h[9 * 32] = {0}, c[9 * 32] = {0};
    lm_adam adam;
    lm_adam_defaults(&adam);
    lm_rng_seed(&drop, 77);
    lm_step_opts o = {.dropout = 0.3f, .rng = &drop, .pad_id = -1, .loss_scale = 0.05f, .threads = threads,
                      .pool = pool};
    for (int s = 0; s < steps; s++) {
        double L;
        long n;
        cr_assert_eq(lm_model_train_window(&m, a, B, T, in, tgt, h, c, &o, &L, &n), 0);
        lm_grad_clip_threads(m.grads, m.n_params, 0.5, threads, pool);
        lm_adam_update_threads(&adam, 1e-2f, m.params, m.grads, mo, vo, m.n_params, threads, pool);
        random_ids(in, B * T, V, &r);
    }
    float *p = malloc(sizeof(float) * m.n_params);
    memcpy(p, m.params, sizeof(float) * m.n_params);
    free(mo), free(vo);
    lm_acts_free(a);
    lm_model_free(&m);
    return p;
}

/* --threads changes nothing: the output layer, the LSTM recurrence, the
 * clip norm and Adam split their work in fixed parts, so every thread count gives the same
 * bits (and the updates did move the parameters). */
Test(model, whole_steps_bitwise_equal_for_1_2_3_threads_with_and_without_a_pool) {
    lm_model ref;
    make_model(&ref, (lm_dims){3001, 16, 32}, 21);
    float *p1 = params_after_steps(1, NULL);
    cr_expect(memcmp(p1, ref.params, sizeof(float) * ref.n_params) != 0, "steps moved the parameters");
    for (int t = 2; t <= 3; t++) {
        float *pt = params_after_steps(t, NULL);
        cr_expect_arr_eq(pt, p1, sizeof(float) * ref.n_params, "%d threads differ from 1", t);
        free(pt);
        lm_par_pool *pool = lm_par_pool_create(t, LM_PAR_SPIN_US);
        cr_assert_not_null(pool);
        pt = params_after_steps(t, pool);
        cr_expect_arr_eq(pt, p1, sizeof(float) * ref.n_params, "%d threads of a pool differ from 1", t);
        free(pt);
        lm_par_pool_free(pool);
    }
    free(p1);
    lm_model_free(&ref);
}
