/* lm_optim: Adam, global-norm clipping, LR schedules, early stopping.
 *
 * The two functions that touch every parameter each step (lm_adam_update,
 * lm_grad_norm/lm_grad_clip) are single fused passes with no per-element
 * transcendental other than sqrt, written so that GCC vectorizes them; they
 * are cloned for AVX-512/AVX2/baseline and dispatched on lm_isa_level(). All scalars that
 * depend on the step (bias corrections) are computed once per call, in
 * double, exactly as torch 1.13's Python code does, then rounded to float.
 *
 * Invariants: every function is pure over its arguments (no global state),
 * so identical inputs give bit-identical outputs on every rank. */
#include "lm_optim.h"

#include <math.h>
#include <string.h>

#include "lm_clones.h"

/* ---- Adam -------------------------------------------------------------- */

void lm_adam_defaults(lm_adam *a) {
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->eps = 1e-8;
    a->weight_decay = 0.0;
    a->step = 0;
}

/* The per-element update; op order as torch: mul_/add_, mul_/addcmul_,
 * sqrt / bc2_sqrt + eps, addcdiv_. */
LM_ISA_CLONES_VOID(adam_kernel,
                   (float *restrict p, const float *restrict g, float *restrict m,
                    float *restrict v, size_t n, float b1, float omb1, float b2, float omb2,
                    float neg_step, float bc2_sqrt, float eps),
                   (p, g, m, v, n, b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps)) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] * b1 + omb1 * gi;
        float vi = v[i] * b2 + omb2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] += neg_step * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

LM_ISA_CLONES_VOID(adam_kernel_wd,
                   (float *restrict p, const float *restrict g, float *restrict m,
                    float *restrict v, size_t n, float b1, float omb1, float b2, float omb2,
                    float neg_step, float bc2_sqrt, float eps, float wd),
                   (p, g, m, v, n, b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps, wd)) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float mi = m[i] * b1 + omb1 * gi;
        float vi = v[i] * b2 + omb2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] += neg_step * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

void lm_adam_update(lm_adam *a, float lr, float *params, const float *grads, float *m,
                    float *v, size_t n) {
    a->step++;
    const double t = (double)a->step;
    const double bc1 = 1.0 - pow(a->beta1, t);
    const double bc2 = 1.0 - pow(a->beta2, t);
    const float neg_step = (float)(-((double)lr / bc1));
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = (float)a->beta1, omb1 = (float)(1.0 - a->beta1);
    const float b2 = (float)a->beta2, omb2 = (float)(1.0 - a->beta2);
    const float eps = (float)a->eps, wd = (float)a->weight_decay;
    if (wd != 0.0f)
        adam_kernel_wd(params, grads, m, v, n, b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps, wd);
    else
        adam_kernel(params, grads, m, v, n, b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps);
}

/* ---- clipping ---------------------------------------------------------- */

/* Sum of squares in double, 8 independent lanes so it vectorizes without
 * reassociation flags; the lane order is fixed, so the result is too. */
LM_ISA_CLONES(double, sumsq_d, (const float *restrict g, size_t n), (g, n)) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)g[i + j] * (double)g[i + j];
    double s = 0.0;
    for (; i < n; i++) s += (double)g[i] * (double)g[i];
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

LM_ISA_CLONES_VOID(scale_f, (float *restrict g, size_t n, float c), (g, n, c)) {
    for (size_t i = 0; i < n; i++) g[i] *= c;
}

double lm_grad_norm(const float *g, size_t n) { return sqrt(sumsq_d(g, n)); }

double lm_grad_clip(float *g, size_t n, double max_norm) {
    double norm = lm_grad_norm(g, n);
    if (max_norm <= 0.0 || !isfinite(norm)) return norm;
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) scale_f(g, n, (float)coef);
    return norm;
}

/* ---- learning-rate schedules ------------------------------------------- */

void lm_sched_init(lm_sched *s, lm_sched_kind kind, float base_lr) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->base_lr = base_lr;
    s->min_lr = 0.0f;
    s->step_size = 1;
    s->gamma = 0.1f;
    s->warmup_steps = 0;
    s->total_steps = 0;
    s->factor = 0.1f;
    s->patience = 10;
    s->threshold = 1e-4f;
    s->cur_lr = base_lr;
    s->best = INFINITY;
    s->bad_evals = 0;
}

static float cosine_lr(const lm_sched *s, long step) {
    if (step < 0) step = 0;
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return (float)((double)s->base_lr * (double)(step + 1) / (double)s->warmup_steps);
    long span = s->total_steps - s->warmup_steps;
    if (span <= 0) return s->base_lr;
    if (step >= s->total_steps) return s->min_lr;
    double progress = (double)(step - s->warmup_steps) / (double)span;
    double c = 0.5 * (1.0 + cos(M_PI * progress));
    return (float)((double)s->min_lr + ((double)s->base_lr - (double)s->min_lr) * c);
}

float lm_sched_lr(const lm_sched *s, long step) {
    switch (s->kind) {
    case LM_SCHED_CONSTANT:
        return s->base_lr;
    case LM_SCHED_STEP: {
        if (s->step_size <= 0 || step < 0) return s->base_lr;
        long k = step / s->step_size;
        return (float)((double)s->base_lr * pow((double)s->gamma, (double)k));
    }
    case LM_SCHED_COSINE:
        return cosine_lr(s, step);
    case LM_SCHED_PLATEAU:
        return s->cur_lr;
    }
    return s->base_lr;
}

int lm_sched_observe(lm_sched *s, float val_loss) {
    if (s->kind != LM_SCHED_PLATEAU) return 0;
    /* torch: is_better(a, best) = a < best * (1 - threshold) in 'rel' mode
     * (best starts at +inf, so the first finite loss always improves). */
    if ((double)val_loss < (double)s->best * (1.0 - (double)s->threshold)) {
        s->best = val_loss;
        s->bad_evals = 0;
        return 0;
    }
    s->bad_evals++;
    if (s->bad_evals <= s->patience) return 0;
    s->bad_evals = 0;
    float old_lr = s->cur_lr;
    float new_lr = old_lr * s->factor;
    if (new_lr < s->min_lr) new_lr = s->min_lr;
    if (old_lr - new_lr > 1e-8f) {
        s->cur_lr = new_lr;
        return 1;
    }
    return 0;
}

static const char *const SCHED_NAMES[] = {"constant", "step", "cosine", "plateau"};

int lm_sched_kind_parse(const char *str, lm_sched_kind *out) {
    for (int k = 0; k < 4; k++)
        if (str && strcmp(str, SCHED_NAMES[k]) == 0) {
            *out = (lm_sched_kind)k;
            return 0;
        }
    return -1;
}

const char *lm_sched_kind_name(lm_sched_kind k) {
    return ((unsigned)k < 4) ? SCHED_NAMES[k] : "unknown";
}

/* ---- early stopping ---------------------------------------------------- */

void lm_early_stop_init(lm_early_stop *es, int patience, float min_delta) {
    es->patience = patience;
    es->min_delta = min_delta;
    es->best = INFINITY;
    es->bad_evals = 0;
}

int lm_early_stop_observe(lm_early_stop *es, float val_loss, int *improved) {
    int imp = val_loss < es->best - es->min_delta;
    if (improved) *improved = imp;
    if (imp) {
        es->best = val_loss;
        es->bad_evals = 0;
        return 0;
    }
    es->bad_evals++;
    return es->patience > 0 && es->bad_evals >= es->patience;
}
