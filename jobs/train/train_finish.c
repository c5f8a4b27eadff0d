/* train_finish: validation, checkpoints and the end of a run, for the
 * training loop (train_loop.c): the validation pass and rank 0's decisions
 * it feeds (LR, early stop, best.h5), the step checkpoints with the reason
 * each was written, and the closing validation, checkpoint and verdict.
 * The words of each stop reason are in one table (stop_words). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_ckpt.h"
#include "io_vocab.h"
#include "train_ckpt.h"
#include "train_loop.h"

/* What a stop reason reads as in the checkpoint event ("... (why)") and in
 * the "finished" event. */
static const struct stop_words {
    const char *ckpt;    /* NULL: "epoch end" or "periodic" */
    const char *finish;  /* NULL: no "finished" event (a signal writes "stopped") */
    int or_max_steps;    /* 1: "max steps" instead once --max-steps was reached */
} stop_words[] = {
    [STOP_NONE] = {NULL, "all epochs done", 1},
    [STOP_DONE] = {"end", "all epochs done", 1},
    [STOP_EARLY] = {"early stop", "early stopping", 0},
    [STOP_MAX_STEPS] = {"end", "max steps", 0},
    [STOP_TIME] = {"time limit", "time limit", 0},
    [STOP_SIGNAL] = {"signal", NULL, 0},
};

static const char *ckpt_why(train_stop stop, int epoch_end) {
    return stop_words[stop].ckpt ? stop_words[stop].ckpt : epoch_end ? "epoch end" : "periodic";
}

static const char *finish_why(const train_ctx *t, train_stop stop) {
    long max = t->cfg->max_steps;
    return stop_words[stop].or_max_steps && max > 0 && t->rs.global_step >= max ? "max steps"
                                                                                : stop_words[stop].finish;
}

static const char *signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1"
                                                                  : "a signal (on another rank)";
}

/* Validation over this rank's streams; out (summed over ranks): the loss
 * and tokens on the first steps windows, then on the whole pass. Rank 0
 * shows its progress on a terminal (train_log_eval_progress). */
static int evaluate(train_ctx *t, train_loop *lp, int full, double out[4], lm_err *e) {
    train_plan *vp = &lp->vplan;
    size_t bh = (size_t)t->B * (size_t)t->dims.H;
    float *h = calloc(bh, sizeof *h), *c = calloc(bh, sizeof *c);
    int32_t *in = malloc((size_t)t->B * t->T * sizeof *in), *tg = malloc((size_t)t->B * t->T * sizeof *tg);
    int rc = 0;
    if (!h || !c || !in || !tg) {
        rc = lm_err_set(e, "out of memory in evaluation");
        goto out;
    }
    double v[4] = {0, 0, 0, 0}; /* prefix loss, prefix tokens, full loss, full tokens */
    long prefix = lp->prefix_steps, steps = full ? vp->steps : (prefix < vp->steps ? prefix : vp->steps);
    progress *p = train_log_eval_progress(&lp->lg, steps);
    for (long k = 0; k < steps; k++) {
        if (train_plan_batch(vp, k, t->first, t->B, in, tg, e)) {
            rc = -1;
            goto out;
        }
        if (t->rs.state_mode == TRAIN_STATE_RESET) {
            memset(h, 0, bh * sizeof *h);
            memset(c, 0, bh * sizeof *c);
        }
        double ls = 0;
        long nt = 0;
        lm_model_eval_window(&t->model, t->acts, t->B, t->T, in, tg, h, c, IO_TOK_PAD, -1, &ls, &nt);
        if (k < prefix) {
            v[0] += ls;
            v[1] += (double)nt;
        }
        v[2] += ls;
        v[3] += (double)nt;
        progress_update(p, (double)(k + 1));
    }
    if (dist_sum_doubles(&t->world, v, 4, e)) train_fatal(t, e);
    memcpy(out, v, sizeof v);
out:
    free(h), free(c), free(in), free(tg);
    return rc;
}

/* Logged, and RUN/best.h5 written when the decision metric beats best_val
 * (so best.h5 only ever improves). The closing validation of a run does not
 * observe: it changes no state that later training reads, so a run resumed
 * from a --max-steps or --time-limit stop trains exactly like one that
 * never stopped. */
int train_validate(train_ctx *t, train_loop *lp, int full, int observe) {
    lm_err e = {{0}};
    double ev[4] = {0, 0, 0, 0};
    if (evaluate(t, lp, full, ev, &e)) train_fatal(t, &e);
    double metric = ev[1] > 0 ? ev[0] / ev[1] : NAN;
    int improved = 1, es_stop = 0;
    if (observe) {
        es_stop = lm_early_stop_observe(&t->es, (float)metric, &improved);
        if (t->sched.kind == LM_SCHED_PLATEAU) lm_sched_observe(&t->sched, (float)metric);
    }
    float lr = observe && t->sched.kind == LM_SCHED_PLATEAU ? t->sched.cur_lr : t->rs.lr;
    dist_decision d = {lr, es_stop, improved && (float)metric < (float)t->rs.best_val, 0};
    if (dist_bcast_decision(&t->world, &d, &e)) train_fatal(t, &e);
    t->rs.lr = d.lr;
    if (d.save) t->rs.best_val = metric;
    run_outcome *o = &lp->out;
    o->eval_step = t->rs.global_step;
    o->val_loss = full ? ev[2] / ev[3] : metric;
    o->val_tokens = (long)(full ? ev[3] : ev[1]);
    train_log_eval(&lp->lg, t->rs.global_step, t->rs.epoch, o->val_loss, o->val_tokens, full, d.lr, d.save);
    if (d.save) {
        char best[4200];
        snprintf(best, sizeof best, "%s/%s", t->cfg->run, IO_CKPT_BEST);
        if (train_ckpt_save(t, best, lp->settings, &e)) train_fatal(t, &e);
    }
    return d.stop;
}

int train_save_ckpt(train_ctx *t, train_loop *lp, train_stop stop, int epoch_end, lm_err *e) {
    char path[4096] = "";
    if (t->world.rank == 0) train_ckpt_path(t, path, sizeof path);
    if (train_ckpt_save(t, path, lp->settings, e)) return -1;
    if (t->world.rank == 0) {
        train_ckpt_prune(t->cfg->run, t->cfg->keep);
        char d[4200];
        snprintf(d, sizeof d, "%s (%s)", path, ckpt_why(stop, epoch_end));
        train_log_event(&lp->lg, "checkpoint", t->rs.global_step, d);
    }
    lp->last_saved = t->rs.global_step;
    return 0;
}

/* Rank 0: the verdict of a finished run, one line (no newline). */
static void summarize(const train_ctx *t, const run_outcome *o, char *s, size_t n) {
    size_t len = (size_t)snprintf(s, n, "%ld steps (%ld in this run), %lld tokens, wall %.1f s; last train loss "
                                        "%.4f; validation loss %.4f (ppl %.1f) at step %ld", t->rs.global_step,
                                  o->steps_here, (long long)t->rs.global_step * t->G * t->T * t->cfg->accumulate,
                                  o->wall_s, o->train_loss, o->val_loss, exp(o->val_loss), o->eval_step);
    char best[4200];
    snprintf(best, sizeof best, "%s/%s", t->cfg->run, IO_CKPT_BEST);
    io_ckpt ck;
    lm_err e;
    if (len < n && io_ckpt_open(&ck, best, &e) == 0) {
        snprintf(s + len, n - len, "; best %.4f (ppl %.1f) at step %lld: %s", ck.val_loss, exp(ck.val_loss),
                 (long long)ck.step, best);
        io_ckpt_close(&ck);
    } else if (len < n) {
        snprintf(s + len, n - len, "; no best.h5 (no finite validation loss)");
    }
}

/* The closing validation is skipped after a signal (the job must end soon)
 * and when this step was just validated. */
int train_finish(train_ctx *t, train_loop *lp, train_stop stop) {
    lm_err e = {{0}};
    int best_written = 0;
    if (stop != STOP_SIGNAL && lp->out.eval_step != t->rs.global_step) {
        double before = t->rs.best_val;
        train_validate(t, lp, 0, 0);
        best_written = t->rs.best_val != before;
    }
    if ((lp->last_saved != t->rs.global_step || best_written) && train_save_ckpt(t, lp, stop, 0, &e))
        train_fatal(t, &e);
    char rss[512], d[6000];
    train_peak_rss_report(t, rss, sizeof rss);
    if (stop == STOP_SIGNAL) {
        char ck[4096] = "";
        if (t->world.rank == 0) train_ckpt_path(t, ck, sizeof ck);
        snprintf(d, sizeof d, "%s received; checkpoint %s written; resume with the same command "
                              "(--resume auto, the default, continues from it); exit 75; %s",
                 signal_name(lp->signal), ck, rss);
        train_log_event(&lp->lg, "stopped", t->rs.global_step, d);
        return LM_EXIT_REQUEUE;
    }
    char sum[5000] = "";
    if (t->world.rank == 0) summarize(t, &lp->out, sum, sizeof sum);
    snprintf(d, sizeof d, "%s; %s; %s", finish_why(t, stop), sum, rss);
    train_log_event(&lp->lg, "finished", t->rs.global_step, d);
    return LM_EXIT_OK;
}
