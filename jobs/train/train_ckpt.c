/* train_ckpt: the training state <-> io_ckpt (HDF5) adapter.
 * Save is collective (the carried states of all G streams are gathered to
 * rank 0, which writes); load is collective (rank 0 reads and validates,
 * then broadcasts parameters, Adam moments, the resumable scalars and the
 * carried states, of which each rank keeps its own B rows). The scalars
 * are those of train_state.h: save and load loop over its table. Every checkpoint
 * carries the fingerprint of its corpus (train_corpus_fingerprint); a load
 * on another corpus is refused (exit 2), one without a fingerprint (written
 * before they existed) is accepted with a warning. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_ckpt.h"
#include "train_ckpt.h"
#include "train_loop.h"
#include "train_state.h"

/* What rank 0 reads and broadcasts on load, as one unit: the scalars of
 * train_state.h and Adam's step (an /optim attribute). */
typedef struct ckpt_packet {
    train_state s;
    int64_t adam_step;
} ckpt_packet;

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
        train_state s;
        train_state_pack(t, &s);
        train_corpus_id id;
        train_corpus_fingerprint(&t->corpus, &id);
        io_array st[TRAIN_STATE_N + 5];
        size_t n = 0;
        for (; n < TRAIN_STATE_N; n++) {
            const train_state_field *f = &train_state_fields[n];
            st[n] = io_array_scalar(f->name, f->dtype, (const char *)&s + f->offset);
        }
        st[n++] = io_array_2d("lstm.h", IO_F32, (uint64_t)t->G, (uint64_t)t->dims.H, h);
        st[n++] = io_array_2d("lstm.c", IO_F32, (uint64_t)t->G, (uint64_t)t->dims.H, c);
        st[n++] = io_array_scalar("corpus.fingerprint", IO_U64, &id.hash);
        st[n++] = io_array_1d("corpus.train", IO_I64, 3, id.counts[0]);
        st[n++] = io_array_1d("corpus.val", IO_I64, 3, id.counts[1]);
        io_ckpt_save_args a = {&t->model, t->adam_m, t->adam_v, &t->adam, &t->corpus.vocab, settings,
                               t->rs.global_step, t->rs.epoch, t->rs.best_val, st, n};
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

/* The scalars of train_state.h from ck, checked against this run's shape. */
static int read_scalars(const train_ctx *t, const io_ckpt *ck, train_state *s, lm_err *e) {
    for (size_t i = 0; i < TRAIN_STATE_N; i++) {
        const train_state_field *f = &train_state_fields[i];
        if (io_ckpt_state_get(ck, f->name, f->dtype, 1, (char *)s + f->offset, e)) return -1;
    }
    if (s->global_batch != t->G)
        return lm_err_set(e, "%s: trained with a global batch of %lld streams, this run has %d (ranks x "
                             "--batch-size); resume with the same global batch", ck->path,
                          (long long)s->global_batch, t->G);
    if (s->seq_len != t->T || s->state_mode != t->rs.state_mode)
        return lm_err_set(e, "%s: trained with --seq-len %lld --state %s; resume with the same settings", ck->path,
                          (long long)s->seq_len, s->state_mode == TRAIN_STATE_RESET ? "reset" : "carry");
    return 0;
}

static int read_on_root(train_ctx *t, const char *path, ckpt_packet *p, float *h, float *c, lm_err *e) {
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
    uint64_t gh = (uint64_t)t->G * (uint64_t)t->dims.H;
    if (rc == 0 && (read_scalars(t, &ck, &p->s, e) || io_ckpt_state_get(&ck, "lstm.h", IO_F32, gh, h, e) ||
                    io_ckpt_state_get(&ck, "lstm.c", IO_F32, gh, c, e)))
        rc = -1;
    p->adam_step = adam.step;
    if (rc == 0 && unknown)
        fprintf(stderr, "lyricmind train: warning: %s has no corpus fingerprint (written before they were stored); "
                        "cannot check that --data %s is the corpus it was trained on\n", path, t->cfg->data);
    io_ckpt_close(&ck);
    return rc;
}

int train_ckpt_load(train_ctx *t, const char *path, lm_err *e) {
    size_t gh = (size_t)t->G * t->dims.H, bh = (size_t)t->B * t->dims.H;
    float *h = calloc(gh, sizeof *h), *c = calloc(gh, sizeof *c);
    ckpt_packet p;
    memset(&p, 0, sizeof p);
    int status = (!h || !c) ? lm_err_set(e, "out of memory loading a checkpoint") : 0;
    if (!status && t->world.rank == 0) status = read_on_root(t, path, &p, h, c, e);
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
    int rc = dist_bcast_bytes(&t->world, &p, sizeof p, 0, e) ||
             train_exchange_share_state(t, 1, e) ||
             dist_bcast_floats(&t->world, h, gh, 0, e) || dist_bcast_floats(&t->world, c, gh, 0, e)
                 ? -1 : 0;
    if (rc == 0) {
        train_state_unpack(t, &p.s);
        t->adam.step = p.adam_step;
        memcpy(t->h, h + (size_t)t->first * t->dims.H, bh * sizeof *h);
        memcpy(t->c, c + (size_t)t->first * t->dims.H, bh * sizeof *c);
        if (train_resume_changed(&t->resume, "lr")) /* a new --lr restarts the plateau level there */
            t->rs.lr = t->sched.cur_lr = t->cfg->lr;
    }
    free(h), free(c);
    return rc;
}

int train_ckpt_path(const train_ctx *t, char *out, size_t n) {
    io_ckpt_path(out, n, t->cfg->run, t->rs.global_step);
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
