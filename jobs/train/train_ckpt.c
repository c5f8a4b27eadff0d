/* train_ckpt: the training state <-> io_ckpt (HDF5) adapter.
 * Save is collective (the carried states of all G streams are gathered to
 * rank 0, which writes); load is collective (rank 0 reads and validates,
 * then broadcasts parameters, Adam moments, the resumable scalars and the
 * carried states, of which each rank keeps its own B rows). Every checkpoint
 * carries the fingerprint of its corpus (train_corpus_fingerprint); a load
 * on another corpus is refused (exit 2), one without a fingerprint (written
 * before they existed) is accepted with a warning. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_ckpt.h"
#include "train_ctx.h"

/* The resumable scalars, broadcast as one block. */
typedef struct ckpt_scalars {
    int64_t epoch, step_in_epoch, global_step, G, T, state_mode, sched_bad, es_bad, adam_step;
    uint64_t seed;
    float lr, sched_cur_lr, sched_best, es_best;
    double best_val;
} ckpt_scalars;

/* h or c of all G streams on rank 0 ([G,H]); other ranks contribute their
 * rows (exact: every element is one rank's value plus zeros). */
static int gather_states(train_ctx *t, const float *mine, float *all, lm_err *e) {
    size_t H = (size_t)t->dims.H, n = (size_t)t->G * H;
    double *buf = calloc(n, sizeof *buf);
    if (!buf) return lm_err_set(e, "out of memory gathering LSTM states");
    for (size_t i = 0; i < (size_t)t->B * H; i++) buf[(size_t)t->first * H + i] = mine[i];
    int rc = dist_sum_doubles(&t->world, buf, (int)n, e);
    for (size_t i = 0; i < n; i++) all[i] = (float)buf[i];
    free(buf);
    return rc;
}

int train_ckpt_save(train_ctx *t, const char *path, const char *settings, lm_err *e) {
    size_t gh = (size_t)t->G * t->dims.H;
    float *h = malloc(gh * sizeof *h), *c = malloc(gh * sizeof *c);
    if (!h || !c) {
        free(h), free(c);
        return lm_err_set(e, "out of memory saving a checkpoint");
    }
    int rc = gather_states(t, t->h, h, e) || gather_states(t, t->c, c, e) ? -1 : 0;
    if (rc == 0 && t->world.rank == 0) {
        int64_t G = t->G, T = t->T, mode = t->state_mode, sched_bad = t->sched.bad_evals,
                es_bad = t->es.bad_evals;
        train_corpus_id id;
        train_corpus_fingerprint(&t->corpus, &id);
        io_array st[] = {
            io_array_scalar("epoch", IO_I64, &t->epoch),
            io_array_scalar("step_in_epoch", IO_I64, &t->step_in_epoch),
            io_array_scalar("global_step", IO_I64, &t->global_step),
            io_array_scalar("seed", IO_U64, &t->seed),
            io_array_scalar("global_batch", IO_I64, &G),
            io_array_scalar("seq_len", IO_I64, &T),
            io_array_scalar("state_mode", IO_I64, &mode),
            io_array_scalar("lr", IO_F32, &t->lr),
            io_array_scalar("sched.cur_lr", IO_F32, &t->sched.cur_lr),
            io_array_scalar("sched.best", IO_F32, &t->sched.best),
            io_array_scalar("sched.bad_evals", IO_I64, &sched_bad),
            io_array_scalar("early_stop.best", IO_F32, &t->es.best),
            io_array_scalar("early_stop.bad_evals", IO_I64, &es_bad),
            io_array_scalar("best_val_loss", IO_F64, &t->best_val),
            io_array_2d("lstm.h", IO_F32, (uint64_t)t->G, (uint64_t)t->dims.H, h),
            io_array_2d("lstm.c", IO_F32, (uint64_t)t->G, (uint64_t)t->dims.H, c),
            io_array_scalar("corpus.fingerprint", IO_U64, &id.hash),
            io_array_1d("corpus.train", IO_I64, 3, id.counts[0]),
            io_array_1d("corpus.val", IO_I64, 3, id.counts[1]),
        };
        io_ckpt_save_args a = {&t->model, t->adam_m, t->adam_v, &t->adam, &t->corpus.vocab, settings,
                               t->global_step, t->epoch, t->best_val, st, sizeof st / sizeof st[0]};
        rc = io_ckpt_save(path, &a, e);
    }
    free(h), free(c);
    /* everyone learns whether rank 0's write worked */
    double ok = rc == 0 ? 0.0 : 1.0;
    lm_err e2;
    if (dist_sum_doubles(&t->world, &ok, 1, &e2)) return lm_err_set(e, "%s", e2.msg);
    if (ok > 0 && rc == 0) return lm_err_set(e, "checkpoint %s failed on rank 0", path);
    return ok > 0 ? -1 : 0;
}

#define GET(name, type, dst) io_ckpt_state_get(&ck, name, type, 1, dst, e)
enum { LOAD_REFUSED = 2 }; /* read_on_root: not this run's corpus */

/* 0: ck was trained on this corpus (or cannot tell: *unknown set, for a
 * warning once the load succeeded); LOAD_REFUSED or -1 with one line in e. */
static int check_corpus(const train_ctx *t, const io_ckpt *ck, int *unknown, lm_err *e) {
    const char *data = t->cfg->data;
    if (ck->vocab.hash != t->corpus.vocab.hash) {
        lm_err_set(e, "%s: trained on another vocabulary (hash %016llx) than --data %s (hash %016llx); resume on "
                      "the corpus it was trained on", ck->path, (unsigned long long)ck->vocab.hash, data,
                   (unsigned long long)t->corpus.vocab.hash);
        return LOAD_REFUSED;
    }
    train_corpus_id mine, theirs;
    *unknown = !io_ckpt_state_find(ck, "corpus.fingerprint");
    if (*unknown) return 0;
    if (io_ckpt_state_get(ck, "corpus.fingerprint", IO_U64, 1, &theirs.hash, e) ||
        io_ckpt_state_get(ck, "corpus.train", IO_I64, 3, theirs.counts[0], e) ||
        io_ckpt_state_get(ck, "corpus.val", IO_I64, 3, theirs.counts[1], e))
        return -1;
    train_corpus_fingerprint(&t->corpus, &mine);
    if (mine.hash == theirs.hash) return 0;
    char diff[512];
    train_corpus_id_diff(&mine, &theirs, diff, sizeof diff);
    lm_err_set(e, "%s: --data %s is not the corpus this run was trained on: %s; resume on that corpus or start a "
                  "new --run", ck->path, data, diff);
    return LOAD_REFUSED;
}

static int read_on_root(train_ctx *t, const char *path, ckpt_scalars *s, float *h, float *c, lm_err *e) {
    io_ckpt ck;
    memset(&ck, 0, sizeof ck);
    lm_adam adam = t->adam;
    if (t->resume.from[0] && strcmp(path, t->resume.from))
        return lm_err_set(e, "%s: the settings were resolved against another checkpoint (%s)", path, t->resume.from);
    if (io_ckpt_open(&ck, path, e)) return -1;
    int unknown = 0, rc = check_corpus(t, &ck, &unknown, e);
    if (rc == 0 && (io_ckpt_check(&ck, &t->model.d, NULL, e) || io_ckpt_read_model(&ck, &t->model, e) ||
                    io_ckpt_read_optim(&ck, &t->model, t->adam_m, t->adam_v, &adam, e)))
        rc = -1;
    if (rc) {
        io_ckpt_close(&ck);
        return rc;
    }
    rc = -1;
    uint64_t gh = (uint64_t)t->G * (uint64_t)t->dims.H;
    if (GET("epoch", IO_I64, &s->epoch) || GET("step_in_epoch", IO_I64, &s->step_in_epoch) ||
        GET("global_step", IO_I64, &s->global_step) || GET("seed", IO_U64, &s->seed) ||
        GET("global_batch", IO_I64, &s->G) || GET("seq_len", IO_I64, &s->T) ||
        GET("state_mode", IO_I64, &s->state_mode) || GET("lr", IO_F32, &s->lr) ||
        GET("sched.cur_lr", IO_F32, &s->sched_cur_lr) || GET("sched.best", IO_F32, &s->sched_best) ||
        GET("sched.bad_evals", IO_I64, &s->sched_bad) || GET("early_stop.best", IO_F32, &s->es_best) ||
        GET("early_stop.bad_evals", IO_I64, &s->es_bad) || GET("best_val_loss", IO_F64, &s->best_val))
        goto out;
    if (s->G != t->G) {
        lm_err_set(e, "%s: trained with a global batch of %lld streams, this run has %d (ranks x --batch-size); "
                      "resume with the same global batch", path, (long long)s->G, t->G);
        goto out;
    }
    if (s->T != t->T || s->state_mode != t->state_mode) {
        lm_err_set(e, "%s: trained with --seq-len %lld --state %s; resume with the same settings", path,
                   (long long)s->T, s->state_mode == TRAIN_STATE_RESET ? "reset" : "carry");
        goto out;
    }
    if (io_ckpt_state_get(&ck, "lstm.h", IO_F32, gh, h, e) || io_ckpt_state_get(&ck, "lstm.c", IO_F32, gh, c, e))
        goto out;
    s->adam_step = adam.step;
    if (unknown)
        fprintf(stderr, "lyricmind train: warning: %s has no corpus fingerprint (written before they were stored); "
                        "cannot check that --data %s is the corpus it was trained on\n", path, t->cfg->data);
    rc = 0;
out:
    io_ckpt_close(&ck);
    return rc;
}

int train_ckpt_load(train_ctx *t, const char *path, lm_err *e) {
    size_t gh = (size_t)t->G * t->dims.H, bh = (size_t)t->B * t->dims.H;
    float *h = calloc(gh, sizeof *h), *c = calloc(gh, sizeof *c);
    ckpt_scalars s;
    memset(&s, 0, sizeof s);
    int status = (!h || !c) ? lm_err_set(e, "out of memory loading a checkpoint") : 0;
    if (!status && t->world.rank == 0) status = read_on_root(t, path, &s, h, c, e);
    lm_err e2;
    if (dist_bcast_bytes(&t->world, &status, sizeof status, 0, &e2)) {
        free(h), free(c);
        return lm_err_set(e, "%s", e2.msg);
    }
    if (status) {
        if (t->world.rank != 0) lm_err_set(e, "%s: rank 0 could not load the checkpoint", path);
        if (status == LOAD_REFUSED) t->exit_code = LM_EXIT_USAGE;
        free(h), free(c);
        return -1;
    }
    int rc = dist_bcast_bytes(&t->world, &s, sizeof s, 0, e) ||
             dist_bcast_floats(&t->world, t->model.params, t->model.n_params, 0, e) ||
             dist_bcast_floats(&t->world, t->adam_m, t->model.n_params, 0, e) ||
             dist_bcast_floats(&t->world, t->adam_v, t->model.n_params, 0, e) ||
             dist_bcast_floats(&t->world, h, gh, 0, e) || dist_bcast_floats(&t->world, c, gh, 0, e)
                 ? -1 : 0;
    if (rc == 0) {
        t->epoch = s.epoch;
        t->step_in_epoch = s.step_in_epoch;
        t->global_step = s.global_step;
        t->seed = s.seed;
        t->lr = s.lr;
        t->sched.cur_lr = s.sched_cur_lr;
        t->sched.best = s.sched_best;
        t->sched.bad_evals = (int)s.sched_bad;
        t->es.best = s.es_best;
        t->es.bad_evals = (int)s.es_bad;
        t->best_val = s.best_val;
        t->adam.step = s.adam_step;
        memcpy(t->h, h + (size_t)t->first * t->dims.H, bh * sizeof *h);
        memcpy(t->c, c + (size_t)t->first * t->dims.H, bh * sizeof *c);
        if (train_resume_changed(&t->resume, "lr")) /* a new --lr restarts the plateau level there */
            t->lr = t->sched.cur_lr = t->cfg->lr;
    }
    free(h), free(c);
    return rc;
}

int train_ckpt_path(const train_ctx *t, char *out, size_t n) {
    io_ckpt_path(out, n, t->cfg->run, t->global_step);
    return 0;
}

static void report_skip(void *ctx, const char *path, const char *why) {
    (void)ctx;
    fprintf(stderr, "lyricmind train: skipping %s: %s\n", path, why);
}

int train_ckpt_newest(const char *run_dir, char *out, size_t n, lm_err *e) {
    int r = io_ckpt_newest_valid(run_dir, out, n, report_skip, NULL, e);
    return r < 0 ? -1 : r == 1 ? 0 : 1;
}

void train_ckpt_prune(const char *run_dir, int keep) {
    lm_err e;
    io_ckpt_keep_last(run_dir, keep, &e);
}
