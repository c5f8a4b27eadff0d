/* train: the 'lyricmind train' job: settings, the loop, checkpoints, logs.
 * Wires core (model, Adam, schedules), dist (MPI) and io (shards,
 * checkpoints). Only rank 0 prints, writes metrics and checkpoints. */
#ifndef TRAIN_H
#define TRAIN_H

#include <stdint.h>

#include "cli.h"

typedef struct train_config {
    const char *data, *run, *config, *resume, *lr_schedule, *state;
    const char *wire_dtype; /* fp32 | bf16 | fp16: the head gradient on the wire */
    const char *overlap;    /* auto | on | off: the head's exchange during the backward */
    const char *exchange;   /* auto | shared | mpi: shared memory on one host, or messages */
    int epochs, batch_size, seq_len, embed, hidden, threads, keep;
    float lr, clip, dropout, weight_decay, min_lr;
    long step_size;     float gamma;                /* step schedule */
    long warmup_steps;                              /* cosine */
    float plateau_factor; int plateau_patience; float plateau_threshold;
    int patience;       float min_delta;            /* early stopping */
    long eval_every, eval_tokens, checkpoint_every, max_steps, seed;
    double checkpoint_minutes, time_limit, log_seconds;
    int accumulate;     /* K micro-batches (windows) per optimizer step and exchange */
    int check_params;   /* debug: verify params identical across ranks */
    int quiet;
    int verbose;        /* start-up: list every setting, not only the non-defaults */
    /* Filled by cmd_train: the flag table bound to this struct
     * (its seen marks say which settings the user gave) and the buffer of the
     * effective settings text, regenerated in place when a resume takes
     * settings from the checkpoint (train_settings.h). */
    cli_cmd *cli;
    char *settings;
    size_t settings_cap;
} train_config;

/* The defaults of every setting. */
void train_config_defaults(train_config *c);
/* The flag table bound to c, in caller storage (opts: TRAIN_MAX_OPTS
 * entries); cmd's summary (the --help text) is the caller's to set. */
#define TRAIN_MAX_OPTS 64
void train_cli_bind(train_config *c, cli_opt *opts, cli_cmd *cmd);

/* Runs training; returns a process exit code (LM_EXIT_*). argc/argv go to
 * MPI_Init. The settings text (c->settings) is stored in checkpoints. A
 * resume resolves c against the checkpoint's settings first (in place). */
int train_run(train_config *c, const char *settings_ini, int *argc, char ***argv);

#endif
