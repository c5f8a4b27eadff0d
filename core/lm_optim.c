/* lm_optim: Adam, global-norm clipping, LR schedules, early stopping.
 *
 * The two functions that touch every parameter each step (lm_adam_update,
 * lm_grad_norm/lm_grad_clip) are single fused passes with no per-element
 * transcendental other than sqrt, written so that GCC vectorizes them; they
 * are cloned for AVX-512/AVX2/baseline and dispatched on lm_isa_level(). All scalars that
 * depend on the step (bias corrections) are computed once per call, in
 * double, exactly as torch 1.13's Python code does, then rounded to float.
 *
 * Both run on up to `threads` threads (lm_par) over LM_OPTIM_PARTS fixed
 * contiguous parts of the arrays; the norm's per-part sums are added in
 * part order, so the results do not depend on the thread count.
 *
 * Invariants: every function is pure over its arguments (no global state),
 * so identical inputs give bit-identical outputs on every rank. */
#include "lm_optim.h"

#include <math.h>
#include <string.h>

#include "lm_clones.h"
#include "lm_par.h"

/* The array size under which the threads are not worth starting (lm_par.h). */
#define LM_OPTIM_MIN_PAR ((size_t)1 << 16)

/* Part p of n elements: [lo, hi), boundaries on multiples of 16 floats. */
void lm_optim_part_range(size_t n, int p, size_t *lo, size_t *hi) {
    size_t units = (n + 15) / 16;
    size_t a = units * (size_t)p / LM_OPTIM_PARTS * 16, b = units * (size_t)(p + 1) / LM_OPTIM_PARTS * 16;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

static int optim_threads(size_t n, int threads) { return n < LM_OPTIM_MIN_PAR ? 1 : threads; }

/* ---- Adam -------------------------------------------------------------- */

void lm_adam_defaults(lm_adam *a) {
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->eps = 1e-8;
    a->weight_decay = 0.0;
    a->step = 0;
}

/* The per-element update; op order as torch: mul_/add_, mul_/addcmul_,
 * sqrt / bc2_sqrt + eps, addcdiv_. gs is the clip's scale of the gradient,
 * applied as clip_grad_norm_'s g *= coef would (gs = 1 changes no bit). */
LM_ISA_CLONES_VOID(adam_kernel,
                   (float *restrict p, const float *restrict g, float *restrict m,
                    float *restrict v, size_t n, float b1, float omb1, float b2, float omb2,
                    float neg_step, float bc2_sqrt, float eps, float gs),
                   (p, g, m, v, n, b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps, gs)) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gs;
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
                    float neg_step, float bc2_sqrt, float eps, float gs, float wd),
                   (p, g, m, v, n, b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps, gs, wd)) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gs + wd * p[i];
        float mi = m[i] * b1 + omb1 * gi;
        float vi = v[i] * b2 + omb2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] += neg_step * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

typedef struct {
    float *p, *m, *v;
    const float *g;
    size_t n;
    int part0; /* job k is part part0 + k */
    float b1, omb1, b2, omb2, neg_step, bc2_sqrt, eps, wd, gs;
} adam_job;

static void adam_part(void *ctx, int k) {
    const adam_job *j = ctx;
    const int part = j->part0 + k;
    size_t lo, hi;
    lm_optim_part_range(j->n, part, &lo, &hi);
    if (j->wd != 0.0f)
        adam_kernel_wd(j->p + lo, j->g + lo, j->m + lo, j->v + lo, hi - lo, j->b1, j->omb1, j->b2,
                       j->omb2, j->neg_step, j->bc2_sqrt, j->eps, j->gs, j->wd);
    else
        adam_kernel(j->p + lo, j->g + lo, j->m + lo, j->v + lo, hi - lo, j->b1, j->omb1, j->b2,
                    j->omb2, j->neg_step, j->bc2_sqrt, j->eps, j->gs);
}

/* Adam on parts [p0, p1) with the gradient scaled by gs on the fly (see
 * adam_kernel). */
static void adam_scaled(lm_adam *a, float lr, float *params, const float *grads, float *m,
                        float *v, size_t n, int p0, int p1, float gs, int threads,
                        lm_par_pool *pool) {
    a->step++;
    const double t = (double)a->step;
    const double bc1 = 1.0 - pow(a->beta1, t);
    const double bc2 = 1.0 - pow(a->beta2, t);
    adam_job j = {params, m, v, grads, n, p0, (float)a->beta1, (float)(1.0 - a->beta1),
                  (float)a->beta2, (float)(1.0 - a->beta2), (float)(-((double)lr / bc1)),
                  (float)sqrt(bc2), (float)a->eps, (float)a->weight_decay, gs};
    lm_par_run_on(pool, adam_part, &j, p1 - p0, optim_threads(n, threads));
}

void lm_adam_update_threads(lm_adam *a, float lr, float *params, const float *grads, float *m,
                            float *v, size_t n, int threads, lm_par_pool *pool) {
    adam_scaled(a, lr, params, grads, m, v, n, 0, LM_OPTIM_PARTS, 1.0f, threads, pool);
}

void lm_adam_update(lm_adam *a, float lr, float *params, const float *grads, float *m,
                    float *v, size_t n) {
    lm_adam_update_threads(a, lr, params, grads, m, v, n, 1, NULL);
}

/* ---- clipping ---------------------------------------------------------- */

/* Sum of squares in double, 8 independent lanes so it vectorizes without
 * reassociation flags; the lane order is fixed, so the result is too.
 * sumsq_from continues lanes acc from element i to n, then adds the tail
 * and the lanes in a fixed order: the one definition of the sum. */
static inline __attribute__((always_inline)) double sumsq_from(const float *restrict g,
                                                               size_t i, size_t n,
                                                               double *restrict acc) {
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)g[i + j] * (double)g[i + j];
    double s = 0.0;
    for (; i < n; i++) s += (double)g[i] * (double)g[i];
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

LM_ISA_CLONES(double, sumsq_d, (const float *restrict g, size_t n), (g, n)) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    return sumsq_from(g, 0, n, acc);
}

/* The sums of squares of two arrays at once, each bitwise equal to
 * sumsq_d's (AVX2 and AVX-512; baseline keeps sumsq_d): the adds of one
 * lane chain wait for each other, so interleaving two independent sets of
 * chains keeps twice as many in flight (the single pass was bound by the
 * add latency on Zen 5: 8-12% faster, bound by memory now). */
typedef float lm_v4f __attribute__((vector_size(16)));
typedef double lm_v4d __attribute__((vector_size(32)));

/* acc[j] += g[j]^2 for j in [0, 8) as two 4-lane vectors (32-byte vectors:
 * native at AVX2 and AVX-512; 64-byte ones went through the stack at AVX2) */
static inline __attribute__((always_inline)) void sumsq8(lm_v4d *acc, const float *g) {
    for (int k = 0; k < 2; k++) {
        lm_v4f f;
        memcpy(&f, g + 4 * k, sizeof f);
        lm_v4d d = __builtin_convertvector(f, lm_v4d);
        acc[k] += d * d;
    }
}

LM_ISA_CLONES_VOID(sumsq2_d,
                   (const float *restrict a, size_t na, const float *restrict b, size_t nb,
                    double *restrict out),
                   (a, na, b, nb, out)) {
    /* lanes 4k..4k+3 of a's acc in x[k], of b's in y[k] (written as plain
     * loops, GCC left the second array's lanes scalar) */
    lm_v4d x[2] = {{0}}, y[2] = {{0}};
    size_t m = (na < nb ? na : nb) / 8 * 8, i = 0;
    for (; i < m; i += 8) {
        sumsq8(x, a + i);
        sumsq8(y, b + i);
    }
    double xa[8], ya[8];
    memcpy(xa, x, sizeof xa);
    memcpy(ya, y, sizeof ya);
    out[0] = sumsq_from(a, i, na, xa);
    out[1] = sumsq_from(b, i, nb, ya);
}

LM_ISA_CLONES_VOID(scale_f, (float *restrict g, size_t n, float c), (g, n, c)) {
    for (size_t i = 0; i < n; i++) g[i] *= c;
}

typedef struct {
    float *g;
    size_t n;
    float c;
    int part0;       /* sumsq jobs: parts [part0, part1) */
    int part1;
    double *sum;     /* [LM_OPTIM_PARTS], by part */
} clip_job;

/* Job k: the sums of parts part0 + 2k and part0 + 2k + 1 (the second only
 * when it is below part1). */
static void sumsq_pair(void *ctx, int k) {
    clip_job *j = ctx;
    const int a = j->part0 + 2 * k, b = a + 1;
    size_t lo0, hi0, lo1, hi1;
    lm_optim_part_range(j->n, a, &lo0, &hi0);
    if (b >= j->part1) {
        j->sum[a] = sumsq_d(j->g + lo0, hi0 - lo0);
        return;
    }
    lm_optim_part_range(j->n, b, &lo1, &hi1);
    if (lm_isa_level() == LM_ISA_BASELINE) { /* no 32-byte registers: one at a time */
        j->sum[a] = sumsq_d(j->g + lo0, hi0 - lo0);
        j->sum[b] = sumsq_d(j->g + lo1, hi1 - lo1);
    } else {
        sumsq2_d(j->g + lo0, hi0 - lo0, j->g + lo1, hi1 - lo1, &j->sum[a]);
    }
}

static void scale_part(void *ctx, int part) {
    clip_job *j = ctx;
    size_t lo, hi;
    lm_optim_part_range(j->n, part, &lo, &hi);
    scale_f(j->g + lo, hi - lo, j->c);
}

void lm_grad_sumsq_parts(const float *g, size_t n, int p0, int p1, double *sums, int threads,
                         lm_par_pool *pool) {
    if (p1 <= p0) return;
    clip_job j = {(float *)g, n, 0.0f, p0, p1, sums};
    lm_par_run_on(pool, sumsq_pair, &j, (p1 - p0 + 1) / 2, optim_threads(n, threads));
}

double lm_grad_norm_of_parts(const double *sums) {
    double s = 0.0;
    for (int p = 0; p < LM_OPTIM_PARTS; p++) s += sums[p];
    return sqrt(s);
}

double lm_grad_norm_threads(const float *g, size_t n, int threads, lm_par_pool *pool) {
    double sums[LM_OPTIM_PARTS];
    lm_grad_sumsq_parts(g, n, 0, LM_OPTIM_PARTS, sums, threads, pool);
    return lm_grad_norm_of_parts(sums);
}

double lm_grad_norm(const float *g, size_t n) { return lm_grad_norm_threads(g, n, 1, NULL); }

double lm_grad_clip_threads(float *g, size_t n, double max_norm, int threads, lm_par_pool *pool) {
    double norm = lm_grad_norm_threads(g, n, threads, pool);
    if (max_norm <= 0.0 || !isfinite(norm)) return norm;
    double coef = max_norm / (norm + 1e-6);
    if (coef >= 1.0) return norm;
    clip_job j = {g, n, (float)coef, 0, 0, NULL};
    lm_par_run_on(pool, scale_part, &j, LM_OPTIM_PARTS, optim_threads(n, threads));
    return norm;
}

double lm_grad_clip(float *g, size_t n, double max_norm) {
    return lm_grad_clip_threads(g, n, max_norm, 1, NULL);
}

void lm_clip_adam_update_parts(lm_adam *a, float lr, float *params, const float *grads, float *m,
                               float *v, size_t n, int p0, int p1, double norm, double max_norm,
                               int threads, lm_par_pool *pool) {
    if (!isfinite(norm)) return;
    double coef = max_norm > 0.0 ? max_norm / (norm + 1e-6) : 1.0;
    adam_scaled(a, lr, params, grads, m, v, n, p0, p1, coef < 1.0 ? (float)coef : 1.0f, threads,
                pool);
}

double lm_clip_adam_update_threads(lm_adam *a, float lr, float *params, const float *grads,
                                   float *m, float *v, size_t n, double max_norm,
                                   int threads, lm_par_pool *pool) {
    double norm = lm_grad_norm_threads(grads, n, threads, pool);
    lm_clip_adam_update_parts(a, lr, params, grads, m, v, n, 0, LM_OPTIM_PARTS, norm, max_norm,
                              threads, pool);
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
