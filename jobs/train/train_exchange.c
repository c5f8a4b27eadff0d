/* train_exchange: how one optimizer step's gradients are summed over the
 * ranks and applied (--exchange, --overlap, --wire-dtype; docs/dist.md).
 *
 * Two paths with bitwise the same parameters at 2 ranks:
 * - shared (every rank on one host): parameters, gradients and Adam's
 *   moments in shared memory (dist_shared); each rank sums and updates its
 *   own LM_OPTIM_PARTS / size parts of the parameters and reads the others'
 *   in place. No gradient or parameter crosses MPI, and each rank runs
 *   Adam on 1/size of the parameters.
 * - mpi (several hosts, a 16-bit wire, --overlap on, or --exchange mpi):
 *   every rank holds every array; the gradient is all-reduced
 *   (dist_grad_sync, overlapped with the backward when overlap is on), then
 *   every rank clips and steps all of Adam. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_sys.h"
#include "train_loop.h"

/* Why the shared path cannot run, for --exchange shared; NULL: it can. */
static const char *shared_refusal(const train_ctx *t, int hosts) {
    const train_config *c = t->cfg;
    if (hosts > 1) return "needs every rank on one host";
    if (strcmp(c->wire_dtype, "fp32")) return "sums in fp32 (--wire-dtype is for messages: use --exchange mpi)";
    if (!strcmp(c->overlap, "on")) return "sends no messages to overlap (--overlap on: use --exchange mpi)";
    return NULL;
}

/* This rank's parts [p0, p1) of LM_OPTIM_PARTS and their floats [lo, hi). */
static void slice_of_rank(train_ctx *t, size_t n, size_t *lo, size_t *hi) {
    const int P = LM_OPTIM_PARTS, r = t->world.rank, s = t->world.size;
    t->p0 = P * r / s;
    t->p1 = P * (r + 1) / s;
    size_t a, b, x;
    lm_optim_part_range(n, t->p0, &a, &x); /* p0 < P: r < s */
    if (t->p1 > t->p0) lm_optim_part_range(n, t->p1 - 1, &x, &b);
    else b = a;
    *lo = a, *hi = b;
}

int train_exchange_open_shared(train_ctx *t, lm_err *e) {
    const train_config *c = t->cfg;
    t->p0 = 0, t->p1 = LM_OPTIM_PARTS;
    if (dist_world_hosts(&t->world, &t->hosts, e)) return -1;
    if (t->world.size < 2 || !strcmp(c->exchange, "mpi")) return 0;
    const char *why = shared_refusal(t, t->hosts);
    if (why && !strcmp(c->exchange, "shared"))
        return lm_err_set(e, "--exchange shared %s; the ranks run on %d host%s", why, t->hosts,
                          t->hosts == 1 ? "" : "s");
    if (why) return 0;
    size_t n = lm_model_count_params(t->dims), lo, hi;
    slice_of_rank(t, n, &lo, &hi);
    t->shm = dist_shared_create(&t->world, n, lo, hi, e);
    if (t->shm || !strcmp(c->exchange, "shared")) return t->shm ? 0 : -1;
    /* auto: the same on every rank (dist_shared_create agrees); rank 0 says why */
    if (t->world.rank == 0)
        fprintf(stderr, "lyricmind train: warning: %s; the gradient goes through MPI instead\n", e->msg);
    t->p0 = 0, t->p1 = LM_OPTIM_PARTS;
    return 0;
}

int train_exchange_open(train_ctx *t, train_loop *lp, lm_err *e) {
    const train_config *c = t->cfg;
    lp->overlap = !t->shm && (!strcmp(c->overlap, "on") || (!strcmp(c->overlap, "auto") && t->hosts > 1));
    if (t->world.rank == 0 && !c->quiet) {
        if (t->shm)
            printf("gradient exchange: 1 host, shared memory (--exchange %s): each rank sums and updates "
                   "1/%d of the parameters\n", c->exchange, t->world.size);
        else
            printf("gradient exchange: %d host%s, overlap %s (--overlap %s)\n", t->hosts, t->hosts == 1 ? "" : "s",
                   lp->overlap ? "on" : "off", c->overlap);
        fflush(stdout);
    }
    if (t->shm) return 0;
    dist_grad_layout L = dist_grad_layout_of_model(&t->model);
    unsigned wire = !strcmp(c->wire_dtype, "bf16") ? DIST_GS_WIRE_BF16 : !strcmp(c->wire_dtype, "fp16")
                  ? DIST_GS_WIRE_FP16 : 0;
    lp->gs = dist_grad_sync_create(&t->world, t->model.grads, &L, wire | (lp->overlap ? DIST_GS_OVERLAP : 0u), e);
    return lp->gs ? 0 : -1;
}

/* The shared path's step: this rank's parts of the summed gradient, the norm
 * from every rank's part sums (each part's sum comes from one rank, the
 * others add 0), clip and Adam on those parts; bitwise the whole-array
 * lm_clip_adam_update_threads over the summed gradient. */
static double shared_update(train_ctx *t, float lr, double *comm_s) {
    const train_config *c = t->cfg;
    const size_t n = t->model.n_params;
    lm_err e = {{0}};
    double sums[LM_OPTIM_PARTS] = {0};
    if (dist_shared_reduce(t->shm, c->threads, &e)) train_fatal(t, &e);
    lm_grad_sumsq_parts(t->model.grads, n, t->p0, t->p1, sums, c->threads, t->pool);
    double t0 = lm_sys_now();
    if (dist_sum_doubles(&t->world, sums, LM_OPTIM_PARTS, &e)) train_fatal(t, &e);
    double norm = lm_grad_norm_of_parts(sums);
    double t1 = lm_sys_now();
    lm_clip_adam_update_parts(&t->adam, lr, t->model.params, t->model.grads, t->adam_m, t->adam_v, n, t->p0,
                              t->p1, norm, c->clip, c->threads, t->pool);
    if (dist_shared_barrier(t->shm, &e)) train_fatal(t, &e);
    *comm_s = dist_shared_take_comm_s(t->shm) + (t1 - t0);
    return norm;
}

double train_exchange_update(train_ctx *t, train_loop *lp, float lr, double *comm_s) {
    if (t->shm) return shared_update(t, lr, comm_s);
    const train_config *c = t->cfg;
    lm_err e = {{0}};
    if (dist_grad_sync_finish(lp->gs, &e)) train_fatal(t, &e);
    dist_grad_stats st;
    dist_grad_sync_stats(lp->gs, &st);
    *comm_s = st.comm_s;
    return lm_clip_adam_update_threads(&t->adam, lr, t->model.params, t->model.grads, t->adam_m, t->adam_v,
                                       t->model.n_params, c->clip, c->threads, t->pool);
}

int train_exchange_share_state(train_ctx *t, int moments, lm_err *e) {
    if (t->shm) return dist_shared_barrier(t->shm, e);
    size_t n = t->model.n_params;
    return dist_bcast_floats(&t->world, t->model.params, n, 0, e) ||
                   (moments && (dist_bcast_floats(&t->world, t->adam_m, n, 0, e) ||
                                dist_bcast_floats(&t->world, t->adam_v, n, 0, e)))
               ? -1 : 0;
}
