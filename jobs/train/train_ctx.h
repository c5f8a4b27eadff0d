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
    lm_par_pool *pool;  /* --threads' workers, kept for the whole run (NULL: 1 thread) */
    float *adam_m, *adam_v;
    /* The exchange (train_exchange.c): hosts the ranks run on; shm non-NULL
     * when every rank is on one host and they share params, grads and
     * moments (then model's buffers and adam_m/v live in it); this rank
     * updates optimizer parts [p0, p1) (all of them without shm). */
    int hosts;
    dist_shared *shm;
    int p0, p1;
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

#endif
