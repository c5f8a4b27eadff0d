/* train_settings: what a resumed run may change, in one table (k_classes in
 * train_settings.c), and the resolution of a resumed run's settings against
 * the settings stored in its checkpoint (docs/training.md, "What a resume
 * may change").
 *
 * On resume a setting the user did not give (no flag, not in the job file)
 * takes the checkpoint's value, so `train --run R` continues unchanged. A
 * given one that differs from the checkpoint's is applied and reported in
 * one line ("lr: 0.001 (checkpoint) -> 0.01 (command line)") when its class
 * is TRAIN_SET_MAY_CHANGE, and refused (exit 2, naming the setting and both
 * values) when it is TRAIN_SET_MUST_MATCH. The per-rank batch may follow a
 * new rank count as long as the global batch (batch-size x ranks) stays.
 * Invocation settings (where the data and the run are, the job file, what to
 * resume) are not compared; the corpus itself is (its fingerprint, checked
 * when the checkpoint is loaded: train_ckpt.c). */
#ifndef TRAIN_SETTINGS_H
#define TRAIN_SETTINGS_H

#include <stdint.h>

#include "cli.h"
#include "lm_err.h"
#include "train.h"

typedef enum {
    TRAIN_SET_MAY_CHANGE = 0, /* applied and reported */
    TRAIN_SET_MUST_MATCH,     /* refused when it differs */
    TRAIN_SET_GLOBAL_BATCH,   /* batch-size: batch-size x ranks must match */
    TRAIN_SET_INVOCATION      /* not part of the run: not compared, not inherited */
} train_set_class;

/* The class of train flag `name`; -1 when the table lacks it. */
int train_settings_class(const char *name, train_set_class *out);
/* The --help text: every flag of cmd under its class. Returns the length. */
size_t train_settings_describe(const cli_cmd *cmd, char *buf, size_t n);

#define TRAIN_MAX_CHANGES TRAIN_MAX_OPTS
typedef struct train_change {
    const char *name;      /* flag name */
    char from[64], to[64]; /* the checkpoint's value and the value used */
    int seen;              /* CLI_SEEN_FLAG or CLI_SEEN_FILE; DEFAULT: derived (batch-size from the ranks) */
} train_change;

typedef struct train_resume {
    char from[4096];       /* the checkpoint resolved against; "" on a fresh start */
    int n_changes;
    train_change changes[TRAIN_MAX_CHANGES];
} train_resume;

/* Resolves c (c->cli's seen marks say what was given) against the settings
 * text of checkpoint `path` (its global batch ckpt_G) for `ranks` ranks:
 * inherits, applies or refuses as above. The checkpoint's string values are
 * kept pointing into ckpt_text, which must outlive c. Refusal: -1 with one
 * line in e. */
int train_settings_merge(train_config *c, char *ckpt_text, int64_t ckpt_G, int ranks, const char *path,
                         train_resume *r, lm_err *e);
/* "lr: 0.001 (checkpoint) -> 0.01 (command line)" ("job file FILE"). */
void train_change_line(const train_config *c, const train_change *ch, char *buf, size_t n);
/* The source words alone: "command line", "job file FILE", "ranks". */
const char *train_change_source(const train_config *c, const train_change *ch, char *buf, size_t n);
/* 1 when setting `name` was changed on this resume. */
int train_resume_changed(const train_resume *r, const char *name);

struct train_ctx;
/* Collective, before the model is built: rank 0 finds the checkpoint the run
 * will resume from (--resume auto/PATH) and reads its settings; every rank
 * merges them into t->cfg; rank 0 prints the change lines. The settings
 * text is regenerated. A refusal sets t->exit_code to LM_EXIT_USAGE. */
int train_settings_resume(struct train_ctx *t, lm_err *e);
struct train_log;
/* Rank 0: the start record of this process in metrics.jsonl (step, ranks,
 * the checkpoint resumed from, the changes). */
void train_settings_log_start(const struct train_ctx *t, struct train_log *lg);

#endif
