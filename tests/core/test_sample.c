/* lm_sample: greedy, top-k, top-p, temperature and the returned log-prob.
 * Frequencies are checked with Pearson's chi-square against the 0.999
 * quantile of its distribution (a correct sampler fails with probability
 * 0.001 for a random seed; the seeds here are fixed, so runs are exact). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_sample.h"

/* 0.999 quantiles of chi-square with df = 1..9 degrees of freedom */
static const double CHI2_999[10] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88};

static float *scratch_for(int V) { return malloc(lm_sample_scratch_floats(V) * sizeof(float)); }

/* Draws N tokens and returns the counts (caller frees). */
static long *draw_counts(const lm_sampler *s, const float *logits, int V, uint64_t seed, int N) {
    long *cnt = calloc((size_t)V, sizeof *cnt);
    float *scr = scratch_for(V);
    lm_rng r;
    lm_rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        int id = lm_sample(s, logits, V, &r, scr, NULL);
        cr_assert(id >= 0 && id < V, "id %d out of range", id);
        cnt[id]++;
    }
    free(scr);
    return cnt;
}

/* Pearson's statistic of counts over the ids with want[id] > 0; also asserts
 * that ids with want 0 were never drawn. Returns df in *df. */
static double chi_square(const long *cnt, const double *want, int V, int N, int *df) {
    double chi = 0;
    int k = 0;
    for (int i = 0; i < V; i++) {
        if (want[i] <= 0) {
            cr_expect_eq(cnt[i], 0, "token %d is outside the support but drawn %ld times", i, cnt[i]);
            continue;
        }
        double e = want[i] * N;
        chi += (cnt[i] - e) * (cnt[i] - e) / e;
        k++;
    }
    *df = k - 1;
    return chi;
}

static void expect_distribution(const lm_sampler *s, const float *logits, const double *want,
                                int V, uint64_t seed, int N) {
    long *cnt = draw_counts(s, logits, V, seed, N);
    int df;
    double chi = chi_square(cnt, want, V, N, &df);
    cr_assert(df >= 1 && df <= 9);
    cr_expect_lt(chi, CHI2_999[df], "chi-square %.2f >= %.2f (df %d, p = 0.001)", chi, CHI2_999[df], df);
    free(cnt);
}

Test(sample, argmax_lowest_id_on_ties_and_ignores_nan) {
    float x[6] = {1.0f, 3.0f, NAN, 3.0f, -INFINITY, 2.0f};
    cr_expect_eq(lm_argmax(x, 6), 1);
    float y[3] = {NAN, NAN, NAN};
    int i = lm_argmax(y, 3);
    cr_expect(i >= 0 && i < 3);
    float z[20];
    for (int k = 0; k < 20; k++) z[k] = (float)k;
    z[0] = NAN; /* a NaN in the first vector lane must not poison the max */
    cr_expect_eq(lm_argmax(z, 20), 19);
}

Test(sample, top_k_one_and_zero_temperature_equal_greedy) {
    enum { V = 1000 };
    float *x = malloc(V * sizeof *x), *scr = scratch_for(V);
    lm_rng r, before;
    lm_rng_seed(&r, 1);
    lm_rng gen;
    lm_rng_seed(&gen, 77);
    for (int row = 0; row < 50; row++) {
        for (int i = 0; i < V; i++) x[i] = 4.0f * lm_rng_normal(&gen);
        int g = lm_argmax(x, V);
        before = r;
        lm_sampler k1 = {1.0f, 1, 1.0f}, t0 = {0.0f, 0, 1.0f}, tk = {0.7f, 1, 0.9f};
        cr_expect_eq(lm_sample(&k1, x, V, &r, scr, NULL), g);
        cr_expect_eq(lm_sample(&t0, x, V, &r, scr, NULL), g);
        cr_expect_eq(lm_sample(&tk, x, V, &r, scr, NULL), g);
        cr_expect_eq(memcmp(&r, &before, sizeof r), 0, "greedy must not consume rng draws");
    }
    free(x), free(scr);
}

Test(sample, one_draw_per_non_greedy_call) {
    float x[5] = {0.1f, 0.5f, 0.2f, 0.9f, 0.3f};
    float *scr = scratch_for(5);
    lm_rng r, ref;
    lm_rng_seed(&r, 9);
    ref = r;
    lm_sampler s = {0.8f, 3, 0.9f};
    lm_sample(&s, x, 5, &r, scr, NULL);
    lm_rng_u64(&ref);
    cr_expect_eq(memcmp(&r, &ref, sizeof r), 0);
    free(scr);
}

/* probs 1/55, 2/55, ..., 10/55 at temperature 1: df 9, N = 100,000 */
Test(sample, frequencies_match_softmax_chi_square) {
    enum { V = 10 };
    float x[V];
    double want[V];
    for (int i = 0; i < V; i++) {
        want[i] = (i + 1) / 55.0;
        x[i] = (float)log(want[i]) + 3.0f; /* the shift must not matter */
    }
    lm_sampler s = {1.0f, 0, 1.0f};
    expect_distribution(&s, x, want, V, 1234, 100000);
}

/* temperature 0.5 squares the probabilities before renormalising */
Test(sample, temperature_reshapes_the_distribution) {
    enum { V = 10 };
    float x[V];
    double want[V], z = 0;
    for (int i = 0; i < V; i++) {
        x[i] = (float)log((i + 1) / 55.0);
        z += (i + 1.0) * (i + 1.0);
    }
    for (int i = 0; i < V; i++) want[i] = (i + 1.0) * (i + 1.0) / z;
    lm_sampler s = {0.5f, 0, 1.0f};
    expect_distribution(&s, x, want, V, 4321, 100000);
}

/* top_k = 4 keeps ids 6..9 with probs 7..10 / 34 */
Test(sample, top_k_renormalises_the_k_largest) {
    enum { V = 10 };
    float x[V];
    double want[V] = {0};
    for (int i = 0; i < V; i++) x[i] = (float)log((i + 1) / 55.0);
    for (int i = 6; i < V; i++) want[i] = (i + 1) / 34.0;
    lm_sampler s = {1.0f, 4, 1.0f};
    expect_distribution(&s, x, want, V, 99, 60000);
}

/* All logits equal: top-k and top-p keep the lowest ids (V = 10 takes the
 * re-collecting top-k path, V = 100 the heap-sorting one). */
Test(sample, ties_keep_lower_ids) {
    float x[100] = {0};
    double want[100] = {1 / 3.0, 1 / 3.0, 1 / 3.0};
    lm_sampler k3 = {1.0f, 3, 1.0f};
    expect_distribution(&k3, x, want, 10, 5, 30000);
    expect_distribution(&k3, x, want, 100, 6, 30000);
    lm_sampler p25 = {1.0f, 0, 0.25f}; /* 3 of 10 reach 0.3 >= 0.25 */
    expect_distribution(&p25, x, want, 10, 7, 30000);
    lm_sampler p025 = {1.0f, 0, 0.025f}; /* 3 of 100 */
    expect_distribution(&p025, x, want, 100, 8, 30000);
    lm_sampler k6p = {1.0f, 6, 0.45f}; /* 3 of the 6 kept */
    expect_distribution(&k6p, x, want, 100, 9, 30000);
}

/* probs 0.4, 0.3, 0.15, 0.1, 0.05 scattered over ids 0..7 (the other ids
 * -inf): top-p keeps the smallest prefix whose mass reaches p. */
Test(sample, top_p_keeps_smallest_set_reaching_p) {
    enum { V = 8 };
    const int ids[5] = {5, 1, 7, 0, 3};
    const double probs[5] = {0.4, 0.3, 0.15, 0.1, 0.05};
    const struct {
        float p;
        int keep;
    } cases[] = {{0.3f, 1}, {0.6f, 2}, {0.8f, 3}, {0.9f, 4}, {0.99f, 5}, {1.0f, 5}, {0.0f, 1}};
    float x[V];
    for (int i = 0; i < V; i++) x[i] = -INFINITY;
    for (int k = 0; k < 5; k++) x[ids[k]] = (float)log(probs[k]);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double want[V] = {0}, mass = 0;
        for (int k = 0; k < cases[c].keep; k++) mass += probs[k];
        for (int k = 0; k < cases[c].keep; k++) want[ids[k]] = probs[k] / mass;
        lm_sampler s = {1.0f, 0, cases[c].p};
        long *cnt = draw_counts(&s, x, V, 1000 + c, 40000);
        for (int k = 0; k < cases[c].keep; k++)
            cr_expect_gt(cnt[ids[k]], 0, "p=%g: token %d (prob %g) never drawn", cases[c].p, ids[k], probs[k]);
        int df;
        double chi = chi_square(cnt, want, V, 40000, &df);
        if (df >= 1)
            cr_expect_lt(chi, CHI2_999[df], "p=%g: chi-square %.2f (df %d)", cases[c].p, chi, df);
        free(cnt);
    }
}

typedef struct {
    double w;
    int id;
} wid;

static int by_weight_desc(const void *a, const void *b) {
    const wid *x = a, *y = b;
    if (x->w != y->w) return x->w > y->w ? -1 : 1;
    return x->id - y->id;
}

/* Reference nucleus by a full sort in double: marks in[] and returns its size. */
static int ref_nucleus(const float *x, int V, float t, int top_k, float top_p, char *in) {
    wid *a = malloc((size_t)V * sizeof *a);
    float m = x[lm_argmax(x, V)];
    for (int i = 0; i < V; i++) a[i] = (wid){exp(((double)x[i] - m) / t), i};
    qsort(a, (size_t)V, sizeof *a, by_weight_desc);
    int n = top_k > 0 && top_k < V ? top_k : V;
    double total = 0, cum = 0;
    for (int i = 0; i < n; i++) total += a[i].w;
    int c = 0;
    while (c < n && cum < top_p * total) cum += a[c++].w;
    /* the test needs a clear boundary, not one decided by float rounding
     * (the sampler's weights carry ~1e-7 relative error) */
    double margin = 2e-6 * total;
    cr_assert(c == n || (cum - a[c - 1].w < top_p * total - margin && cum > top_p * total + margin),
              "boundary too close to call; pick another seed");
    memset(in, 0, (size_t)V);
    for (int i = 0; i < c; i++) in[a[i].id] = 1;
    free(a);
    return c;
}

static void check_support_large(float t, int top_k, float top_p, uint64_t seed) {
    enum { V = 50000, N = 3000 };
    float *x = malloc(V * sizeof *x), *scr = scratch_for(V);
    char *in = malloc(V);
    lm_rng r;
    lm_rng_seed(&r, seed);
    for (int i = 0; i < V; i++) x[i] = 2.0f * lm_rng_normal(&r);
    int c = ref_nucleus(x, V, t, top_k, top_p, in);
    cr_assert_gt(c, 1);
    lm_sampler s = {t, top_k, top_p};
    int outside = 0, distinct = 0;
    char *seen = calloc(V, 1);
    for (int i = 0; i < N; i++) {
        int id = lm_sample(&s, x, V, &r, scr, NULL);
        outside += !in[id];
        distinct += !seen[id];
        seen[id] = 1;
    }
    cr_expect_eq(outside, 0, "%d of %d draws outside the %d-token nucleus", outside, N, c);
    cr_expect_gt(distinct, c < 20 ? c / 2 : 10, "only %d distinct tokens from a nucleus of %d", distinct, c);
    free(x), free(scr), free(in), free(seen);
}

Test(sample, top_p_support_over_50k_vocabulary) { check_support_large(1.0f, 0, 0.5f, 17); }
Test(sample, top_k_then_top_p_support) { check_support_large(0.7f, 1000, 0.9f, 18); }
Test(sample, top_k_support_over_50k_vocabulary) { check_support_large(1.0f, 40, 1.0f, 19); }

/* Mass spread over ids in different 256-token blocks of a 3000-token row,
 * so that the block walk of the draw is exercised. */
Test(sample, frequencies_across_blocks) {
    enum { V = 3000 };
    float x[V];
    double want[V] = {0};
    const int ids[4] = {5, 700, 1500, 2999};
    for (int i = 0; i < V; i++) x[i] = -INFINITY;
    for (int k = 0; k < 4; k++) {
        want[ids[k]] = (k + 1) / 10.0;
        x[ids[k]] = (float)log(want[ids[k]]);
    }
    lm_sampler s = {1.0f, 0, 1.0f};
    expect_distribution(&s, x, want, V, 2718, 40000);
}

/* As T -> 0 the share of the argmax grows to 1; at T = 1 it is softmax's. */
Test(sample, low_temperature_approaches_greedy) {
    float x[4] = {1.0f, 2.0f, 0.5f, 0.0f};
    const float temps[4] = {1.0f, 0.5f, 0.2f, 0.02f};
    double prev = 0;
    for (int k = 0; k < 4; k++) {
        lm_sampler s = {temps[k], 0, 1.0f};
        long *cnt = draw_counts(&s, x, 4, 31 + k, 20000);
        double share = cnt[1] / 20000.0;
        cr_expect_gt(share, prev, "argmax share %.4f at T=%g not above %.4f", share, temps[k], prev);
        prev = share;
        if (k == 0) {
            double p1 = exp(2.0) / (exp(1.0) + exp(2.0) + exp(0.5) + 1.0);
            cr_expect(fabs(share - p1) < 0.015, "T=1 share %.4f, softmax %.4f", share, p1);
        }
        free(cnt);
    }
    cr_expect_eq(prev, 1.0, "at T=0.02 (gap/T = 50) every draw is the argmax");
}

Test(sample, logprob_is_untruncated_temperature_one) {
    float x[6] = {0.3f, -1.0f, 2.5f, 2.4f, 0.0f, 1.0f};
    double z = 0;
    for (int i = 0; i < 6; i++) z += exp(x[i]);
    const lm_sampler cfg[3] = {{1.0f, 0, 1.0f}, {0.5f, 2, 1.0f}, {0.0f, 0, 1.0f}};
    float *scr = scratch_for(6);
    lm_rng r;
    lm_rng_seed(&r, 4);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 50; i++) {
            float lp = 1.0f;
            int id = lm_sample(&cfg[c], x, 6, &r, scr, &lp);
            double want = x[id] - log(z);
            cr_expect(fabs(lp - want) < 1e-5, "cfg %d token %d: logprob %f, want %f", c, id, lp, want);
        }
    free(scr);
}

Test(sample, nan_and_inf_logits_are_never_drawn) {
    float x[6] = {NAN, 1.0f, -INFINITY, 1.0f, NAN, 0.0f};
    double e = exp(1.0), z = 2 * e + 1;
    double want[6] = {0, e / z, 0, e / z, 0, 1 / z};
    lm_sampler s = {1.0f, 0, 1.0f};
    expect_distribution(&s, x, want, 6, 12, 30000);
    lm_sampler sp = {1.0f, 0, 0.99f}, sk = {1.0f, 3, 1.0f};
    expect_distribution(&sp, x, want, 6, 13, 30000);
    expect_distribution(&sk, x, want, 6, 14, 30000);
    /* all NaN: still a valid id */
    float y[4] = {NAN, NAN, NAN, NAN};
    float *scr = scratch_for(4);
    lm_rng r;
    lm_rng_seed(&r, 1);
    int id = lm_sample(&s, y, 4, &r, scr, NULL);
    cr_expect(id >= 0 && id < 4);
    free(scr);
}

Test(sample, single_token_vocabulary) {
    float x[1] = {0.5f}, *scr = scratch_for(1), lp = 1.0f;
    lm_rng r;
    lm_rng_seed(&r, 1);
    lm_sampler s = {1.0f, 0, 0.9f};
    cr_expect_eq(lm_sample(&s, x, 1, &r, scr, &lp), 0);
    cr_expect_eq(lp, 0.0f);
    free(scr);
}

Test(sample, same_rng_state_same_tokens) {
    enum { V = 5000 };
    float *x = malloc(V * sizeof *x), *scr = scratch_for(V);
    lm_rng r, a, b;
    lm_rng_seed(&r, 6);
    for (int i = 0; i < V; i++) x[i] = lm_rng_normal(&r);
    lm_rng_seed(&a, 8);
    b = a;
    lm_sampler s = {0.9f, 50, 0.95f};
    for (int i = 0; i < 200; i++) cr_assert_eq(lm_sample(&s, x, V, &a, scr, NULL), lm_sample(&s, x, V, &b, scr, NULL));
    free(x), free(scr);
}
