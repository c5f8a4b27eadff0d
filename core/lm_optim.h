/* lm_optim: Adam, global-norm gradient clipping, learning-rate schedules and
 * early stopping. Pure functions over float arrays and small plain structs,
 * so every rank computes bit-identical updates from identical inputs. */
#ifndef LM_OPTIM_H
#define LM_OPTIM_H

#include <stddef.h>

typedef struct lm_par_pool lm_par_pool; /* lm_par.h */

/* ---- Adam (PyTorch semantics, bias-corrected, L2 weight decay added to the
 * gradient as torch.optim.Adam does; decay 0 by default). ---------------- */
typedef struct lm_adam {
    /* double, as PyTorch's Python floats: the bias corrections 1 - b^t are
     * computed in double and only the per-element coefficients are float. */
    double beta1, beta2, eps, weight_decay;
    long step; /* number of updates applied so far */
} lm_adam;

void lm_adam_defaults(lm_adam *a); /* 0.9, 0.999, 1e-8, 0, step 0 */
/* One step over n parameters: increments a->step (= t), then, in float, with
 * the same operation order as torch 1.13's single-tensor Adam:
 *   g += wd p (if wd != 0); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g g;
 *   p += -(lr / (1-b1^t)) * (m / (sqrt(v) / sqrt(1-b2^t) + eps)).
 * One fused pass over the four arrays. */
void lm_adam_update(lm_adam *a, float lr, float *params, const float *grads,
                    float *m, float *v, size_t n);
/* The same on up to `threads` threads (elementwise over fixed parts: the
 * result is bitwise that of lm_adam_update for every thread count). */
void lm_adam_update_threads(lm_adam *a, float lr, float *params, const float *grads,
                            float *m, float *v, size_t n, int threads, lm_par_pool *pool);

/* ---- clipping ------------------------------------------------------------ */
/* L2 norm of g[0..n) accumulated in double: sums of squares over 24 fixed
 * parts of g, added in part order. */
double lm_grad_norm(const float *g, size_t n);
/* torch's clip_grad_norm_: coef = max_norm/(norm+1e-6); g *= coef when
 * coef < 1. max_norm <= 0 disables; a non-finite norm leaves g unchanged (the
 * caller decides to skip the step). Returns the norm before clipping. */
double lm_grad_clip(float *g, size_t n, double max_norm);
/* Both on up to `threads` threads; bitwise the same results for every
 * thread count (the parts and their order do not depend on it). Every
 * *_threads and *_parts function takes the pool its threads come from
 * (lm_par_run_on; NULL: threads started per call). */
double lm_grad_norm_threads(const float *g, size_t n, int threads, lm_par_pool *pool);
double lm_grad_clip_threads(float *g, size_t n, double max_norm, int threads, lm_par_pool *pool);
/* lm_grad_clip_threads then, if the norm is finite, lm_adam_update_threads,
 * with one pass over the gradient less: the clip's scale is applied inside
 * Adam's pass, so params, m and v (and a->step) end bitwise as after the
 * two calls, but grads are left unscaled (and, for a non-finite norm, Adam
 * is skipped: the train loop's rule). Returns the norm before clipping.
 * Saves a read and a write of the gradient (~78 MB at the spec's sizes)
 * on every step that clips. */
double lm_clip_adam_update_threads(lm_adam *a, float lr, float *params, const float *grads,
                                   float *m, float *v, size_t n, double max_norm,
                                   int threads, lm_par_pool *pool);

/* ---- the same over a slice of the parts (a sharded optimizer step) -------
 * Every function above works over LM_OPTIM_PARTS fixed contiguous parts of
 * its arrays (part p: lm_optim_part_range), never split further. A caller
 * that owns only parts [p0, p1) of the parameters (dist_shared: each rank of
 * a host updates its own slice) gets bitwise the whole-array results from:
 *   lm_grad_sumsq_parts     sums[p] for p in [p0, p1), the rest untouched;
 *   lm_grad_norm_of_parts   the norm from all LM_OPTIM_PARTS sums, added in
 *                           part order (lm_grad_norm's own sum);
 *   lm_clip_adam_update_parts  clip scale and Adam on parts [p0, p1) only
 *                           (a->step += 1 unless the norm is non-finite, in
 *                           which case nothing is touched). */
#define LM_OPTIM_PARTS 24 /* divisible by 1, 2, 3, 4, 6 and 8 threads */
void lm_optim_part_range(size_t n, int part, size_t *lo, size_t *hi);
void lm_grad_sumsq_parts(const float *g, size_t n, int p0, int p1, double *sums, int threads,
                         lm_par_pool *pool);
double lm_grad_norm_of_parts(const double *sums);
void lm_clip_adam_update_parts(lm_adam *a, float lr, float *params, const float *grads, float *m,
                               float *v, size_t n, int p0, int p1, double norm, double max_norm,
                               int threads, lm_par_pool *pool);

/* ---- learning-rate schedules ----------------------------------------------- */
typedef enum {
    LM_SCHED_CONSTANT = 0,
    LM_SCHED_STEP,    /* lr = base * gamma^(floor(step / step_size)) */
    /* step < warmup: base * (step+1) / warmup; then
     * min + (base-min) * (1 + cos(pi * (step-warmup) / (total-warmup))) / 2,
     * min_lr from total_steps on (base forever when total <= warmup). */
    LM_SCHED_COSINE,
    /* torch ReduceLROnPlateau(mode='min', threshold_mode='rel', cooldown=0):
     * an evaluation improves when loss < best * (1 - threshold); after MORE
     * than `patience` consecutive evaluations without improvement,
     * lr = max(lr * factor, min_lr) (changes under 1e-8 are ignored) and the
     * count restarts. */
    LM_SCHED_PLATEAU
} lm_sched_kind;

typedef struct lm_sched {
    lm_sched_kind kind;
    float base_lr, min_lr;
    long step_size;   float gamma;            /* step */
    long warmup_steps; long total_steps;      /* cosine */
    float factor; int patience; float threshold; /* plateau (relative threshold, torch 'rel' mode) */
    /* plateau state (saved in checkpoints) */
    float cur_lr, best;
    int bad_evals;
} lm_sched;

/* Sets every field to its default: min_lr 0; step_size 1, gamma 0.1;
 * warmup 0, total 0; factor 0.1, patience 10, threshold 1e-4 (torch's);
 * cur_lr = base_lr, best = INFINITY, bad_evals 0. */
void lm_sched_init(lm_sched *s, lm_sched_kind kind, float base_lr);
/* LR to use for optimizer step number `step` (0-based) for constant/step/cosine;
 * for plateau, the current lr. */
float lm_sched_lr(const lm_sched *s, long step);
/* Feed a validation loss (plateau only; no-op for others). Returns 1 if the
 * LR was lowered by this call. */
int lm_sched_observe(lm_sched *s, float val_loss);
/* Parses "constant|step|cosine|plateau"; returns -1 on unknown. */
int lm_sched_kind_parse(const char *s, lm_sched_kind *out);
const char *lm_sched_kind_name(lm_sched_kind k);

/* ---- early stopping ------------------------------------------------------ */
typedef struct lm_early_stop {
    int patience;      /* evaluations without improvement before stopping; <= 0 disables */
    float min_delta;   /* absolute improvement that counts */
    float best;        /* best loss so far (INFINITY at start) */
    int bad_evals;
} lm_early_stop;

void lm_early_stop_init(lm_early_stop *es, int patience, float min_delta);
/* An evaluation improves when val_loss < best - min_delta (then best =
 * val_loss, count reset). Returns 1 when `patience` consecutive evaluations
 * have not improved, i.e. training should stop. Sets *improved (may be NULL).
 * A NaN loss never improves. */
int lm_early_stop_observe(lm_early_stop *es, float val_loss, int *improved);

#endif
