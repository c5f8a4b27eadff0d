/* plot_data: the curves of one run read back from RUN/metrics.jsonl, for
 * `plot` and `report` (docs/cli.md).
 *
 * Reading is tolerant: records of an unknown "type", unknown fields and
 * lines that are not JSON objects (a last line cut by a kill) are skipped
 * (counted in n_skipped); only "train" and "eval" records are kept, and a
 * field a record lacks is NAN.
 * Resumes are marked at the step where the run continued: a "resume" record,
 * a "start" record at a step > 0, or a "train" record whose step is not
 * above the previous one. Records of the abandoned segment at or after that
 * step (superseded by the resumed run) are dropped, so every curve is one
 * increasing sequence of steps.
 * Tokens seen = step x G x T, with the global batch G and sequence length T
 * from the newest checkpoint of RUN (or fields "global_batch" and "seq_len"
 * of any record); tokens_per_step is 0 when neither is there (plots then use
 * steps). */
#ifndef PLOT_DATA_H
#define PLOT_DATA_H

#include <stddef.h>
#include <stdio.h>

#include "lm_err.h"

typedef struct plot_point {
    long step, epoch;
    double loss, lr, tokens_per_s, comm_share, grad_norm; /* train */
    double val_loss;                                      /* eval */
} plot_point;

typedef struct plot_run {
    char dir[4096];
    char name[256];       /* last path component of dir */
    plot_point *train, *eval;
    size_t n_train, n_eval;
    long *resumes;        /* steps where the run was resumed, increasing */
    size_t n_resumes;
    size_t n_skipped;     /* lines not understood */
    long tokens_per_step; /* G x T, 0 if unknown */
    long global_batch, seq_len; /* G, T (0 if unknown) */
    int ranks;            /* ranks of the last start/resume record (0 if none) */
    int ranks_changed;    /* earlier starts ran on another number of ranks */
    char *final_line;     /* the last "finished"/"stopped" record as read, or NULL */
    char *config;         /* settings text of the newest checkpoint, or NULL */
    char ckpt[4200];      /* that checkpoint's path, "" if none */
} plot_run;

/* Reads dir/metrics.jsonl (and the newest checkpoint's G, T, config). Fails
 * with one line when the file is missing or unreadable, or holds no train
 * record. */
int plot_run_load(plot_run *r, const char *dir, lm_err *e);
void plot_run_free(plot_run *r);

/* x of a step: tokens seen when known, else the step. */
double plot_run_x(const plot_run *r, long step);

/* CSV of runs[0..n): header then one row per train and eval point:
 * run,kind,step,epoch,tokens,loss,ppl,lr,grad_norm,tokens_per_s,comm_share,
 * val_loss,val_ppl; then one "resume" row per resume. Empty cells for the
 * fields a kind lacks. */
void plot_write_csv(FILE *f, const plot_run *runs, size_t n);

#endif
