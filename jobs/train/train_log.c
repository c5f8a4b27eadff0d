/* train_log: progress lines and metrics.jsonl for rank 0 (see train_log.h). */
#include "train_log.h"

#include "progress.h"

#include "io_json.h"
#include "lm_sys.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Start records already in the metrics file (none if it does not exist). */
static long count_starts(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long n = 0;
    char buf[256];
    int at_line_start = 1;
    while (fgets(buf, sizeof buf, f)) {
        static const char start[] = "{\"type\":\"start\"", resume[] = "{\"type\":\"resume\"";
        if (at_line_start && (!strncmp(buf, start, sizeof start - 1) || !strncmp(buf, resume, sizeof resume - 1)))
            n++;
        at_line_start = strchr(buf, '\n') != NULL;
    }
    fclose(f);
    return n;
}

int train_log_open(train_log *l, const char *run_dir, int rank, int quiet, int under_launcher,
                   double log_seconds, long start_step, char *err, size_t n) {
    memset(l, 0, sizeof *l);
    l->quiet = quiet;
    l->log_seconds = log_seconds;
    l->t0 = l->last_print = lm_sys_now();
    l->steps_at_start = start_step;
    if (rank != 0) return 0;
    if (progress_mode(STDOUT_FILENO, under_launcher, &l->tty, err, n)) return -1;
    char path[8192];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    l->segment = count_starts(path) + 1;
    l->metrics = fopen(path, "a");
    if (!l->metrics) {
        snprintf(err, n, "%s: cannot open for append: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void train_log_close(train_log *l) {
    if (l->live) fputc('\n', stdout);
    l->live = 0;
    if (l->metrics) fclose(l->metrics);
    l->metrics = NULL;
}

/* The prefix that wipes a live progress line before a normal line. */
static const char *clear_live(train_log *l) {
    int live = l->live || l->val.live;
    l->live = l->val.live = 0;
    return live ? "\r\033[K" : "";
}

/* The progress line of a step, when due. */
static void print_progress(train_log *l, const train_step_info *s) {
    l->train_s += s->step_s;
    l->win_s += s->step_s;
    l->win_steps++;
    if (l->quiet) return;
    double now = lm_sys_now();
    int last = s->step >= s->total_steps;
    if (now - l->last_print < (l->tty ? 0.2 : l->log_seconds) && !last) return;
    l->last_print = now;
    double done = (double)(s->step - l->steps_at_start);
    double eta = done > 0 ? l->train_s / done * (double)(s->total_steps - s->step) : NAN;
    double ms = 1e3 * l->win_s / (double)l->win_steps;
    l->win_s = 0, l->win_steps = 0;
    char etas[32];
    progress_fmt_duration(etas, sizeof etas, eta);
    double pct = s->total_steps > 0 ? 100.0 * (double)s->step / (double)s->total_steps : 0;
    printf("%sepoch %ld/%ld  step %ld/%ld (%.1f%%)  loss %.4f  lr %.2e  grad-norm %.3g  %.1f ms/step  "
           "%.0f tok/s  comm %.0f%%  ETA %s%s", clear_live(l), s->epoch + 1, s->epochs, s->step, s->total_steps,
           pct, s->loss, s->lr, s->grad_norm, ms, s->tokens_per_s, 100.0 * s->comm_share, etas,
           l->tty ? "" : "\n");
    l->live = l->tty;
    fflush(stdout);
}

progress *train_log_eval_progress(train_log *l, long steps) {
    if (!l->metrics || l->quiet || !l->tty) return NULL;
    progress_init(&l->val, stdout, 1, 0, "train");
    progress_begin(&l->val, "validation", (double)steps, "steps");
    l->val.last -= 1; /* due at once: the line appears as the validation starts */
    l->live = 0;      /* the validation's line replaces the step's */
    progress_update(&l->val, 0);
    return &l->val;
}

void train_log_step(train_log *l, const train_step_info *s) {
    if (!l->metrics) return;
    io_json_write_line(l->metrics,
                       json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:I}", "type", "train", "step",
                                 (json_int_t)s->step, "epoch", (json_int_t)(s->epoch + 1), "loss",
                                 io_json_real(s->loss), "lr", io_json_real(s->lr), "grad_norm",
                                 io_json_real(s->grad_norm), "tokens_per_s", io_json_real(s->tokens_per_s),
                                 "comm_share", io_json_real(s->comm_share), "segment", (json_int_t)l->segment));
    print_progress(l, s);
}

void train_log_eval(train_log *l, long step, long epoch, double loss, long tokens, int full, double lr,
                    int improved) {
    if (!l->metrics) return;
    io_json_write_line(l->metrics,
                       json_pack("{s:s, s:I, s:I, s:o, s:o, s:I, s:b, s:o, s:b, s:I}", "type", "eval", "step",
                                 (json_int_t)step, "epoch", (json_int_t)(epoch + 1), "val_loss",
                                 io_json_real(loss), "val_ppl", io_json_real(exp(loss)), "tokens",
                                 (json_int_t)tokens, "full", full, "lr", io_json_real(lr), "improved", improved,
                                 "segment", (json_int_t)l->segment));
    if (l->quiet) return;
    printf("%sstep %ld: validation loss %.4f (ppl %.1f) on %ld tokens%s%s\n", clear_live(l), step,
           loss, exp(loss), tokens, full ? " [full]" : "", improved ? " *best*" : "");
    fflush(stdout);
}

/* The "changes" array of a start record. */
static json_t *changes_json(const train_start_info *s) {
    json_t *a = json_array();
    for (int i = 0; i < s->n_changes; i++) {
        const train_log_change *c = &s->changes[i];
        json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}", "setting", io_json_str(c->setting), "from",
                                           io_json_str(c->from), "to", io_json_str(c->to), "source",
                                           io_json_str(c->source)));
    }
    return a;
}

void train_log_start(train_log *l, const train_start_info *s) {
    if (!l->metrics) return;
    io_json_write_line(l->metrics,
                       json_pack("{s:s, s:I, s:I, s:I, s:o, s:I, s:I, s:i, s:i, s:i, s:o}", "type",
                                 s->checkpoint ? "resume" : "start", "step", (json_int_t)s->step, "segment",
                                 (json_int_t)l->segment, "resumed_from_step", (json_int_t)s->step, "checkpoint",
                                 io_json_str(s->checkpoint), "epoch", (json_int_t)(s->epoch + 1),
                                 "step_in_epoch", (json_int_t)s->step_in_epoch, "ranks", s->ranks, "batch_size",
                                 s->batch, "global_batch", s->global_batch, "changes", changes_json(s)));
    if (l->quiet || !s->checkpoint) return;
    printf("%sresumed at step %ld from %s: epoch %ld, step %ld of the epoch; %d rank%s x batch %d\n", clear_live(l),
           s->step, s->checkpoint, s->epoch + 1, s->step_in_epoch, s->ranks, s->ranks == 1 ? "" : "s", s->batch);
    fflush(stdout);
}

void train_log_event(train_log *l, const char *kind, long step, const char *detail) {
    if (!l->metrics) return;
    io_json_write_line(l->metrics, json_pack("{s:o, s:I, s:o, s:I}", "type", io_json_str(kind), "step",
                                             (json_int_t)step, "detail", io_json_str(detail), "segment",
                                             (json_int_t)l->segment));
    if (l->quiet && strcmp(kind, "finished") && strcmp(kind, "stopped")) return;
    printf("%s%s at step %ld: %s\n", clear_live(l), kind, step, detail);
    fflush(stdout);
}
