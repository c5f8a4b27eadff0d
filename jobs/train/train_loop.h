/* train_loop: what the steps of the training loop share (train_loop.c: the
 * set-up and the loop; train_grads.c: one optimizer step's forward and
 * backward; train_finish.c: validation, checkpoints and the end of a run).
 * Internal to jobs/train/: train.h has the job's public entry point.
 * Every function here that takes the world is collective unless it says
 * "rank 0"; all ranks call them in the same order. */
#ifndef TRAIN_LOOP_H
#define TRAIN_LOOP_H

#include "train_ctx.h"
#include "train_log.h"

/* Why the loop stopped (train_finish.c maps each to its words). */
typedef enum { STOP_NONE = 0, STOP_DONE, STOP_EARLY, STOP_MAX_STEPS, STOP_TIME, STOP_SIGNAL } train_stop;

/* What the closing summary reports. */
typedef struct run_outcome {
    long eval_step;     /* global step of the last validation; -1: none in this process */
    double val_loss;    /* as logged (the whole validation stream at epoch ends) */
    long val_tokens;
    double train_loss;  /* the last step's */
    long steps_here;    /* steps of this process */
    double wall_s;      /* this process's time in the loop */
} run_outcome;

/* The loop's own state, next to train_ctx (which is what a checkpoint keeps). */
typedef struct train_loop {
    const char *settings;      /* the effective settings text, stored in checkpoints */
    train_plan plan, vplan;    /* this epoch's training windows; the validation windows */
    int K;                     /* --accumulate: windows per optimizer step */
    long spe, total;           /* optimizer steps per epoch; the last step of this run */
    long eval_every, prefix_steps; /* routine validations: interval, windows */
    int overlap;               /* the head's exchange runs during the backward */
    dist_grad_sync *gs;
    train_log lg;
    int32_t *in, *tg;          /* [K,B,T] this step's windows */
    float *acc;                /* K > 1: the gradient sum of the earlier windows */
    double t_start, t_last_ckpt, train_s; /* clocks: loop start, last checkpoint, time in steps */
    long steps_here, last_saved;
    int signal;                /* the signal this rank caught (0: none) */
    run_outcome out;
} train_loop;

/* train_loop.c */
/* Every rank learns whether any rank failed; one rank reports e. 0: none. */
int train_agree(train_ctx *t, int failed, const lm_err *e);
/* A collective failed mid-run: the ranks may disagree now, so end the job. */
_Noreturn void train_fatal(train_ctx *t, const lm_err *e);
/* "peak RSS MB per rank: a, b, ..." */
void train_peak_rss_report(train_ctx *t, char *out, size_t n);

/* train_exchange.c (collective). open_shared: in set-up, before the model
 * exists: t->hosts, and t->shm when the shared path runs (--exchange).
 * open: the banner line and the MPI path's dist_grad_sync (lp->gs; NULL
 * with shm). update: the step's sum over ranks, clip and Adam; returns the
 * norm before clipping and its communication seconds. share_state: rank 0's
 * parameters (and moments) are every rank's now (a barrier with shm). */
int train_exchange_open_shared(train_ctx *t, lm_err *e);
int train_exchange_open(train_ctx *t, train_loop *lp, lm_err *e);
double train_exchange_update(train_ctx *t, train_loop *lp, float lr, double *comm_s);
int train_exchange_share_state(train_ctx *t, int moments, lm_err *e);

/* train_grads.c: forward and backward of optimizer step k of the epoch into
 * model.grads (the exchange started, not finished); this rank's loss sum
 * and token count. */
void train_step_grads(train_ctx *t, train_loop *lp, long k, double *loss_sum, long *ntok);

/* train_finish.c */
/* A validation (full: the whole stream, else prefix_steps windows); observe:
 * a routine one, feeding early stopping and the plateau schedule. Returns 1:
 * stop early. */
int train_validate(train_ctx *t, train_loop *lp, int full, int observe);
/* A step checkpoint RUN/ckpt-<step>.h5, logged with why it was written. */
int train_save_ckpt(train_ctx *t, train_loop *lp, train_stop stop, int epoch_end, lm_err *e);
/* The closing validation, the last checkpoint and the line saying how the
 * run ended. Returns the exit code. */
int train_finish(train_ctx *t, train_loop *lp, train_stop stop);

#endif
