/* train_log: what rank 0 tells people and plotting tools.
 * Progress: a live single line (\r) on a terminal, one line every
 * --log-seconds otherwise: epoch, step, loss, LR, grad-norm, ms/step (the
 * mean since the last line), tokens/s, communication share and an ETA from
 * the training steps' own time (validations and checkpoints excluded, so
 * they do not make it jump). A validation inside train shows its own
 * redrawn progress line on a terminal; in lines mode it adds nothing but
 * its result line. Metrics: RUNDIR/metrics.jsonl, one JSON object per
 * line, flushed after each, appended across resumes (docs/training.md,
 * "metrics.jsonl"). Each process start is a segment: a start record ("start"
 * fresh, "resume" from a checkpoint) opens it, and every record carries its
 * "segment" number (1 + the start records already in the file). A start
 * record with resumed_from_step S supersedes the records of earlier segments
 * with step > S. Epochs are 1-based everywhere (console and file). */
#ifndef TRAIN_LOG_H
#define TRAIN_LOG_H

#include <stdio.h>

#include "progress.h"

typedef struct train_log {
    FILE *metrics;   /* NULL on ranks other than 0 */
    int tty, quiet;
    int live;        /* a \r progress line is on screen (terminal only) */
    double log_seconds, last_print, t0;
    long steps_at_start; /* global step when this process started */
    long segment;        /* this start's number in metrics.jsonl */
    double train_s;      /* seconds of the training steps of this process */
    double win_s;        /* ... since the last progress line, over win_steps steps */
    long win_steps;
    progress val;        /* a validation's progress (terminal only) */
} train_log;

/* under_launcher: started by mpirun/srun. Their ranks' stdout is often a pty
 * that ends in a log file, so progress is then printed as lines, never as a
 * \r bar (LYRICMIND_PROGRESS=bar forces the bar, =lines lines, =auto or unset
 * decides; any other value is an error). */
int train_log_open(train_log *l, const char *run_dir, int rank, int quiet, int under_launcher,
                   double log_seconds, long start_step, char *err, size_t errlen);
void train_log_close(train_log *l);

typedef struct train_step_info {
    long step, total_steps, epoch, epochs, step_in_epoch, steps_per_epoch;
    double loss, lr, grad_norm, tokens_per_s, comm_share;
    double step_s;       /* this step's time (its validation, checkpoint not included) */
} train_step_info;

/* One metrics line per step; the progress line when due. */
void train_log_step(train_log *l, const train_step_info *s);
/* A validation of `steps` batches begins: the progress to update with the
 * batches done, shown at once on a terminal; NULL (nothing shown) on other
 * ranks, with --quiet and in lines mode. */
progress *train_log_eval_progress(train_log *l, long steps);
/* An evaluation: metrics line and a printed line. */
void train_log_eval(train_log *l, long step, long epoch, double loss, long tokens,
                    int full, double lr, int improved);
/* A setting changed by this start: "lr", "0.001", "0.01", "command line". */
typedef struct train_log_change {
    const char *setting, *from, *to, *source;
} train_log_change;

typedef struct train_start_info {
    long step, epoch, step_in_epoch; /* epoch 0-based as in the loop; written 1-based */
    int ranks, batch, global_batch;
    const char *checkpoint;          /* NULL: a fresh start */
    int n_changes;
    const train_log_change *changes;
} train_start_info;

/* The start record of this segment (and a line when resuming). */
void train_log_start(train_log *l, const train_start_info *s);
/* Free-form event: metrics {"type":kind,"step":..,"detail":...} and a line. */
void train_log_event(train_log *l, const char *kind, long step, const char *detail);

#endif
