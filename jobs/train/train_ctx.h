/* train_ctx: the state of one training process, shared by the loop
 * (train_loop.c) and the checkpoint adapter (train_ckpt.c).
 * Invariant: everything that decides what the next step computes is saved in
 * checkpoints: the parameters, Adam's moments and step, the carried LSTM
 * states, and the scalars listed once in train_state.h; dropout masks and data
 * order are derived from (seed, epoch, step, stream), so no RNG stream needs
 * saving beyond the seed. */
#ifndef TRAIN_CTX_H
#define TRAIN_CTX_H

#include "dist.h"
#include "lm_model.h"
#include "lm_optim.h"
#include "train.h"
#include "train_data.h"
#include "train_settings.h"

typedef struct train_ctx {
    train_config *cfg;  /* resolved against the checkpoint on resume (train_settings.h) */
    train_resume resume; /* the checkpoint resolved against and the changed settings */
    int exit_code;      /* LM_EXIT_USAGE when a resume was refused (setting or corpus mismatch) */
    dist_world world;
    io_corpus corpus;
    lm_dims dims;
    int B, T, G, first; /* this rank owns streams [first, first+B) of G */
    lm_model model;
    lm_acts *acts;
    float *adam_m, *adam_v;
    float *h, *c;       /* [B,H] carried state of this rank's streams */
    lm_adam adam;       /* its step is saved in /optim; the rest comes from the settings */
    lm_sched sched;     /* its cur_lr, best, bad_evals are /state scalars (train_state.h) */
    lm_early_stop es;   /* its best, bad_evals are /state scalars (train_state.h) */
    /* The resumable values of train_ctx itself: every field is one line of
     * TRAIN_STATE_SCALARS (train_state.h); no padding, so that
     * tests/train/test_train_state.c sees a field added here but not there. */
    struct train_resumable {
        long epoch, step_in_epoch, global_step;
        uint64_t seed;
        double best_val;
        float lr;
        int state_mode; /* TRAIN_STATE_CARRY / RESET (checked on load, not restored) */
    } rs;
} train_ctx;

/* Checkpoints (train_ckpt.c). save: rank 0 writes (all ranks must call: the
 * carried states are gathered). load: rank 0 reads, everything is broadcast. */
int train_ckpt_save(train_ctx *t, const char *path, const char *settings, lm_err *e);
int train_ckpt_load(train_ctx *t, const char *path, lm_err *e);
/* Rank-0 helpers over the run directory. */
int train_ckpt_path(const train_ctx *t, char *out, size_t n); /* RUN/ckpt-<step>.h5 */
int train_ckpt_newest(const char *run_dir, char *out, size_t n, lm_err *e); /* 0 found, 1 none, -1 error */
void train_ckpt_prune(const char *run_dir, int keep);

#endif
