/* Adam, gradient clipping, LR schedules and early stopping (core/lm_optim.h).
 * Expected values are worked out by hand from the textbook formulas (in
 * double); the C code computes in float, so comparisons use 1e-6 relative. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm_optim.h"

static void expect_close(double got, double want, double rel, const char *what) {
    double tol = rel * fmax(1.0, fabs(want));
    cr_expect(fabs(got - want) <= tol, "%s: got %.9g, want %.9g (tol %.3g)", what, got, want, tol);
}

/* ---- Adam ---------------------------------------------------------------- */

Test(adam, defaults_match_pytorch) {
    lm_adam a;
    lm_adam_defaults(&a);
    cr_expect_eq(a.beta1, 0.9);
    cr_expect_eq(a.beta2, 0.999);
    cr_expect_eq(a.eps, 1e-8);
    cr_expect_eq(a.weight_decay, 0.0);
    cr_expect_eq(a.step, 0);
}

/* p0 = 1, lr 0.1, grads 0.5, -0.25, 0.125. By hand:
 * t=1: m=0.05, v=0.00025, m^=0.5, v^=0.25 -> p = 1 - 0.1*0.5/0.5 = 0.9
 * t=2: m=0.02, v=0.00031225, bc1=0.19, bc2=0.001999 -> p = 0.873366299
 * t=3: m=0.0305, v=0.00032756275 -> p = 0.839323385 */
Test(adam, three_steps_with_bias_correction) {
    const float grads[3] = {0.5f, -0.25f, 0.125f};
    const double want_p[3] = {0.900000002, 0.873366299, 0.839323385};
    const double want_m[3] = {0.05, 0.02, 0.0305};
    const double want_v[3] = {0.00025, 0.00031225, 0.00032756275};
    lm_adam a;
    lm_adam_defaults(&a);
    float p = 1.0f, m = 0.0f, v = 0.0f;
    for (int t = 0; t < 3; t++) {
        lm_adam_update(&a, 0.1f, &p, &grads[t], &m, &v, 1);
        cr_expect_eq(a.step, t + 1);
        expect_close(p, want_p[t], 1e-6, "param");
        expect_close(m, want_m[t], 1e-6, "m");
        expect_close(v * 1e3, want_v[t] * 1e3, 1e-6, "v*1e3");
    }
}

/* L2 weight decay is added to the gradient (torch.optim.Adam, not AdamW):
 * p0 = 2, g = 0, wd 0.1, lr 0.01 -> g' = 0.2, first step moves by lr. */
Test(adam, weight_decay_is_added_to_the_gradient) {
    lm_adam a;
    lm_adam_defaults(&a);
    a.weight_decay = 0.1;
    float p = 2.0f, g = 0.0f, m = 0.0f, v = 0.0f;
    lm_adam_update(&a, 0.01f, &p, &g, &m, &v, 1);
    expect_close(p, 1.99, 1e-6, "p after 1");
    expect_close(m, 0.02, 1e-6, "m after 1");
    lm_adam_update(&a, 0.01f, &p, &g, &m, &v, 1);
    expect_close(p, 1.98000134, 1e-6, "p after 2");
    expect_close(m, 0.0379, 1e-6, "m after 2");
}

/* The vectorized pass must give every element the same update as a scalar
 * double reference of the textbook formula, whatever its position (tails). */
Test(adam, long_array_matches_reference_elementwise) {
    const size_t n = 1037;
    float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
    float *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    double *rp = malloc(n * sizeof *rp), *rm = calloc(n, sizeof *rm), *rv = calloc(n, sizeof *rv);
    for (size_t i = 0; i < n; i++) rp[i] = p[i] = (float)sin((double)i) * 3.0f;
    lm_adam a;
    lm_adam_defaults(&a);
    a.weight_decay = 0.01;
    for (int t = 1; t <= 5; t++) {
        for (size_t i = 0; i < n; i++) g[i] = (float)cos((double)(i * t)) * 0.01f * (float)(i % 7);
        lm_adam_update(&a, 0.003f, p, g, m, v, n);
        for (size_t i = 0; i < n; i++) {
            double gi = (double)g[i] + 0.01 * rp[i];
            rm[i] = 0.9 * rm[i] + 0.1 * gi;
            rv[i] = 0.999 * rv[i] + 0.001 * gi * gi;
            double mh = rm[i] / (1 - pow(0.9, t)), vh = rv[i] / (1 - pow(0.999, t));
            rp[i] -= (double)0.003f * mh / (sqrt(vh) + 1e-8);
        }
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(p[i] - rp[i]) > 1e-6 * fmax(1.0, fabs(rp[i]))) bad++;
    cr_expect_eq(bad, 0, "%d of %zu params differ from the double reference", bad, n);
    free(p), free(g), free(m), free(v), free(rp), free(rm), free(rv);
}

/* ---- clipping ------------------------------------------------------------ */

Test(clip, below_threshold_is_untouched) {
    float g[2] = {3.0f, 4.0f};
    double norm = lm_grad_clip(g, 2, 10.0);
    cr_expect_eq(norm, 5.0);
    cr_expect_eq(g[0], 3.0f);
    cr_expect_eq(g[1], 4.0f);
}

Test(clip, above_threshold_scales_to_max_norm) {
    float g[2] = {3.0f, 4.0f};
    double norm = lm_grad_clip(g, 2, 1.0);
    cr_expect_eq(norm, 5.0, "returns the norm before clipping");
    expect_close(g[0], 3.0 / (5.0 + 1e-6), 1e-7, "g0");
    expect_close(g[1], 4.0 / (5.0 + 1e-6), 1e-7, "g1");
    expect_close(lm_grad_norm(g, 2), 1.0, 1e-6, "clipped norm");
}

Test(clip, zero_max_norm_disables) {
    float g[2] = {30.0f, 40.0f};
    cr_expect_eq(lm_grad_clip(g, 2, 0.0), 50.0);
    cr_expect_eq(g[0], 30.0f);
}

Test(clip, norm_of_long_vector_in_double) {
    const size_t n = 100003; /* not a multiple of any vector width */
    float *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++) g[i] = (i % 2) ? 0.5f : -0.5f;
    expect_close(lm_grad_norm(g, n), 0.5 * sqrt((double)n), 1e-12, "norm");
    g[n - 1] = 1000.0f; /* the tail element counts */
    expect_close(lm_grad_norm(g, n), sqrt(0.25 * (double)(n - 1) + 1e6), 1e-12, "norm with tail");
    free(g);
}

Test(clip, non_finite_norm_leaves_gradients_alone) {
    float g[3] = {1.0f, NAN, 2.0f};
    double norm = lm_grad_clip(g, 3, 1.0);
    cr_expect(isnan(norm));
    cr_expect_eq(g[0], 1.0f);
    cr_expect_eq(g[2], 2.0f);
}

/* ---- schedules ----------------------------------------------------------- */

Test(sched, constant) {
    lm_sched s;
    lm_sched_init(&s, LM_SCHED_CONSTANT, 0.002f);
    cr_expect_eq(lm_sched_lr(&s, 0), 0.002f);
    cr_expect_eq(lm_sched_lr(&s, 123456), 0.002f);
    cr_expect_eq(lm_sched_observe(&s, 1.0f), 0);
}

Test(sched, step_decay_boundaries) {
    lm_sched s;
    lm_sched_init(&s, LM_SCHED_STEP, 1.0f);
    s.step_size = 10;
    s.gamma = 0.5f;
    cr_expect_eq(lm_sched_lr(&s, 0), 1.0f);
    cr_expect_eq(lm_sched_lr(&s, 9), 1.0f);
    cr_expect_eq(lm_sched_lr(&s, 10), 0.5f);
    cr_expect_eq(lm_sched_lr(&s, 19), 0.5f);
    cr_expect_eq(lm_sched_lr(&s, 20), 0.25f);
    cr_expect_eq(lm_sched_lr(&s, 35), 0.125f);
}

Test(sched, cosine_warmup_endpoints_and_midpoint) {
    lm_sched s;
    lm_sched_init(&s, LM_SCHED_COSINE, 1.0f);
    s.min_lr = 0.1f;
    s.warmup_steps = 10;
    s.total_steps = 110;
    /* linear warmup: (step+1)/10 */
    expect_close(lm_sched_lr(&s, 0), 0.1, 1e-6, "warmup 0");
    expect_close(lm_sched_lr(&s, 4), 0.5, 1e-6, "warmup 4");
    expect_close(lm_sched_lr(&s, 9), 1.0, 1e-6, "warmup end");
    /* cosine from base at step 10 to min at step 110, midpoint at 60 */
    expect_close(lm_sched_lr(&s, 10), 1.0, 1e-6, "cosine start");
    expect_close(lm_sched_lr(&s, 60), 0.55, 1e-6, "midpoint");
    expect_close(lm_sched_lr(&s, 35), 0.1 + 0.9 * 0.5 * (1 + cos(M_PI / 4)), 1e-6, "quarter");
    expect_close(lm_sched_lr(&s, 110), 0.1, 1e-6, "end");
    expect_close(lm_sched_lr(&s, 5000), 0.1, 1e-6, "after end");
    for (long t = 10; t < 110; t++)
        cr_expect(lm_sched_lr(&s, t + 1) <= lm_sched_lr(&s, t), "not monotone at %ld", t);
}

Test(sched, cosine_without_warmup_starts_at_base) {
    lm_sched s;
    lm_sched_init(&s, LM_SCHED_COSINE, 0.01f);
    s.total_steps = 100;
    cr_expect_eq(lm_sched_lr(&s, 0), 0.01f);
    expect_close(lm_sched_lr(&s, 50) * 100, 0.5, 1e-6, "midpoint*100");
    cr_expect_eq(lm_sched_lr(&s, 100), 0.0f);
}

/* ReduceLROnPlateau(mode='min', factor=0.5, patience=2, threshold=0.01 rel,
 * min_lr=0.2): lowers on the 3rd consecutive non-improving evaluation. */
Test(sched, plateau_lowers_after_patience_and_respects_min_lr) {
    lm_sched s;
    lm_sched_init(&s, LM_SCHED_PLATEAU, 1.0f);
    s.factor = 0.5f;
    s.patience = 2;
    s.threshold = 0.01f;
    s.min_lr = 0.2f;
    cr_expect_eq(lm_sched_observe(&s, 10.0f), 0); /* first: improves on +inf */
    cr_expect_eq(s.best, 10.0f);
    /* 9.95 is not below 10 * (1 - 0.01) = 9.9: no improvement */
    cr_expect_eq(lm_sched_observe(&s, 9.95f), 0);
    cr_expect_eq(lm_sched_observe(&s, 9.95f), 0);
    cr_expect_eq(lm_sched_lr(&s, 0), 1.0f, "patience 2 tolerates two bad evals");
    cr_expect_eq(lm_sched_observe(&s, 9.95f), 1);
    cr_expect_eq(lm_sched_lr(&s, 0), 0.5f);
    cr_expect_eq(s.bad_evals, 0, "count restarts after lowering");
    cr_expect_eq(s.best, 10.0f, "a non-improving loss never becomes best");
    cr_expect_eq(lm_sched_observe(&s, 9.0f), 0); /* improvement resets */
    cr_expect_eq(lm_sched_observe(&s, 9.0f), 0);
    cr_expect_eq(lm_sched_observe(&s, 9.0f), 0);
    cr_expect_eq(lm_sched_observe(&s, 9.0f), 1);
    cr_expect_eq(lm_sched_lr(&s, 0), 0.25f);
    for (int i = 0; i < 2; i++) cr_expect_eq(lm_sched_observe(&s, 9.0f), 0);
    cr_expect_eq(lm_sched_observe(&s, 9.0f), 1);
    cr_expect_eq(lm_sched_lr(&s, 0), 0.2f, "floored at min_lr, not 0.125");
    for (int i = 0; i < 2; i++) cr_expect_eq(lm_sched_observe(&s, 9.0f), 0);
    cr_expect_eq(lm_sched_observe(&s, 9.0f), 0, "already at min_lr: no change reported");
    cr_expect_eq(lm_sched_lr(&s, 0), 0.2f);
}

Test(sched, plateau_threshold_is_relative) {
    lm_sched s;
    lm_sched_init(&s, LM_SCHED_PLATEAU, 1.0f);
    s.patience = 0;
    s.threshold = 0.1f;
    lm_sched_observe(&s, 100.0f);
    cr_expect_eq(lm_sched_observe(&s, 89.0f), 0, "89 < 100*0.9 improves");
    cr_expect_eq(s.best, 89.0f);
    cr_expect_eq(lm_sched_observe(&s, 81.0f), 1, "81 >= 89*0.9 = 80.1 does not");
    expect_close(lm_sched_lr(&s, 0), 0.1, 1e-7, "lowered by the default factor 0.1");
}

Test(sched, kind_names_round_trip) {
    const char *names[] = {"constant", "step", "cosine", "plateau"};
    for (int i = 0; i < 4; i++) {
        lm_sched_kind k;
        cr_expect_eq(lm_sched_kind_parse(names[i], &k), 0);
        cr_expect_eq((int)k, i);
        cr_expect_str_eq(lm_sched_kind_name(k), names[i]);
    }
    lm_sched_kind k;
    cr_expect_eq(lm_sched_kind_parse("linear", &k), -1);
    cr_expect_eq(lm_sched_kind_parse("", &k), -1);
}

/* ---- early stopping ------------------------------------------------------ */

Test(early_stop, stops_after_patience_evals_without_improvement) {
    lm_early_stop es;
    lm_early_stop_init(&es, 3, 0.01f);
    int imp = -1;
    cr_expect_eq(lm_early_stop_observe(&es, 5.0f, &imp), 0);
    cr_expect_eq(imp, 1);
    cr_expect_eq(lm_early_stop_observe(&es, 4.995f, &imp), 0);
    cr_expect_eq(imp, 0, "an improvement smaller than min_delta does not count");
    cr_expect_eq(lm_early_stop_observe(&es, 4.5f, &imp), 0);
    cr_expect_eq(imp, 1);
    cr_expect_eq(es.bad_evals, 0);
    cr_expect_eq(lm_early_stop_observe(&es, 4.6f, &imp), 0);
    cr_expect_eq(lm_early_stop_observe(&es, NAN, &imp), 0);
    cr_expect_eq(imp, 0, "NaN never improves");
    cr_expect_eq(lm_early_stop_observe(&es, 4.5f, &imp), 1, "third bad evaluation stops");
    cr_expect_eq(es.best, 4.5f);
}

Test(early_stop, zero_patience_never_stops) {
    lm_early_stop es;
    lm_early_stop_init(&es, 0, 0.0f);
    lm_early_stop_observe(&es, 1.0f, NULL);
    for (int i = 0; i < 100; i++) cr_expect_eq(lm_early_stop_observe(&es, 2.0f, NULL), 0);
}

/* Clip norm, clipping and Adam on 1, 2, 3, 5 threads: bitwise the same
 * (fixed parts, per-part sums added in part order), on a length that is
 * no multiple of the parts or of a vector width. */
Test(threads, clip_and_adam_bitwise_equal_for_any_thread_count) {
    const size_t n = 300007;
    float *g0 = malloc(n * sizeof *g0), *p0 = malloc(n * sizeof *p0);
    for (size_t i = 0; i < n; i++) {
        g0[i] = (float)sin((double)i * 0.37) * (1.0f + (float)(i % 7));
        p0[i] = (float)cos((double)i * 0.11);
    }
    float *ref = NULL;
    double ref_norm = 0;
    const int threads[4] = {1, 2, 3, 5};
    for (int k = 0; k < 4; k++) {
        float *g = malloc(n * sizeof *g), *p = malloc(n * sizeof *p);
        float *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
        memcpy(g, g0, n * sizeof *g), memcpy(p, p0, n * sizeof *p);
        lm_adam a;
        lm_adam_defaults(&a);
        double norm = lm_grad_clip_threads(g, n, 1.0, threads[k], NULL);
        for (int s = 0; s < 3; s++) lm_adam_update_threads(&a, 1e-3f, p, g, m, v, n, threads[k], NULL);
        if (k == 0) {
            ref = p, ref_norm = norm;
            cr_expect(norm > 1.0, "clipping happened");
            expect_close(lm_grad_norm(g, n), 1.0, 1e-6, "clipped norm");
        } else {
            cr_expect_eq(norm, ref_norm, "%d threads: norm", threads[k]);
            cr_expect_arr_eq(p, ref, n * sizeof *p, "%d threads: parameters", threads[k]);
            free(p);
        }
        free(g), free(m), free(v);
    }
    free(ref), free(g0), free(p0);
}

/* The clip norm's exact order of additions, written out serially: 24 parts
 * on 16-float boundaries, each 8 lanes in double then its tail then the
 * lanes, the parts added in order. Runs that resume on another build rely
 * on this order (it fixes the bits of every clipped gradient), so a faster
 * pass must give the same double, bit for bit, at every ISA level. */
static double norm_in_order(const float *g, size_t n) {
    size_t units = (n + 15) / 16;
    double total = 0.0;
    for (int p = 0; p < 24; p++) {
        size_t lo = units * p / 24 * 16, hi = units * (p + 1) / 24 * 16;
        lo = lo < n ? lo : n, hi = hi < n ? hi : n;
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0.0;
        size_t i = lo;
        for (; i + 8 <= hi; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += (double)g[i + j] * (double)g[i + j];
        for (; i < hi; i++) s += (double)g[i] * (double)g[i];
        for (int j = 0; j < 8; j++) s += acc[j];
        total += s;
    }
    return sqrt(total);
}

Test(clip, norm_bitwise_equal_to_the_serial_order) {
    const size_t sizes[] = {1, 5, 17, 383, 385, 65536 + 9, 300007};
    float *g = malloc(300007 * sizeof *g);
    for (size_t i = 0; i < 300007; i++)
        g[i] = (float)sin((double)i * 0.73) * (float)(1 + i % 13) * 1e-3f;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (int t = 1; t <= 3; t++) {
            double want = norm_in_order(g, sizes[k]);
            double got = lm_grad_norm_threads(g, sizes[k], t, NULL);
            cr_expect_eq(memcmp(&got, &want, sizeof got), 0, "n %zu, %d threads: %.17g != %.17g",
                         sizes[k], t, got, want);
        }
    free(g);
}

/* One fused clip + Adam step against the two calls it replaces: params, m,
 * v and the step count bitwise equal, clipping or not, with weight decay,
 * on 1 and 2 threads; grads stay unscaled; a NaN gradient skips Adam. */
static void clip_adam_both_ways(double max_norm, double wd, float gscale, int threads) {
    const size_t n = 70001;
    float *buf = malloc(7 * n * sizeof *buf);
    float *g0 = buf, *p1 = buf + n, *m1 = buf + 2 * n, *v1 = buf + 3 * n;
    float *p2 = buf + 4 * n, *m2 = buf + 5 * n, *v2 = buf + 6 * n;
    for (size_t i = 0; i < n; i++) {
        g0[i] = (float)sin((double)i * 0.29) * gscale;
        p1[i] = p2[i] = (float)cos((double)i * 0.13);
        m1[i] = m2[i] = 1e-3f * (float)(i % 5), v1[i] = v2[i] = 1e-5f * (float)(i % 3);
    }
    float *g1 = malloc(n * sizeof *g1);
    memcpy(g1, g0, n * sizeof *g1);
    lm_adam a1, a2;
    lm_adam_defaults(&a1), lm_adam_defaults(&a2);
    a1.weight_decay = a2.weight_decay = wd;
    double n1 = lm_grad_clip_threads(g1, n, max_norm, threads, NULL);
    lm_adam_update_threads(&a1, 1e-3f, p1, g1, m1, v1, n, threads, NULL);
    double n2 = lm_clip_adam_update_threads(&a2, 1e-3f, p2, g0, m2, v2, n, max_norm, threads, NULL);
    cr_expect_eq(n1, n2, "norm");
    cr_expect_eq(a1.step, a2.step, "step");
    cr_expect_arr_eq(p1, p2, n * sizeof *p1, "params (max_norm %g, wd %g)", max_norm, wd);
    cr_expect_arr_eq(m1, m2, n * sizeof *m1, "m");
    cr_expect_arr_eq(v1, v2, n * sizeof *v1, "v");
    cr_expect_eq(g0[1], (float)sin(0.29) * gscale, "grads not scaled");
    free(g1), free(buf);
}

Test(clip, fused_clip_adam_bitwise_equal_to_clip_then_adam) {
    for (int t = 1; t <= 2; t++) {
        clip_adam_both_ways(1.0, 0.0, 1.0f, t);  /* norm ~187: clips */
        clip_adam_both_ways(1e6, 0.0, 1.0f, t);  /* no clipping */
        clip_adam_both_ways(0.0, 0.0, 1.0f, t);  /* clipping off */
        clip_adam_both_ways(1.0, 0.01, 1.0f, t); /* clips, weight decay */
        clip_adam_both_ways(1.0, 0.0, 1e-3f, t); /* norm ~0.19: no clipping */
    }
}

Test(clip, fused_clip_adam_skips_adam_on_nan) {
    float g[4] = {1.0f, NAN, 0.0f, 2.0f}, p[4] = {1, 2, 3, 4}, m[4] = {0}, v[4] = {0};
    lm_adam a;
    lm_adam_defaults(&a);
    double norm = lm_clip_adam_update_threads(&a, 1e-3f, p, g, m, v, 4, 1.0, 1, NULL);
    cr_expect(isnan(norm));
    cr_expect_eq(a.step, 0);
    cr_expect_eq(p[0], 1.0f);
    cr_expect_eq(m[0], 0.0f);
}

/* A sharded step (dist_shared: each rank owns parts [24r/p, 24(r+1)/p)):
 * the part sums of every slice, gathered, give bitwise lm_grad_norm's norm,
 * and clip + Adam slice by slice bitwise the whole-array fused step, for
 * 1, 2, 3, 5 (odd part boundaries), 24 and 30 (empty slices) owners, on 1
 * and 2 threads; a non-finite norm touches nothing. */
static void sharded_step(int owners, int threads) {
    const size_t n = 100003;
    float *g = malloc(n * sizeof *g), *buf = malloc(6 * n * sizeof *buf);
    float *p1 = buf, *m1 = buf + n, *v1 = buf + 2 * n, *p2 = buf + 3 * n, *m2 = buf + 4 * n, *v2 = buf + 5 * n;
    for (size_t i = 0; i < n; i++) {
        g[i] = (float)sin((double)i * 0.41) * (1.0f + (float)(i % 5));
        p1[i] = p2[i] = (float)cos((double)i * 0.07);
        m1[i] = m2[i] = 1e-3f * (float)(i % 7), v1[i] = v2[i] = 1e-5f * (float)(i % 4);
    }
    lm_adam a1, a2;
    lm_adam_defaults(&a1), lm_adam_defaults(&a2);
    double want = lm_clip_adam_update_threads(&a1, 1e-3f, p1, g, m1, v1, n, 1.0, 1, NULL);
    double sums[LM_OPTIM_PARTS];
    memset(sums, 0xff, sizeof sums); /* NaN: a part nobody wrote shows */
    for (int r = 0; r < owners; r++)
        lm_grad_sumsq_parts(g, n, LM_OPTIM_PARTS * r / owners, LM_OPTIM_PARTS * (r + 1) / owners, sums, threads, NULL);
    double got = lm_grad_norm_of_parts(sums);
    cr_expect_eq(memcmp(&got, &want, sizeof got), 0, "%d owners: norm %.17g != %.17g", owners, got, want);
    for (int r = 0; r < owners; r++) {
        lm_adam ar = a2; /* each owner steps its own copy, as each rank does */
        lm_clip_adam_update_parts(&ar, 1e-3f, p2, g, m2, v2, n, LM_OPTIM_PARTS * r / owners,
                                  LM_OPTIM_PARTS * (r + 1) / owners, got, 1.0, threads, NULL);
        cr_expect_eq(ar.step, 1, "%d owners: step", owners);
    }
    cr_expect_arr_eq(p1, p2, n * sizeof *p1, "%d owners, %d threads: params", owners, threads);
    cr_expect_arr_eq(m1, m2, n * sizeof *m1, "%d owners: m", owners);
    cr_expect_arr_eq(v1, v2, n * sizeof *v1, "%d owners: v", owners);
    lm_clip_adam_update_parts(&a2, 1e-3f, p2, g, m2, v2, n, 0, LM_OPTIM_PARTS, NAN, 1.0, threads, NULL);
    cr_expect_eq(a2.step, 0, "non-finite norm: no step");
    cr_expect_arr_eq(p1, p2, n * sizeof *p1, "non-finite norm: params untouched");
    free(g), free(buf);
}

Test(clip, sharded_step_bitwise_equal_to_the_whole_array) {
    const int owners[] = {1, 2, 3, 5, 24, 30};
    for (size_t k = 0; k < sizeof owners / sizeof *owners; k++)
        for (int t = 1; t <= 2; t++) sharded_step(owners[k], t);
}

Test(clip, part_ranges_tile_the_array) {
    const size_t sizes[] = {0, 1, 17, 385, 100003};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t end = 0;
        for (int p = 0; p < LM_OPTIM_PARTS; p++) {
            size_t lo, hi;
            lm_optim_part_range(sizes[k], p, &lo, &hi);
            cr_expect(lo == end && hi >= lo && lo % 16 == 0, "n %zu part %d: [%zu, %zu) after %zu", sizes[k], p,
                      lo, hi, end);
            end = hi;
        }
        cr_expect_eq(end, sizes[k], "n %zu: parts end at %zu", sizes[k], end);
    }
}
