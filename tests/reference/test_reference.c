/* The model against PyTorch: tests/reference/lstm_reference.txt was written
 * by make_fixture.py (torch 1.13, V=50 E=8 H=16 B=3 T=5, two pad targets).
 *
 * Tolerance: every value must satisfy
 *     |ours - torch| <= RTOL * (|torch| + max |torch| over that tensor)
 * with RTOL = 1e-5, i.e. 1e-5 relative to the element, with a floor of 1e-5
 * of the tensor's scale for elements near zero (where float rounding of sums
 * of cancelling terms, not a bug, dominates). A wrong gate, sign, transpose,
 * bias, pad handling or Adam/clip step is off by orders of magnitude more. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_layers.h"
#include "lm_model.h"
#include "lm_optim.h"

#define RTOL 1e-5
#define FIXTURE LM_TEST_SOURCE_DIR "/tests/reference/lstm_reference.txt"

typedef struct {
    char name[64];
    int n;
    double *v;
} ref_tensor;

static ref_tensor refs[128];
static int n_refs;

static void load_fixture(void) {
    FILE *f = fopen(FIXTURE, "r");
    cr_assert(f, "cannot open %s", FIXTURE);
    char line[256];
    n_refs = 0;
    for (;;) {
        int ch = fgetc(f);
        if (ch == EOF) break;
        if (ch == '#' || ch == '\n') {
            if (ch == '#') cr_assert(fgets(line, sizeof line, f));
            continue;
        }
        ungetc(ch, f);
        cr_assert_lt(n_refs, 128);
        ref_tensor *r = &refs[n_refs++];
        cr_assert_eq(fscanf(f, "%63s %d", r->name, &r->n), 2, "bad header");
        r->v = malloc(sizeof(double) * (r->n ? r->n : 1));
        for (int i = 0; i < r->n; i++)
            cr_assert_eq(fscanf(f, "%lf", &r->v[i]), 1, "%s: bad value %d", r->name, i);
        fscanf(f, " ");
    }
    fclose(f);
}

static void free_fixture(void) {
    for (int i = 0; i < n_refs; i++) free(refs[i].v);
    n_refs = 0;
}

static const double *ref(const char *name, int n) {
    for (int i = 0; i < n_refs; i++)
        if (!strcmp(refs[i].name, name)) {
            cr_assert_eq(refs[i].n, n, "%s: %d values, expected %d", name, refs[i].n, n);
            return refs[i].v;
        }
    cr_assert_fail("fixture has no %s", name);
    return NULL;
}

static void expect_close(const char *what, const float *got, const double *want, int n) {
    double scale = 0.0, worst = 0.0;
    int worst_i = -1;
    for (int i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (int i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double tol = RTOL * (fabs(want[i]) + scale);
        if (!(err <= tol) && (worst_i < 0 || err / tol > worst)) worst = err / tol, worst_i = i;
    }
    cr_expect_eq(worst_i, -1, "%s[%d]: ours %.9g torch %.9g (%.1fx the tolerance)", what,
                 worst_i, worst_i >= 0 ? got[worst_i] : 0.0,
                 worst_i >= 0 ? want[worst_i] : 0.0, worst);
}

static void expect_close1(const char *what, double got, double want) {
    float g = (float)got;
    expect_close(what, &g, &want, 1);
}

/* ---- the model loaded from the fixture ---------------------------------- */
static int V, E, H, B, T, PAD;
static lm_model m;
static int32_t in[64], tgt[64];

static void to_floats(float *dst, const double *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = (float)src[i];
}

static void setup(void) {
    load_fixture();
    const double *d = ref("dims", 6);
    V = (int)d[0], E = (int)d[1], H = (int)d[2], B = (int)d[3], T = (int)d[4], PAD = (int)d[5];
    cr_assert_leq(B * T, 64);
    lm_err e;
    cr_assert_eq(lm_model_init(&m, (lm_dims){V, E, H}, 1, &e), 0, "%s", e.msg);
    for (int i = 0; i < LM_P_COUNT; i++) {
        const lm_param_info *p = &m.info[i];
        int n = p->rows * (p->cols ? p->cols : 1);
        to_floats(m.params + p->offset, ref(p->name, n), n);
    }
    const double *ri = ref("inputs", B * T), *rt = ref("targets", B * T);
    for (int i = 0; i < B * T; i++) in[i] = (int32_t)ri[i], tgt[i] = (int32_t)rt[i];
}

static void teardown(void) {
    lm_model_free(&m);
    free_fixture();
}

/* initial state of a case: zeros or the fixture's h0/c0 */
static void initial_state(const char *which, float *h, float *c) {
    memset(h, 0, sizeof(float) * B * H);
    memset(c, 0, sizeof(float) * B * H);
    if (!strcmp(which, "carry")) {
        to_floats(h, ref("h0", B * H), B * H);
        to_floats(c, ref("c0", B * H), B * H);
    }
}

static long count_non_pad(void) {
    long n = 0;
    for (int i = 0; i < B * T; i++) n += tgt[i] != PAD;
    return n;
}

TestSuite(reference, .init = setup, .fini = teardown);

/* Logits and final state from the layer functions chained by hand. */
static void check_forward(const char *which) {
    int N = B * T;
    float h[64 * 16], c[64 * 16];
    float *x = malloc(sizeof(float) * N * E), *hs = malloc(sizeof(float) * N * H);
    float *logits = malloc(sizeof(float) * N * V);
    lm_lstm_cache k = {malloc(sizeof(float) * N * 4 * H), malloc(sizeof(float) * N * H),
                       malloc(sizeof(float) * N * H), malloc(sizeof(float) * N * H), NULL};
    initial_state(which, h, c);
    lm_embedding_forward(x, in, m.emb, N, E);
    lm_lstm_forward(hs, &k, h, c, x, m.w_ih, m.w_hh, m.lstm_b, h, c, B, T, E, H);
    lm_linear_forward(logits, hs, m.fc_w, m.fc_b, N, H, V);
    char name[64];
    snprintf(name, sizeof name, "%s.logits", which);
    expect_close(name, logits, ref(name, N * V), N * V);
    snprintf(name, sizeof name, "%s.hT", which);
    expect_close(name, h, ref(name, B * H), B * H);
    snprintf(name, sizeof name, "%s.cT", which);
    expect_close(name, c, ref(name, B * H), B * H);
    free(x), free(hs), free(logits);
    free(k.gates), free(k.hprev), free(k.cprev), free(k.tc);
}

Test(reference, logits_and_final_state_from_zero_state) { check_forward("zero"); }
Test(reference, logits_and_final_state_from_carried_state) { check_forward("carry"); }

/* Loss, final state and every gradient from lm_model_train_window with
 * PyTorch's mean (loss_scale = 1/non-pad count). */
static void check_train_window(const char *which, int chunk) {
    float h[64 * 16], c[64 * 16];
    lm_acts *a = lm_acts_create_chunked(m.d, B, T, chunk);
    cr_assert(a);
    initial_state(which, h, c);
    long want_n = count_non_pad();
    cr_assert_lt(want_n, B * T, "the fixture must contain pad targets");
    lm_step_opts o = {.dropout = 0.0f, .pad_id = PAD, .loss_scale = 1.0f / (float)want_n};
    double loss;
    long n;
    cr_assert_eq(lm_model_train_window(&m, a, B, T, in, tgt, h, c, &o, &loss, &n), 0);
    cr_expect_eq(n, want_n);
    char name[96];
    snprintf(name, sizeof name, "%s.loss", which);
    expect_close1(name, loss / (double)n, ref(name, 1)[0]);
    snprintf(name, sizeof name, "%s.hT", which);
    expect_close(name, h, ref(name, B * H), B * H);
    snprintf(name, sizeof name, "%s.cT", which);
    expect_close(name, c, ref(name, B * H), B * H);
    for (int i = 0; i < LM_P_COUNT; i++) {
        const lm_param_info *p = &m.info[i];
        int cnt = p->rows * (p->cols ? p->cols : 1);
        snprintf(name, sizeof name, "%s.grad.%s", which, p->name);
        expect_close(name, m.grads + p->offset, ref(name, cnt), cnt);
    }
    lm_acts_free(a);
}

Test(reference, gradients_from_zero_state) { check_train_window("zero", 0); }
Test(reference, gradients_from_carried_state) { check_train_window("carry", 0); }
Test(reference, gradients_with_a_small_head_chunk) { check_train_window("carry", 4); }

Test(reference, eval_window_loss_matches_torch) {
    float h[64 * 16], c[64 * 16];
    lm_acts *a = lm_acts_create(m.d, B, T);
    initial_state("carry", h, c);
    double loss;
    long n;
    cr_assert_eq(lm_model_eval_window(&m, a, B, T, in, tgt, h, c, PAD, -1, &loss, &n), 0);
    cr_expect_eq(n, count_non_pad());
    expect_close1("carry.loss (eval)", loss / (double)n, ref("carry.loss", 1)[0]);
    expect_close("carry.hT (eval)", h, ref("carry.hT", B * H), B * H);
    lm_acts_free(a);
}

/* Three steps of clip + Adam with the state carried between windows. */
Test(reference, three_adam_steps_with_clipping) {
    const double *ad = ref("adam", 6);
    float lr = (float)ad[0], max_norm = (float)ad[4];
    int steps = (int)ad[5];
    lm_adam opt;
    lm_adam_defaults(&opt);
    opt.beta1 = ad[1], opt.beta2 = ad[2], opt.eps = ad[3];
    float *mo = calloc(m.n_params, sizeof(float)), *vo = calloc(m.n_params, sizeof(float));
    float h[64 * 16], c[64 * 16];
    lm_acts *a = lm_acts_create(m.d, B, T);
    initial_state("carry", h, c);
    long want_n = count_non_pad();
    lm_step_opts o = {.dropout = 0.0f, .pad_id = PAD, .loss_scale = 1.0f / (float)want_n};
    const double *losses = ref("adam.loss", steps), *norms = ref("adam.norm", steps);
    for (int s = 0; s < steps; s++) {
        double loss;
        long n;
        cr_assert_eq(lm_model_train_window(&m, a, B, T, in, tgt, h, c, &o, &loss, &n), 0);
        char name[64];
        snprintf(name, sizeof name, "adam.loss[%d]", s);
        expect_close1(name, loss / (double)n, losses[s]);
        double norm = lm_grad_clip(m.grads, m.n_params, max_norm);
        cr_assert_gt(norm, max_norm, "clipping must trigger");
        snprintf(name, sizeof name, "adam.norm[%d]", s);
        expect_close1(name, norm, norms[s]);
        lm_adam_update(&opt, lr, m.params, m.grads, mo, vo, m.n_params);
    }
    for (int i = 0; i < LM_P_COUNT; i++) {
        const lm_param_info *p = &m.info[i];
        int cnt = p->rows * (p->cols ? p->cols : 1);
        char name[96];
        snprintf(name, sizeof name, "adam.param.%s", p->name);
        expect_close(name, m.params + p->offset, ref(name, cnt), cnt);
    }
    free(mo), free(vo);
    lm_acts_free(a);
}
