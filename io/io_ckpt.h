/* io_ckpt: training checkpoints (HDF5), see docs/formats.md.
 *
 *   /model/<name>              float32, PyTorch names/shapes (lm_model.info)
 *   /optim/adam/{m,v}/<name>   float32, same shapes; /optim/adam attrs step,
 *                              beta1, beta2, eps, weight_decay (optional group)
 *   /state/<name>              caller's arrays: int64/uint64/float32/float64,
 *                              rank 0..4 (epoch, cursor, RNG, LR, h/c, ...)
 *   /vocab                     the vocab.h5 layout (tokens, counts, genres)
 *   root attrs                 kind="checkpoint", format_version, step, epoch,
 *                              val_loss, config (text), vocab_hash,
 *                              vocab_size, V, E, H, n_params
 * Integrity: /model, /optim and /state each carry a "checksum" attribute
 * (FNV-1a 64 over their little-endian bytes, see docs/formats.md), verified
 * whenever they are read. Saves go to a temp file in the same directory,
 * fsync, rename, so a crash never leaves a partial file under the final name.
 *
 * Inference reads only /model (io_ckpt_load_model); the optimizer moments are
 * never touched there. Every failure is one line naming the file. */
#ifndef IO_CKPT_H
#define IO_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "io_vocab.h"
#include "lm_err.h"
#include "lm_model.h"
#include "lm_optim.h"

#define IO_CKPT_FORMAT_VERSION 1
#define IO_CKPT_MAX_RANK 4
#define IO_CKPT_NAME_MAX 64
#define IO_CKPT_BEST "best.h5" /* never listed, pruned or picked by the helpers below */

/* ---- named arrays for /state ----------------------------------------------- */
typedef enum { IO_I64 = 0, IO_U64, IO_F32, IO_F64 } io_dtype;

typedef struct io_array {
    const char *name;  /* [A-Za-z0-9._-], 1..63 chars, unique in a checkpoint */
    io_dtype dtype;
    int rank;          /* 0 (scalar) .. IO_CKPT_MAX_RANK */
    uint64_t dims[IO_CKPT_MAX_RANK];
    const void *data;  /* product of dims elements (1 for a scalar) */
} io_array;

io_array io_array_scalar(const char *name, io_dtype t, const void *data);
io_array io_array_1d(const char *name, io_dtype t, uint64_t n, const void *data);
io_array io_array_2d(const char *name, io_dtype t, uint64_t rows, uint64_t cols,
                     const void *data);
uint64_t io_array_count(const io_array *a); /* elements */
const char *io_dtype_name(io_dtype t);      /* "int64", ... */

/* ---- save ------------------------------------------------------------------- */
typedef struct io_ckpt_save_args {
    const lm_model *model;          /* dims and params (grads unused) */
    const float *adam_m, *adam_v;   /* n_params each; both NULL: no /optim */
    const lm_adam *adam;            /* required with adam_m/adam_v */
    const io_vocab *vocab;          /* required; size must equal model V */
    const char *config;             /* effective settings, "key = value" lines; may be NULL */
    int64_t step, epoch;            /* for people and the directory helpers */
    double val_loss;                /* last validation loss, NAN if none yet */
    const io_array *state;          /* n_state arrays stored under /state */
    size_t n_state;
} io_ckpt_save_args;

/* Writes path atomically (temp file in the same directory, fsync, rename,
 * fsync dir). On failure the previous file at path, if any, is untouched. */
int io_ckpt_save(const char *path, const io_ckpt_save_args *a, lm_err *e);

/* ---- load ------------------------------------------------------------------- */
typedef struct io_ckpt {
    char path[4096];
    int format_version;
    lm_dims dims;
    size_t n_params;
    int64_t step, epoch;
    double val_loss;
    char *config;        /* "" when none was saved */
    io_vocab vocab;      /* tokens, counts, genres, hash (validated) */
    int has_optim;
    lm_adam adam;        /* hyper-parameters and step from the file (has_optim) */
    io_array *state;     /* n_state arrays, owned, checksum verified at open */
    size_t n_state;
    uint64_t model_checksum;
    int64_t h5file;      /* open until io_ckpt_close */
} io_ckpt;

/* Opens and validates the header: kind, format version, dims, vocabulary
 * (hash recomputed), config, and /state (read whole, checksum verified).
 * Does not read /model or /optim. On failure ck is closed. */
int io_ckpt_open(io_ckpt *ck, const char *path, lm_err *e);
/* Compares with what the caller expects; NULL skips a check. */
int io_ckpt_check(const io_ckpt *ck, const lm_dims *dims, const uint64_t *vocab_hash, lm_err *e);
/* Reads /model into m (initialised with ck->dims), checks every shape and
 * the checksum. */
int io_ckpt_read_model(io_ckpt *ck, lm_model *m, lm_err *e);
/* Reads /optim: the Adam moments m, v of `model`'s parameters (n_params
 * each, in model's buffer layout) and, if adam is non-NULL, the stored
 * hyper-parameters and step into it. Error if the checkpoint has none. */
int io_ckpt_read_optim(io_ckpt *ck, const lm_model *model, float *m, float *v, lm_adam *adam,
                       lm_err *e);
/* Looks up a /state array; NULL when absent. */
const io_array *io_ckpt_state_find(const io_ckpt *ck, const char *name);
/* Copies /state/<name> into out after checking its dtype is t and it holds
 * exactly n elements. One-line error when missing or different. */
int io_ckpt_state_get(const io_ckpt *ck, const char *name, io_dtype t, uint64_t n, void *out,
                      lm_err *e);
/* Frees everything and closes the file; safe on a closed/failed ck, twice. */
void io_ckpt_close(io_ckpt *ck);

/* Resume: open + check(m's dims, vocab_hash if non-NULL) + read /model into
 * m + (when adam_m is non-NULL) read /optim. m is initialised by the caller
 * with the dims it expects. ck stays open for io_ckpt_state_get; close it
 * after. */
int io_ckpt_load(io_ckpt *ck, const char *path, const uint64_t *vocab_hash, lm_model *m,
                 float *adam_m, float *adam_v, lm_adam *adam, lm_err *e);
/* Inference: open, lm_model_init(m, ck->dims, no grads), read /model only.
 * ck keeps the vocabulary and config; close it after (m is the caller's to
 * free with lm_model_free). */
int io_ckpt_load_model(io_ckpt *ck, const char *path, lm_model *m, lm_err *e);

/* Full validation (reads /model and /optim too, checks all checksums). */
typedef struct io_ckpt_summary {
    int format_version;
    int64_t step, epoch;
    double val_loss;
    lm_dims dims;
    size_t n_params;
    uint64_t vocab_hash, checksum;
    uint32_t vocab_size;
    int has_optim;
    size_t n_state;
} io_ckpt_summary;
int io_ckpt_validate(const char *path, io_ckpt_summary *s, lm_err *e); /* s may be NULL */

/* ---- run directory ------------------------------------------------------------ */
/* RUN_DIR/ckpt-<step, 9+ digits>.h5, e.g. run/ckpt-000001200.h5. */
void io_ckpt_path(char *out, size_t n, const char *run_dir, int64_t step);
/* Steps of the ckpt-N.h5 files in run_dir, ascending (caller frees *steps).
 * Temp files and best.h5 are not listed. A missing dir lists nothing. */
int io_ckpt_list(const char *run_dir, int64_t **steps, size_t *n, lm_err *e);
/* Deletes all but the `keep` newest ckpt-N.h5 (keep <= 0: keeps all).
 * Returns how many were deleted, or -1. */
int io_ckpt_keep_last(const char *run_dir, int keep, lm_err *e);
/* Finds the newest ckpt-N.h5 that passes io_ckpt_validate; on_skip (may be
 * NULL) is told about each newer one that did not and why. Returns 1 and the
 * path in out, 0 if there is none, -1 on error (unreadable dir). */
int io_ckpt_newest_valid(const char *run_dir, char *out, size_t n,
                         void (*on_skip)(void *ctx, const char *path, const char *why),
                         void *ctx, lm_err *e);
/* Deletes every checkpoint temp file in run_dir (ckpt-N.h5.tmp.PID,
 * best.h5.tmp.PID: left by a writer that died mid-save). Only call it while
 * holding the run lock (io_runlock.h): no other writer can then be alive, so
 * every such file is stale whatever its PID (which may be another host's).
 * *removed counts them. */
int io_ckpt_remove_stale_tmp(const char *run_dir, int *removed, lm_err *e);

#endif
