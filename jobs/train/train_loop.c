/* train_loop: 'lyricmind train' per rank (DESIGN.md "Training loop"):
 * set-up, the choice of the starting state, and the loop as named steps.
 * Per global step (train_step): read this rank's K x B windows, forward and
 * backward (train_grads.c), sum the gradients over ranks, clip, Adam
 * (train_exchange.c: in shared memory, each rank its slice, when every rank
 * is on one host; else an MPI allreduce, whose output-layer rows are sent
 * as they become final, overlapping the rest of the backward, when overlap
 * is on: --exchange, --overlap, docs/dist.md), with the same results.
 * Then one small allreduce (agree_step) agrees on the loss, signals and
 * rank 0's clocks; validations (maybe_evaluate, train_finish.c) feed rank
 * 0's decisions {lr, stop, save best}, broadcast; maybe_checkpoint saves.
 * Invariant: every rank sees bitwise-identical parameters and optimizer
 * state (on one host: one shared copy), and every collective is reached by
 * all ranks in the same order. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_ckpt.h"
#include "lm_par.h"
#include "lm_sys.h"
#include "train_ckpt.h"
#include "train_banner.h"
#include "train_loop.h"
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

/* One rank reports: rank 0 if it failed, else the failing rank. */
int train_agree(train_ctx *t, int failed, const lm_err *e) {
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

void train_fatal(train_ctx *t, const lm_err *e) {
    fprintf(stderr, "lyricmind train: rank %d: %s\n", t->world.rank, e->msg);
    dist_world_abort(&t->world, LM_EXIT_FAILURE);
}

/* The pool's spin (lm_par_spin_us): off when this host's ranks x --threads
 * exceed its CPUs, where spinning workers would take the other ranks'. */
static int pool_spin_us(const train_ctx *t) {
    const int here = (t->world.size + t->hosts - 1) / (t->hosts > 0 ? t->hosts : 1);
    const int threads = t->cfg->threads;
    return lm_par_spin_us(threads, here * threads, lm_sys_cpus(), lm_sys_online_cpus());
}

static int setup(train_ctx *t, lm_err *e) {
    const train_config *c = t->cfg;
    if (train_settings_resume(t, e)) return -1;
    t->B = c->batch_size;
    t->T = c->seq_len;
    t->G = t->B * t->world.size;
    t->first = t->world.rank * t->B;
    t->rs.seed = (uint64_t)c->seed;
    t->rs.state_mode = strcmp(c->state, "reset") == 0 ? TRAIN_STATE_RESET : TRAIN_STATE_CARRY;
    if (io_corpus_open(&t->corpus, c->data, e)) return -1;
    t->dims = (lm_dims){(int)t->corpus.vocab.size, c->embed, c->hidden};
    if (train_exchange_open_shared(t, e)) return -1;
    t->pool = lm_par_pool_create(c->threads, pool_spin_us(t)); /* NULL: threads per call, same bits */
    dist_shared *s = t->shm;
    if (s ? lm_model_init_on(&t->model, t->dims, dist_shared_params(s), dist_shared_grads(s), e)
          : lm_model_init(&t->model, t->dims, 1, e))
        return -1;
    size_t n = t->model.n_params, bh = (size_t)t->B * (size_t)t->dims.H;
    t->acts = lm_acts_create(t->dims, t->B, t->T);
    t->adam_m = s ? dist_shared_adam_m(s) : calloc(n, sizeof(float));
    t->adam_v = s ? dist_shared_adam_v(s) : calloc(n, sizeof(float));
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
    t->rs.lr = c->lr;
    t->rs.best_val = INFINITY;
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
    if (train_agree(t, failed, e)) return -1;
    if (dist_bcast_bytes(&t->world, path, sizeof path, 0, e)) train_fatal(t, e);
    if (path[0]) {
        if (train_ckpt_load(t, path, e) == 0) return 0;
        if (t->world.rank == 0) fprintf(stderr, "lyricmind train: %s\n", e->msg);
        return -1;
    }
    if (t->world.rank == 0) {
        lm_rng r;
        lm_rng_seed2(&r, t->rs.seed, 0x1417ULL);
        lm_model_init_weights(&t->model, &r);
    }
    if (train_exchange_share_state(t, 0, e)) train_fatal(t, e);
    return 0;
}

/* (collective) */
void train_peak_rss_report(train_ctx *t, char *out, size_t n) {
    double *v = calloc((size_t)t->world.size, sizeof *v);
    lm_err e;
    if (!v) train_fatal(t, &(lm_err){"out of memory"});
    v[t->world.rank] = lm_sys_peak_rss_mb();
    if (dist_sum_doubles(&t->world, v, t->world.size, &e)) train_fatal(t, &e);
    size_t len = (size_t)snprintf(out, n, "peak RSS MB per rank:");
    for (int r = 0; r < t->world.size && len < n; r++)
        len += (size_t)snprintf(out + len, n - len, "%s %.0f", r ? "," : "", v[r]);
    free(v);
}

/* ---- the loop ---------------------------------------------------------------- */

/* The validation windows and this epoch's training windows; an epoch must
 * hold at least one optimizer step. Returns 1 on failure (e says why). */
static int open_plans(train_ctx *t, train_loop *lp, lm_err *e) {
    const train_config *c = t->cfg;
    train_state_mode mode = (train_state_mode)t->rs.state_mode;
    int failed = train_plan_init(&lp->vplan, &t->corpus.val, mode, t->G, t->T, t->rs.seed, 0, 0, e) != 0;
    if (!failed)
        failed = train_plan_init(&lp->plan, &t->corpus.train, mode, t->G, t->T, t->rs.seed, t->rs.epoch, 1, e) != 0;
    if (!failed && lp->plan.steps < lp->K)
        failed = lm_err_set(e, "%s: --accumulate %d needs %d windows per epoch, the training split has %ld at a "
                               "global batch of %d x %d tokens", c->data, lp->K, lp->K, lp->plan.steps, t->G, t->T) != 0;
    return failed;
}

/* Steps per epoch, the run's last step, the cosine horizon, the validations. */
static void plan_schedule(train_ctx *t, train_loop *lp) {
    const train_config *c = t->cfg;
    lp->spe = lp->plan.steps / lp->K; /* optimizer steps; the last plan.steps % K windows are not trained */
    lp->total = lp->spe * c->epochs;
    if (c->max_steps > 0 && c->max_steps < lp->total) lp->total = c->max_steps;
    /* The cosine horizon is the planned training (epochs x steps per epoch),
     * not --max-steps: that only stops a run, so a run stopped early and
     * resumed follows the same LR curve as one that never stopped. */
    if (t->sched.kind == LM_SCHED_COSINE) t->sched.total_steps = lp->spe * c->epochs;
    lp->eval_every = c->eval_every > 0 ? c->eval_every : (lp->spe >= 4 ? lp->spe / 4 : 1);
    lp->prefix_steps = (c->eval_tokens + (long)t->G * t->T - 1) / ((long)t->G * t->T);
}

/* metrics.jsonl and the progress lines; rank 0 writes RUN/config.ini. */
static int open_log(train_ctx *t, train_loop *lp, int *log_open, lm_err *e) {
    const train_config *c = t->cfg;
    char lerr[1024] = "";
    *log_open = train_log_open(&lp->lg, c->run, t->world.rank, c->quiet, t->world.mpi, c->log_seconds,
                               t->rs.global_step, lerr, sizeof lerr) == 0;
    if (!*log_open) return lm_err_set(e, "%s", lerr);
    return t->world.rank == 0 ? train_banner_write_config(t, e) : 0;
}

static void alloc_batch(train_ctx *t, train_loop *lp) {
    size_t bt = (size_t)lp->K * t->B * t->T;
    lp->in = malloc(bt * sizeof *lp->in);
    lp->tg = malloc(bt * sizeof *lp->tg);
    lp->acc = lp->K > 1 ? malloc(t->model.n_params * sizeof *lp->acc) : NULL;
    if (!lp->in || !lp->tg || (lp->K > 1 && !lp->acc)) train_fatal(t, &(lm_err){"out of memory for the training batch"});
}

/* What one optimizer step measured. */
typedef struct step_result {
    double loss_sum;  /* this rank's, over ntok tokens */
    long ntok;
    float lr;
    double norm;      /* the gradient's global L2 norm before clipping */
    double comm_s;    /* of it, communication (train_exchange_update) */
    double t0, now;   /* the step's start and end (lm_sys_now) */
} step_result;

/* One optimizer step: forward and backward, then the exchange, clip and
 * Adam (skipped on a non-finite norm): train_exchange_update. */
static step_result train_step(train_ctx *t, train_loop *lp, long k) {
    step_result r = {0, 0, 0, 0, 0, lm_sys_now(), 0};
    train_step_grads(t, lp, k, &r.loss_sum, &r.ntok);
    r.lr = t->sched.kind == LM_SCHED_PLATEAU ? t->rs.lr : lm_sched_lr(&t->sched, t->rs.global_step);
    t->rs.lr = r.lr;
    r.norm = train_exchange_update(t, lp, r.lr, &r.comm_s);
    t->rs.global_step++;
    t->rs.step_in_epoch = k + 1;
    lp->steps_here++;
    r.now = lm_sys_now();
    lp->train_s += r.now - r.t0;
    return r;
}

/* Summed over ranks after every step in one allreduce: the loss, whether a
 * rank caught a signal, and rank 0's clocks (the others add 0), so that
 * every rank stops and checkpoints at the same step. */
typedef union step_packet {
    struct {
        double loss_sum, tokens;
        double signalled; /* ranks that caught SIGTERM, SIGUSR1 or SIGINT */
        double ckpt_due;  /* rank 0: --checkpoint-minutes passed since the last checkpoint */
        double time_up;   /* rank 0: --time-limit passed */
    };
    double v[5];
} step_packet;
_Static_assert(sizeof(step_packet) == 5 * sizeof(double), "step_packet is five doubles");

static step_packet agree_step(train_ctx *t, train_loop *lp, const step_result *r) {
    const train_config *c = t->cfg;
    step_packet p = {.loss_sum = r->loss_sum, .tokens = (double)r->ntok, .signalled = g_signal ? 1.0 : 0.0};
    if (t->world.rank == 0) {
        p.ckpt_due = c->checkpoint_minutes > 0 && r->now - lp->t_last_ckpt >= 60.0 * c->checkpoint_minutes;
        p.time_up = c->time_limit > 0 && r->now - lp->t_start >= 60.0 * c->time_limit;
    }
    lm_err e = {{0}};
    if (dist_sum_doubles(&t->world, p.v, 5, &e)) train_fatal(t, &e);
    lp->out.train_loss = p.tokens > 0 ? p.loss_sum / p.tokens : NAN;
    if (c->check_params && dist_check_identical(&t->world, t->model.params, t->model.n_params, &e))
        train_fatal(t, &e);
    return p;
}

/* The step's metrics line (and progress line), a "skip" event when Adam skipped it. */
static void log_step(train_ctx *t, train_loop *lp, const step_result *r, const step_packet *p) {
    double dt = r->now - r->t0;
    train_step_info si = {t->rs.global_step, lp->total, t->rs.epoch, t->cfg->epochs, t->rs.step_in_epoch, lp->spe,
                          p->tokens > 0 ? p->loss_sum / p->tokens : NAN, r->lr, r->norm,
                          (double)lp->steps_here * t->G * t->T * lp->K / lp->train_s,
                          r->now > r->t0 ? r->comm_s / dt : 0, dt};
    train_log_step(&lp->lg, &si);
    if (!isfinite(r->norm))
        train_log_event(&lp->lg, "skip", t->rs.global_step, "non-finite gradient norm; step skipped");
}

/* A validation at every epoch end (the whole stream) and every eval_every
 * steps (the first --eval-tokens). Returns 1: stop early. */
static int maybe_evaluate(train_ctx *t, train_loop *lp, int epoch_end) {
    if (!epoch_end && t->rs.global_step % lp->eval_every != 0) return 0;
    return train_validate(t, lp, epoch_end, 1);
}

/* Why to stop after this step (STOP_NONE: go on): a signal or the time
 * limit, agreed in p, before an early stop; the planned end last. */
static train_stop stop_after_step(const train_ctx *t, const train_loop *lp, const step_packet *p, int early) {
    if (p->signalled > 0) return STOP_SIGNAL;
    if (p->time_up > 0) return STOP_TIME;
    if (early) return STOP_EARLY;
    return t->rs.global_step >= lp->total ? STOP_DONE : STOP_NONE;
}

/* After a signal, at epoch ends, every --checkpoint-minutes and every
 * --checkpoint-every steps; the other stops save after the closing
 * validation (train_finish). */
static void maybe_checkpoint(train_ctx *t, train_loop *lp, train_stop stop, int epoch_end, const step_packet *p) {
    const train_config *c = t->cfg;
    int every = c->checkpoint_every > 0 && t->rs.global_step % c->checkpoint_every == 0;
    if (stop != STOP_SIGNAL && !epoch_end && !(p->ckpt_due > 0) && !every) return;
    lm_err e = {{0}};
    if (train_save_ckpt(t, lp, stop, epoch_end, &e)) train_fatal(t, &e);
    lp->t_last_ckpt = lm_sys_now();
}

/* The steps of epoch t->rs.epoch from t->rs.step_in_epoch on; at its end
 * the next epoch begins. Returns why the loop stops (STOP_NONE: go on). */
static train_stop run_epoch(train_ctx *t, train_loop *lp) {
    const train_config *c = t->cfg;
    lm_err e = {{0}};
    if (lp->plan.steps == 0 && train_plan_init(&lp->plan, &t->corpus.train, (train_state_mode)t->rs.state_mode,
                                               t->G, t->T, t->rs.seed, t->rs.epoch, 1, &e))
        train_fatal(t, &e);
    if (t->rs.step_in_epoch == 0) {
        size_t bh = (size_t)t->B * t->dims.H;
        memset(t->h, 0, bh * sizeof *t->h);
        memset(t->c, 0, bh * sizeof *t->c);
    }
    long steps = lp->plan.steps / lp->K; /* this epoch's optimizer steps */
    train_stop stop = STOP_NONE;
    for (long k = t->rs.step_in_epoch; k < steps && !stop; k++) {
        if (c->max_steps > 0 && t->rs.global_step >= c->max_steps) return STOP_MAX_STEPS;
        step_result r = train_step(t, lp, k);
        step_packet p = agree_step(t, lp, &r);
        log_step(t, lp, &r, &p);
        int epoch_end = t->rs.step_in_epoch == steps;
        stop = stop_after_step(t, lp, &p, maybe_evaluate(t, lp, epoch_end));
        maybe_checkpoint(t, lp, stop, epoch_end, &p);
    }
    if (!stop && t->rs.step_in_epoch >= steps) {
        t->rs.epoch++;
        t->rs.step_in_epoch = 0;
        train_plan_free(&lp->plan);
    }
    return stop;
}

static int loop(train_ctx *t, const char *settings) {
    train_loop lp;
    memset(&lp, 0, sizeof lp);
    lp.settings = settings;
    lp.K = t->cfg->accumulate;
    lm_err e = {{0}};
    int log_open = 0, rc = LM_EXIT_FAILURE;
    if (train_agree(t, open_plans(t, &lp, &e), &e)) goto out;
    plan_schedule(t, &lp);
    train_banner_print(t, lp.spe, lp.total);
    if (train_agree(t, train_exchange_open(t, &lp, &e) || open_log(t, &lp, &log_open, &e), &e)) goto out;
    alloc_batch(t, &lp);
    lp.t_start = lm_sys_now();
    lp.t_last_ckpt = lp.t_start;
    lp.last_saved = t->rs.global_step;
    lp.out = (run_outcome){-1, NAN, 0, NAN, 0, 0};
    if (t->world.rank == 0) train_settings_log_start(t, &lp.lg);
    train_stop stop = STOP_NONE;
    while (!stop && t->rs.epoch < t->cfg->epochs) stop = run_epoch(t, &lp);
    lp.out.steps_here = lp.steps_here;
    lp.out.wall_s = lm_sys_now() - lp.t_start;
    lp.signal = g_signal;
    rc = train_finish(t, &lp, stop);
out:
    if (log_open) train_log_close(&lp.lg);
    dist_grad_sync_free(lp.gs);
    train_plan_free(&lp.plan);
    train_plan_free(&lp.vplan);
    free(lp.in);
    free(lp.tg);
    free(lp.acc);
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
    if (!train_agree(&t, failed, &e) && !train_agree(&t, setup(&t, &e) != 0, &e) && !start_state(&t, &e)) {
        step0 = t.rs.global_step;
        rc = loop(&t, settings);
    } else if (t.exit_code) rc = t.exit_code;
    /* Only a train that failed before its first step takes back what it
     * made; a later failure keeps the run's history and checkpoints. */
    int before_first = step0 < 0 || t.rs.global_step == step0;
    if (t.world.rank == 0)
        train_rundir_close(&rd, before_first && rc != LM_EXIT_OK && rc != LM_EXIT_REQUEUE);
    lm_acts_free(t.acts);
    lm_par_pool_free(t.pool);
    lm_model_free(&t.model);
    if (!t.shm) free(t.adam_m), free(t.adam_v);
    free(t.h), free(t.c);
    dist_shared_free(t.shm);
    io_corpus_close(&t.corpus);
    dist_world_finalize(&t.world);
    return rc;
}
