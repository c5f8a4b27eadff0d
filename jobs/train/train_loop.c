/* train_loop: 'lyricmind train' per rank (DESIGN.md "Training loop").
 * Per global step: read this rank's B streams, forward/backward, sum the
 * gradients over ranks (the output layer's rows sent as they become final
 * when overlap is on, the rest after the backward), clip,
 * Adam; one small allreduce agrees on loss, signals and rank 0's clocks.
 * Evaluations feed rank 0's decisions {lr, stop, save best}, broadcast.
 * Invariant: every rank holds bitwise-identical parameters and optimizer
 * state, and every collective is reached by all ranks in the same order. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_ckpt.h"
#include "io_vocab.h"
#include "lm_sys.h"
#include "train_banner.h"
#include "train_ctx.h"
#include "train_log.h"
#include "train_rundir.h"

static volatile sig_atomic_t g_signal; /* set by SIGTERM/SIGUSR1/SIGINT, read at step boundaries */

static void on_signal(int sig) {
    static const char note[] = "lyricmind train: SIGINT: stopping with a checkpoint after this step; "
                               "press Ctrl-C again to quit at once\n";
    g_signal = sig;
    if (sig == SIGINT) {
        ssize_t r = write(STDERR_FILENO, note, sizeof note - 1); /* async-signal-safe; nothing to do if it fails */
        (void)r;
    }
}

/* SIGINT (Ctrl-C) stops like SIGTERM; SA_RESETHAND restores the default
 * action on delivery, so a second SIGINT ends the process at once. */
static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
}

static const char *signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1"
                                                                  : "a signal (on another rank)";
}

/* Every rank learns whether any rank failed; one rank reports it (rank 0 if
 * it failed, else the failing rank). Returns 0 when all succeeded. */
static int agree(train_ctx *t, int failed, const lm_err *e) {
    double v[2] = {failed ? 1.0 : 0.0, (failed && t->world.rank == 0) ? 1.0 : 0.0};
    lm_err e2;
    if (dist_sum_doubles(&t->world, v, 2, &e2)) {
        fprintf(stderr, "lyricmind train: %s\n", e2.msg);
        dist_world_abort(&t->world, LM_EXIT_FAILURE);
    }
    if (failed && (t->world.rank == 0 || v[1] == 0.0)) {
        if (t->world.rank == 0) fprintf(stderr, "lyricmind train: %s\n", e->msg);
        else fprintf(stderr, "lyricmind train: rank %d: %s\n", t->world.rank, e->msg);
    }
    return v[0] > 0 ? -1 : 0;
}

/* A collective failed mid-run: the ranks may disagree now, so end the job. */
static void fatal(train_ctx *t, const lm_err *e) {
    fprintf(stderr, "lyricmind train: rank %d: %s\n", t->world.rank, e->msg);
    dist_world_abort(&t->world, LM_EXIT_FAILURE);
}

static int setup(train_ctx *t, lm_err *e) {
    const train_config *c = t->cfg;
    if (train_settings_resume(t, e)) return -1;
    t->B = c->batch_size;
    t->T = c->seq_len;
    t->G = t->B * t->world.size;
    t->first = t->world.rank * t->B;
    t->seed = (uint64_t)c->seed;
    t->state_mode = strcmp(c->state, "reset") == 0 ? TRAIN_STATE_RESET : TRAIN_STATE_CARRY;
    if (io_corpus_open(&t->corpus, c->data, e)) return -1;
    t->dims = (lm_dims){(int)t->corpus.vocab.size, c->embed, c->hidden};
    if (lm_model_init(&t->model, t->dims, 1, e)) return -1;
    size_t n = t->model.n_params, bh = (size_t)t->B * (size_t)t->dims.H;
    t->acts = lm_acts_create(t->dims, t->B, t->T);
    t->adam_m = calloc(n, sizeof(float));
    t->adam_v = calloc(n, sizeof(float));
    t->h = calloc(bh, sizeof(float));
    t->c = calloc(bh, sizeof(float));
    if (!t->acts || !t->adam_m || !t->adam_v || !t->h || !t->c)
        return lm_err_set(e, "out of memory for a model of %zu parameters", n);
    lm_adam_defaults(&t->adam);
    t->adam.weight_decay = c->weight_decay;
    lm_sched_kind kind;
    lm_sched_kind_parse(c->lr_schedule, &kind);
    lm_sched_init(&t->sched, kind, c->lr);
    t->sched.min_lr = c->min_lr;
    t->sched.step_size = c->step_size;
    t->sched.gamma = c->gamma;
    t->sched.warmup_steps = c->warmup_steps;
    t->sched.factor = c->plateau_factor;
    t->sched.patience = c->plateau_patience;
    t->sched.threshold = c->plateau_threshold;
    lm_early_stop_init(&t->es, c->patience, c->min_delta);
    t->lr = c->lr;
    t->best_val = INFINITY;
    return 0;
}

/* --resume auto found no valid checkpoint: -1 (e names them) if there are
 * any, so that a run never silently starts again from step 0. */
static int refuse_if_none_valid(const char *run, lm_err *e) {
    int64_t *steps;
    size_t n;
    if (io_ckpt_list(run, &steps, &n, e)) return -1;
    char names[600] = "";
    size_t len = 0, k = 0;
    for (; k < n && len < sizeof names - 40; k++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%sckpt-%09lld.h5", k ? ", " : "",
                                (long long)steps[k]);
    free(steps);
    if (n == 0) return 0;
    return lm_err_set(e, "%s: none of its %zu checkpoint%s is valid (%s%s); not starting again from step 0: "
                         "repair or remove them, or start over with --resume none", run, n, n == 1 ? "" : "s",
                      names, k < n ? ", ..." : "");
}

/* Chooses the checkpoint to resume from (rank 0) and loads it, or initialises
 * fresh weights; either way all ranks end with rank 0's state. */
static int start_state(train_ctx *t, lm_err *e) {
    const train_config *c = t->cfg;
    char path[4096] = "";
    int failed = 0;
    if (t->world.rank == 0) {
        if (!strcmp(c->resume, "auto")) {
            int r = train_ckpt_newest(c->run, path, sizeof path, e);
            if (r < 0 || (r == 1 && refuse_if_none_valid(c->run, e))) failed = 1;
        } else if (strcmp(c->resume, "none") != 0) {
            snprintf(path, sizeof path, "%s", c->resume);
        } else {
            char found[4096];
            int r = train_ckpt_newest(c->run, found, sizeof found, e);
            if (r == 0)
                failed = lm_err_set(e, "%s: run directory already has checkpoints (%s); use --resume auto "
                                       "to continue it or choose a new --run", c->run, found) != 0;
            else if (r < 0) failed = 1;
        }
    }
    if (agree(t, failed, e)) return -1;
    if (dist_bcast_bytes(&t->world, path, sizeof path, 0, e)) fatal(t, e);
    if (path[0]) {
        if (train_ckpt_load(t, path, e) == 0) return 0;
        if (t->world.rank == 0) fprintf(stderr, "lyricmind train: %s\n", e->msg);
        return -1;
    }
    if (t->world.rank == 0) {
        lm_rng r;
        lm_rng_seed2(&r, t->seed, 0x1417ULL);
        lm_model_init_weights(&t->model, &r);
    }
    if (dist_bcast_floats(&t->world, t->model.params, t->model.n_params, 0, e)) fatal(t, e);
    return 0;
}

/* Validation over this rank's streams; returns (summed over ranks) the loss
 * on the first prefix_steps steps and on the whole pass. Rank 0 shows its
 * progress on a terminal (train_log_eval_progress). */
static int evaluate(train_ctx *t, train_plan *vp, int full, long prefix_steps, train_log *lg, double out[4],
                    lm_err *e) {
    size_t bh = (size_t)t->B * (size_t)t->dims.H;
    float *h = calloc(bh, sizeof *h), *c = calloc(bh, sizeof *c);
    int32_t *in = malloc((size_t)t->B * t->T * sizeof *in), *tg = malloc((size_t)t->B * t->T * sizeof *tg);
    int rc = 0;
    if (!h || !c || !in || !tg) {
        rc = lm_err_set(e, "out of memory in evaluation");
        goto out;
    }
    double v[4] = {0, 0, 0, 0}; /* prefix loss, prefix tokens, full loss, full tokens */
    long steps = full ? vp->steps : (prefix_steps < vp->steps ? prefix_steps : vp->steps);
    progress *p = train_log_eval_progress(lg, steps);
    for (long k = 0; k < steps; k++) {
        if (train_plan_batch(vp, k, t->first, t->B, in, tg, e)) {
            rc = -1;
            goto out;
        }
        if (t->state_mode == TRAIN_STATE_RESET) {
            memset(h, 0, bh * sizeof *h);
            memset(c, 0, bh * sizeof *c);
        }
        double ls = 0;
        long nt = 0;
        lm_model_eval_window(&t->model, t->acts, t->B, t->T, in, tg, h, c, IO_TOK_PAD, -1, &ls, &nt);
        if (k < prefix_steps) {
            v[0] += ls;
            v[1] += (double)nt;
        }
        v[2] += ls;
        v[3] += (double)nt;
        progress_update(p, (double)(k + 1));
    }
    if (dist_sum_doubles(&t->world, v, 4, e)) fatal(t, e);
    memcpy(out, v, sizeof v);
out:
    free(h), free(c), free(in), free(tg);
    return rc;
}

enum { STOP_NONE = 0, STOP_DONE, STOP_EARLY, STOP_MAX_STEPS, STOP_TIME, STOP_SIGNAL };

static const char *save_reason(int stop, int epoch_end) {
    return stop == STOP_SIGNAL ? "signal" : stop == STOP_TIME ? "time limit" : stop == STOP_EARLY ? "early stop"
         : stop ? "end" : epoch_end ? "epoch end" : "periodic";
}

static int save_ckpt(train_ctx *t, const char *settings, train_log *lg, const char *why, lm_err *e) {
    char path[4096] = "";
    if (t->world.rank == 0) train_ckpt_path(t, path, sizeof path);
    if (train_ckpt_save(t, path, settings, e)) return -1;
    if (t->world.rank == 0) {
        train_ckpt_prune(t->cfg->run, t->cfg->keep);
        char d[4200];
        snprintf(d, sizeof d, "%s (%s)", path, why);
        train_log_event(lg, "checkpoint", t->global_step, d);
    }
    return 0;
}

/* "peak RSS MB per rank: a, b, ..." (collective). */
static void peak_rss_report(train_ctx *t, char *out, size_t n) {
    double *v = calloc((size_t)t->world.size, sizeof *v);
    lm_err e;
    if (!v) fatal(t, &(lm_err){"out of memory"});
    v[t->world.rank] = lm_sys_peak_rss_mb();
    if (dist_sum_doubles(&t->world, v, t->world.size, &e)) fatal(t, &e);
    size_t len = (size_t)snprintf(out, n, "peak RSS MB per rank:");
    for (int r = 0; r < t->world.size && len < n; r++)
        len += (size_t)snprintf(out + len, n - len, "%s %.0f", r ? "," : "", v[r]);
    free(v);
}

/* What the closing summary reports. */
typedef struct run_outcome {
    long eval_step;     /* global step of the last validation; -1: none in this process */
    double val_loss;    /* as logged (the whole validation stream at epoch ends) */
    long val_tokens;
    double train_loss;  /* the last step's */
    long steps_here;    /* steps of this process */
    double wall_s;      /* this process's time in the loop */
} run_outcome;

/* A validation, logged, and RUN/best.h5 written when the decision metric
 * beats best_val (so best.h5 only ever improves). observe: a routine
 * evaluation, which feeds early stopping and the plateau schedule. The
 * closing validation of a run does not (observe 0): it changes no state that
 * later training reads, so a run resumed from a --max-steps or --time-limit
 * stop trains exactly like one that never stopped. Returns 1: stop early. */
static int validate(train_ctx *t, train_plan *vp, int full, long prefix_steps, int observe,
                    const char *settings, train_log *lg, run_outcome *o) {
    lm_err e = {{0}};
    double ev[4] = {0, 0, 0, 0};
    if (evaluate(t, vp, full, prefix_steps, lg, ev, &e)) fatal(t, &e);
    double metric = ev[1] > 0 ? ev[0] / ev[1] : NAN;
    int improved = 1, es_stop = 0;
    if (observe) {
        es_stop = lm_early_stop_observe(&t->es, (float)metric, &improved);
        if (t->sched.kind == LM_SCHED_PLATEAU) lm_sched_observe(&t->sched, (float)metric);
    }
    float lr = observe && t->sched.kind == LM_SCHED_PLATEAU ? t->sched.cur_lr : t->lr;
    dist_decision d = {lr, es_stop, improved && (float)metric < (float)t->best_val, 0};
    if (dist_bcast_decision(&t->world, &d, &e)) fatal(t, &e);
    t->lr = d.lr;
    if (d.save) t->best_val = metric;
    o->eval_step = t->global_step;
    o->val_loss = full ? ev[2] / ev[3] : metric;
    o->val_tokens = (long)(full ? ev[3] : ev[1]);
    train_log_eval(lg, t->global_step, t->epoch, o->val_loss, o->val_tokens, full, d.lr, d.save);
    if (d.save) {
        char best[4200];
        snprintf(best, sizeof best, "%s/%s", t->cfg->run, IO_CKPT_BEST);
        if (train_ckpt_save(t, best, settings, &e)) fatal(t, &e);
    }
    return d.stop;
}

/* Rank 0: the verdict of a finished run, one line (no newline). */
static void summarize(const train_ctx *t, const run_outcome *o, char *s, size_t n) {
    size_t len = (size_t)snprintf(s, n, "%ld steps (%ld in this run), %lld tokens, wall %.1f s; last train loss "
                                        "%.4f; validation loss %.4f (ppl %.1f) at step %ld", t->global_step,
                                  o->steps_here, (long long)t->global_step * t->G * t->T * t->cfg->accumulate, o->wall_s, o->train_loss,
                                  o->val_loss, exp(o->val_loss), o->eval_step);
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

/* The end of the loop: the closing validation (not after a signal), the
 * last checkpoint, and the one line that says how the run ended. Returns
 * the exit code. */
static int finish(train_ctx *t, train_plan *vp, long prefix_steps, const char *settings, train_log *lg,
                  run_outcome *o, int stop, long last_saved) {
    const train_config *c = t->cfg;
    lm_err e = {{0}};
    int best_written = 0;
    if (stop != STOP_SIGNAL && o->eval_step != t->global_step) {
        double before = t->best_val;
        validate(t, vp, 0, prefix_steps, 0, settings, lg, o);
        best_written = t->best_val != before;
    }
    if ((last_saved != t->global_step || best_written) && save_ckpt(t, settings, lg, save_reason(stop, 0), &e))
        fatal(t, &e);
    char rss[512], d[6000];
    peak_rss_report(t, rss, sizeof rss);
    if (stop == STOP_SIGNAL) {
        char ck[4096] = "";
        if (t->world.rank == 0) train_ckpt_path(t, ck, sizeof ck);
        snprintf(d, sizeof d, "%s received; checkpoint %s written; resume with the same command "
                              "(--resume auto, the default, continues from it); exit 75; %s",
                 signal_name(g_signal), ck, rss);
        train_log_event(lg, "stopped", t->global_step, d);
        return LM_EXIT_REQUEUE;
    }
    const char *why = stop == STOP_EARLY ? "early stopping" : stop == STOP_TIME ? "time limit"
                    : stop == STOP_MAX_STEPS || (c->max_steps > 0 && t->global_step >= c->max_steps) ? "max steps"
                    : "all epochs done";
    char sum[5000] = "";
    if (t->world.rank == 0) summarize(t, o, sum, sizeof sum);
    snprintf(d, sizeof d, "%s; %s; %s", why, sum, rss);
    train_log_event(lg, "finished", t->global_step, d);
    return LM_EXIT_OK;
}

/* Gradient accumulation (--accumulate K): window j of an optimizer step adds
 * its gradient into acc; the last window's hooks add acc's head rows (and
 * then the rest of the head) before their exchange may start, and the rest
 * is added after its backward. So grads = g_K + (g_1 + ... + g_{K-1}),
 * summed in that order on every rank. */
typedef struct accum_hook {
    dist_grad_sync *gs;
    float *grads, *acc;
    size_t head, row; /* row: floats per fc.weight row */
    size_t added;     /* [0, added) of acc is in grads */
    int ran;
} accum_hook;

static void add_into(float *restrict dst, const float *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

static void accum_upto(accum_hook *a, size_t hi) {
    add_into(a->grads + a->added, a->acc + a->added, hi - a->added);
    a->added = hi;
}

static void accum_on_rows(void *ctx, int row0, int row1) {
    accum_hook *a = ctx;
    accum_upto(a, (size_t)row1 * a->row);
    dist_grad_sync_on_head_rows(a->gs, row0, row1);
}

static void accum_on_head(void *ctx) {
    accum_hook *a = ctx;
    accum_upto(a, a->head);
    a->ran = 1;
    dist_grad_sync_on_head_grads(a->gs);
}

static void accum_on_progress(void *ctx) { dist_grad_sync_progress(((accum_hook *)ctx)->gs); }

/* Forward and backward of optimizer step k of the epoch: windows k*K ..
 * k*K+K-1 of the plan, in order, the LSTM state carried from one to the next
 * (the data order is that of K = 1; K only groups the windows). Leaves the
 * loss-scaled gradient sum of the K windows in model.grads and this rank's
 * loss sum and token count; the caller finishes the exchange. in, tg: K*B*T. */
static void step_grads(train_ctx *t, train_plan *plan, long k, dist_grad_sync *gs, int overlap, int32_t *in,
                       int32_t *tg, float *acc, double *loss_sum, long *ntok) {
    const train_config *c = t->cfg;
    const int K = c->accumulate;
    size_t bt = (size_t)t->B * t->T, bh = (size_t)t->B * t->dims.H, n = t->model.n_params;
    lm_err e = {{0}};
    for (int j = 0; j < K; j++)
        if (train_plan_batch(plan, k * K + j, t->first, t->B, in + j * bt, tg + j * bt, &e)) fatal(t, &e);
    if (dist_grad_sync_tokens(gs, in, (size_t)K * bt, &e)) fatal(t, &e);
    dist_grad_layout L = dist_grad_layout_of_model(&t->model);
    accum_hook hk = {gs, t->model.grads, acc, L.head, L.row, 0, 0};
    for (int j = 0; j < K; j++) {
        if (t->state_mode == TRAIN_STATE_RESET) {
            memset(t->h, 0, bh * sizeof *t->h);
            memset(t->c, 0, bh * sizeof *t->c);
        }
        lm_rng drop; /* masks per (seed, window, stream); K = 1: window = global step */
        uint64_t w = (uint64_t)t->global_step * (uint64_t)K + (uint64_t)j;
        lm_rng_seed2(&drop, t->seed ^ 0xd50f0a7ULL, (w << 24) + (uint64_t)t->first);
        int last = j == K - 1;
        lm_step_opts o = {c->dropout, &drop, IO_TOK_PAD, 1.0f / (float)((double)t->G * t->T * K),
                          !last ? NULL : K > 1 ? accum_on_head : dist_grad_sync_on_head_grads,
                          K > 1 ? (void *)&hk : (void *)gs, c->threads, NULL, NULL};
        if (last && overlap) { /* the rows go out while the rest of the backward runs */
            o.on_head_rows = K > 1 ? accum_on_rows : dist_grad_sync_on_head_rows;
            o.on_progress = K > 1 ? accum_on_progress : dist_grad_sync_on_progress;
        }
        double ls = 0;
        long nt = 0;
        if (lm_model_train_window(&t->model, t->acts, t->B, t->T, in + j * bt, tg + j * bt, t->h, t->c, &o, &ls,
                                  &nt)) {
            lm_err_set(&e, "%s: token id out of range for V=%d in the training batch", c->data, t->dims.V);
            fatal(t, &e);
        }
        *loss_sum += ls;
        *ntok += nt;
        if (K == 1) break;
        if (j == 0) memcpy(acc, t->model.grads, n * sizeof *acc);
        else if (!last) add_into(acc, t->model.grads, n);
        else if (hk.ran) add_into(t->model.grads + hk.head, acc + hk.head, n - hk.head);
        else add_into(t->model.grads, acc, n);
    }
}

static int loop(train_ctx *t, const char *settings) {
    const train_config *c = t->cfg;
    lm_err e = {{0}};
    train_plan plan, vplan;
    memset(&plan, 0, sizeof plan);
    int failed = train_plan_init(&vplan, &t->corpus.val, (train_state_mode)t->state_mode, t->G, t->T,
                                 t->seed, 0, 0, &e) != 0;
    if (!failed) failed = train_plan_init(&plan, &t->corpus.train, (train_state_mode)t->state_mode, t->G,
                                          t->T, t->seed, t->epoch, 1, &e) != 0;
    const int K = c->accumulate;
    if (!failed && plan.steps < K)
        failed = lm_err_set(&e, "%s: --accumulate %d needs %d windows per epoch, the training split has %ld at a "
                                "global batch of %d x %d tokens", c->data, K, K, plan.steps, t->G, t->T) != 0;
    if (agree(t, failed, &e)) {
        train_plan_free(&vplan);
        train_plan_free(&plan);
        return LM_EXIT_FAILURE;
    }
    long spe = plan.steps / K; /* optimizer steps; the last plan.steps % K windows are not trained */
    long total = spe * c->epochs;
    if (c->max_steps > 0 && c->max_steps < total) total = c->max_steps;
    /* The cosine horizon is the planned training (epochs x steps per epoch),
     * not --max-steps: that only stops a run, so a run stopped early and
     * resumed follows the same LR curve as one that never stopped. */
    if (t->sched.kind == LM_SCHED_COSINE) t->sched.total_steps = spe * c->epochs;
    long eval_every = c->eval_every > 0 ? c->eval_every : (spe >= 4 ? spe / 4 : 1);
    long prefix_steps = (c->eval_tokens + (long)t->G * t->T - 1) / ((long)t->G * t->T);
    train_banner_print(t, spe, total);

    dist_grad_layout L = dist_grad_layout_of_model(&t->model);
    unsigned wire = !strcmp(c->wire_dtype, "bf16") ? DIST_GS_WIRE_BF16 : !strcmp(c->wire_dtype, "fp16")
                  ? DIST_GS_WIRE_FP16 : 0;
    int hosts = 1;
    if (dist_world_hosts(&t->world, &hosts, &e)) fatal(t, &e);
    /* auto: on across hosts, where the exchange is long (docs/scaling.md) */
    int overlap = !strcmp(c->overlap, "on") || (!strcmp(c->overlap, "auto") && hosts > 1);
    if (t->world.rank == 0 && !c->quiet) {
        printf("gradient exchange: %d host%s, overlap %s (--overlap %s)\n", hosts, hosts == 1 ? "" : "s",
               overlap ? "on" : "off", c->overlap);
        fflush(stdout);
    }
    dist_grad_sync *gs = dist_grad_sync_create(&t->world, t->model.grads, &L, wire | (overlap ? DIST_GS_OVERLAP : 0u),
                                               &e);
    train_log lg;
    char lerr[1024] = "";
    int log_open = gs && train_log_open(&lg, c->run, t->world.rank, c->quiet, t->world.mpi, c->log_seconds,
                                        t->global_step, lerr, sizeof lerr) == 0;
    failed = !log_open;
    if (failed && gs) lm_err_set(&e, "%s", lerr);
    if (!failed && t->world.rank == 0) failed = train_banner_write_config(t, &e) != 0;
    if (agree(t, failed, &e)) {
        if (log_open) train_log_close(&lg);
        dist_grad_sync_free(gs);
        train_plan_free(&vplan);
        train_plan_free(&plan);
        return LM_EXIT_FAILURE;
    }

    size_t bt = (size_t)K * t->B * t->T, bh = (size_t)t->B * t->dims.H;
    int32_t *in = malloc(bt * sizeof *in), *tg = malloc(bt * sizeof *tg);
    float *acc = K > 1 ? malloc(t->model.n_params * sizeof *acc) : NULL;
    if (!in || !tg || (K > 1 && !acc)) fatal(t, &(lm_err){"out of memory for the training batch"});
    double t_start = train_log_now(), t_last_ckpt = t_start, train_s = 0;
    long steps_here = 0, last_saved = t->global_step;
    int stop = STOP_NONE, rc = LM_EXIT_OK;
    run_outcome out = {-1, NAN, 0, NAN, 0, 0};
    if (t->world.rank == 0) train_settings_log_start(t, &lg);
    while (!stop && t->epoch < c->epochs) {
        if (plan.steps == 0 && train_plan_init(&plan, &t->corpus.train, (train_state_mode)t->state_mode, t->G,
                                               t->T, t->seed, t->epoch, 1, &e))
            fatal(t, &e);
        if (t->step_in_epoch == 0) {
            memset(t->h, 0, bh * sizeof *t->h);
            memset(t->c, 0, bh * sizeof *t->c);
        }
        for (long k = t->step_in_epoch; k < plan.steps / K && !stop; k++) {
            if (c->max_steps > 0 && t->global_step >= c->max_steps) {
                stop = STOP_MAX_STEPS;
                break;
            }
            double t0 = train_log_now();
            double loss_sum = 0;
            long ntok = 0;
            step_grads(t, &plan, k, gs, overlap, in, tg, acc, &loss_sum, &ntok);
            if (dist_grad_sync_finish(gs, &e)) fatal(t, &e);
            float lr = t->sched.kind == LM_SCHED_PLATEAU ? t->lr : lm_sched_lr(&t->sched, t->global_step);
            t->lr = lr;
            /* clip + Adam in one pass (Adam skipped on a non-finite norm) */
            double norm = lm_clip_adam_update_threads(&t->adam, lr, t->model.params, t->model.grads, t->adam_m,
                                                      t->adam_v, t->model.n_params, c->clip, c->threads);
            t->global_step++;
            t->step_in_epoch = k + 1;
            steps_here++;
            double now = train_log_now();
            train_s += now - t0;
            double v[5] = {loss_sum, (double)ntok, g_signal ? 1.0 : 0.0, 0, 0};
            if (t->world.rank == 0) {
                v[3] = c->checkpoint_minutes > 0 && now - t_last_ckpt >= 60.0 * c->checkpoint_minutes;
                v[4] = c->time_limit > 0 && now - t_start >= 60.0 * c->time_limit;
            }
            if (dist_sum_doubles(&t->world, v, 5, &e)) fatal(t, &e);
            out.train_loss = v[1] > 0 ? v[0] / v[1] : NAN;
            if (c->check_params && dist_check_identical(&t->world, t->model.params, t->model.n_params, &e))
                fatal(t, &e);
            dist_grad_stats st;
            dist_grad_sync_stats(gs, &st);
            train_step_info si = {t->global_step, total, t->epoch, c->epochs, t->step_in_epoch, spe,
                                  v[1] > 0 ? v[0] / v[1] : NAN, lr, norm,
                                  (double)steps_here * t->G * t->T * K / train_s,
                                  now > t0 ? st.comm_s / (now - t0) : 0, now - t0};
            train_log_step(&lg, &si);
            if (!isfinite(norm)) train_log_event(&lg, "skip", t->global_step, "non-finite gradient norm; step skipped");

            int epoch_end = t->step_in_epoch == plan.steps / K;
            if (epoch_end || t->global_step % eval_every == 0) {
                if (validate(t, &vplan, epoch_end, prefix_steps, 1, settings, &lg, &out)) stop = STOP_EARLY;
            }
            if (v[2] > 0) stop = STOP_SIGNAL;
            else if (v[4] > 0) stop = STOP_TIME;
            if (t->global_step >= total && !stop) stop = STOP_DONE;
            /* other stops save after the closing validation, below */
            if (stop == STOP_SIGNAL || epoch_end || v[3] > 0 ||
                (c->checkpoint_every > 0 && t->global_step % c->checkpoint_every == 0)) {
                if (save_ckpt(t, settings, &lg, save_reason(stop, epoch_end), &e)) fatal(t, &e);
                last_saved = t->global_step;
                t_last_ckpt = train_log_now();
            }
        }
        if (!stop && t->step_in_epoch >= plan.steps / K) {
            t->epoch++;
            t->step_in_epoch = 0;
            train_plan_free(&plan);
        }
    }
    out.steps_here = steps_here;
    out.wall_s = train_log_now() - t_start;
    rc = finish(t, &vplan, prefix_steps, settings, &lg, &out, stop, last_saved);
    train_log_close(&lg);
    dist_grad_sync_free(gs);
    train_plan_free(&plan);
    train_plan_free(&vplan);
    free(in);
    free(tg);
    free(acc);
    return rc;
}

int train_run(train_config *c, const char *settings, int *argc, char ***argv) {
    train_ctx t;
    memset(&t, 0, sizeof t);
    t.cfg = c;
    lm_err e = {{0}};
    if (dist_world_init(&t.world, argc, argv, &e)) {
        fprintf(stderr, "lyricmind train: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    /* --threads goes to the output layer (lm_step_opts.threads), whose results
     * do not depend on it; OpenBLAS's threaded split does change sums, so the
     * LSTM's small GEMMs stay on one thread and resuming with another
     * --threads continues bit for bit. */
    openblas_set_num_threads(1);
    install_signals();
    int rc = LM_EXIT_FAILURE;
    train_rundir rd = {.lock.fd = -1};
    int failed = t.world.rank == 0 && train_rundir_open(&rd, c->run, &e) != 0;
    long step0 = -1; /* the step this process started training from */
    if (!agree(&t, failed, &e) && !agree(&t, setup(&t, &e) != 0, &e) && !start_state(&t, &e)) {
        step0 = t.global_step;
        rc = loop(&t, settings);
    } else if (t.exit_code) rc = t.exit_code;
    /* Only a train that failed before its first step takes back what it
     * made; a later failure keeps the run's history and checkpoints. */
    int before_first = step0 < 0 || t.global_step == step0;
    if (t.world.rank == 0)
        train_rundir_close(&rd, before_first && rc != LM_EXIT_OK && rc != LM_EXIT_REQUEUE);
    lm_acts_free(t.acts);
    lm_model_free(&t.model);
    free(t.adam_m), free(t.adam_v), free(t.h), free(t.c);
    io_corpus_close(&t.corpus);
    dist_world_finalize(&t.world);
    return rc;
}
