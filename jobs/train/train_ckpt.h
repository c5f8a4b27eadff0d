/* train_ckpt: the training state <-> io_ckpt (HDF5) adapter (train_ckpt.c);
 * what is saved is listed once in train_state.h. */
#ifndef TRAIN_CKPT_H
#define TRAIN_CKPT_H

#include <stddef.h>

#include "lm_err.h"
#include "train_ctx.h"

/* Checkpoints (train_ckpt.c). save: rank 0 writes (all ranks must call: the
 * carried states are gathered). load: rank 0 reads, everything is broadcast. */
int train_ckpt_save(train_ctx *t, const char *path, const char *settings, lm_err *e);
int train_ckpt_load(train_ctx *t, const char *path, lm_err *e);
/* Rank-0 helpers over the run directory. */
int train_ckpt_path(const train_ctx *t, char *out, size_t n); /* RUN/ckpt-<step>.h5 */
int train_ckpt_newest(const char *run_dir, char *out, size_t n, lm_err *e); /* 0 found, 1 none, -1 error */
void train_ckpt_prune(const char *run_dir, int keep);

#endif
