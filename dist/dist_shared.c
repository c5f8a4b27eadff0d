/* dist_shared: the gradient exchange and optimizer state of ranks that share
 * one host, through MPI shared-memory windows instead of messages (dist.h).
 *
 * Two windows on a duplicate of the world's communicator (every rank on one
 * host: MPI_Comm_split_type SHARED gave one group):
 *   state  rank 0's segment holds params | m | v, n_pad floats each; every
 *          rank maps it (MPI_Win_shared_query);
 *   grads  one segment of n_pad floats per rank, each mapped by all.
 * n_pad rounds n up to a 4 KiB multiple so that every array starts on a
 * page (query() rounds each segment's start up to one). Both
 * windows sit in one passive-target epoch (MPI_Win_lock_all) from create to
 * free; dist_shared_barrier is MPI_Win_sync, MPI_Barrier, MPI_Win_sync, the
 * MPI-3 way to order plain loads and stores across the ranks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist_internal.h"
#include "lm_par.h"
#include "lm_sys.h"

struct dist_shared {
    MPI_Comm comm;
    MPI_Win state_win, grad_win;
    int state_locked, grad_locked;
    int rank, size;
    size_t n, lo, hi;
    float *params, *m, *v;
    float **grads; /* [size]: each rank's gradient */
    double comm_s; /* since the last dist_shared_take_comm_s */
};

static size_t pad_floats(size_t n) { return (n * sizeof(float) + 4095) / 4096 * 4096 / sizeof(float); }

/* Allocates a shared window with a segment of `bytes` on this rank. */
static int alloc_window(dist_shared *s, size_t bytes, MPI_Win *win, void **base, lm_err *e) {
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    int rc = dist_mpi_check(MPI_Win_allocate_shared((MPI_Aint)bytes, sizeof(float), info, s->comm, base, win),
                            "MPI_Win_allocate_shared", e);
    MPI_Info_free(&info);
    return rc;
}

/* *out := the first page boundary in rank r's segment of win. Open MPI
 * starts segments 8 bytes past one (a header); every process maps the
 * shared memory at page-aligned addresses, so the rounding skips the same
 * bytes in each. The segments carry one page more for it. */
static int query(MPI_Win win, int r, float **out, lm_err *e) {
    MPI_Aint size;
    int disp;
    void *base;
    if (dist_mpi_check(MPI_Win_shared_query(win, r, &size, &disp, &base), "MPI_Win_shared_query", e)) return -1;
    uintptr_t a = ((uintptr_t)base + 4095) / 4096 * 4096;
    *out = (float *)a;
    return 0;
}

static int map_windows(dist_shared *s, size_t np, lm_err *e) {
    void *base;
    float *state;
    if (alloc_window(s, s->rank == 0 ? 3 * np * sizeof(float) + 4096 : 0, &s->state_win, &base, e) ||
        alloc_window(s, np * sizeof(float) + 4096, &s->grad_win, &base, e))
        return -1;
    if (dist_mpi_check(MPI_Win_lock_all(MPI_MODE_NOCHECK, s->state_win), "MPI_Win_lock_all", e)) return -1;
    s->state_locked = 1;
    if (dist_mpi_check(MPI_Win_lock_all(MPI_MODE_NOCHECK, s->grad_win), "MPI_Win_lock_all", e)) return -1;
    s->grad_locked = 1;
    if (query(s->state_win, 0, &state, e)) return -1;
    s->params = state, s->m = state + np, s->v = state + 2 * np;
    for (int r = 0; r < s->size; r++)
        if (query(s->grad_win, r, &s->grads[r], e)) return -1;
    return 0;
}

dist_shared *dist_shared_create(const dist_world *w, size_t n, size_t lo, size_t hi, lm_err *e) {
    if (!w->mpi || w->size < 2) {
        lm_err_set(e, "dist: a shared-memory exchange needs 2 or more MPI ranks");
        return NULL;
    }
    dist_shared *s = calloc(1, sizeof *s);
    if (s) s->grads = calloc((size_t)w->size, sizeof *s->grads);
    if (!s || !s->grads) {
        free(s);
        lm_err_set(e, "dist: out of memory for the shared-memory exchange");
        return NULL;
    }
    s->comm = MPI_COMM_NULL;
    s->state_win = s->grad_win = MPI_WIN_NULL;
    s->rank = w->rank, s->size = w->size, s->n = n, s->lo = lo, s->hi = hi;
    if (dist_comm_dup(dist_comm(w), &s->comm, e) || map_windows(s, pad_floats(n), e)) {
        dist_shared_free(s);
        return NULL;
    }
    /* Each rank first touches (zeroes) what it will write: its gradient and
     * its slice of the moments. Rank 0 zeroes the parameters, which it
     * initialises or loads. */
    memset(s->grads[s->rank], 0, n * sizeof(float));
    memset(s->m + lo, 0, (hi - lo) * sizeof(float));
    memset(s->v + lo, 0, (hi - lo) * sizeof(float));
    if (s->rank == 0) memset(s->params, 0, n * sizeof(float));
    if (dist_shared_barrier(s, e)) {
        dist_shared_free(s);
        return NULL;
    }
    return s;
}

void dist_shared_free(dist_shared *s) {
    if (!s) return;
    if (s->grad_locked) MPI_Win_unlock_all(s->grad_win);
    if (s->state_locked) MPI_Win_unlock_all(s->state_win);
    if (s->grad_win != MPI_WIN_NULL) MPI_Win_free(&s->grad_win);
    if (s->state_win != MPI_WIN_NULL) MPI_Win_free(&s->state_win);
    if (s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    free(s->grads);
    free(s);
}

float *dist_shared_params(const dist_shared *s) { return s->params; }
float *dist_shared_adam_m(const dist_shared *s) { return s->m; }
float *dist_shared_adam_v(const dist_shared *s) { return s->v; }
float *dist_shared_grads(const dist_shared *s) { return s->grads[s->rank]; }

int dist_shared_barrier(dist_shared *s, lm_err *e) {
    double t0 = lm_sys_now();
    MPI_Win_sync(s->grad_win);
    MPI_Win_sync(s->state_win);
    int rc = dist_mpi_check(MPI_Barrier(s->comm), "MPI_Barrier (shared memory)", e);
    MPI_Win_sync(s->grad_win);
    MPI_Win_sync(s->state_win);
    s->comm_s += lm_sys_now() - t0;
    return rc;
}

/* ---- the sum of this rank's slice ---------------------------------------- */

#define SUM_BLOCK 2048 /* floats summed in a stack buffer at a time (8 KiB) */

typedef struct {
    float *const *g;
    float *out;
    int size;
    size_t lo, hi;
    int parts;
} sum_job;

/* out[i] := g[0][i] + g[1][i] + ... + g[size-1][i], added in rank order,
 * over piece k of [lo, hi) (pieces on 16-float boundaries). */
static void sum_piece(void *ctx, int k) {
    const sum_job *j = ctx;
    size_t units = (j->hi - j->lo + 15) / 16;
    size_t a = j->lo + units * (size_t)k / (size_t)j->parts * 16;
    size_t b = j->lo + units * (size_t)(k + 1) / (size_t)j->parts * 16;
    if (b > j->hi) b = j->hi;
    float acc[SUM_BLOCK];
    for (size_t i = a; i < b; i += SUM_BLOCK) {
        size_t len = b - i < SUM_BLOCK ? b - i : SUM_BLOCK;
        memcpy(acc, j->g[0] + i, len * sizeof *acc);
        for (int r = 1; r < j->size; r++) {
            const float *restrict src = j->g[r] + i;
            for (size_t t = 0; t < len; t++) acc[t] += src[t];
        }
        memcpy(j->out + i, acc, len * sizeof *acc);
    }
}

int dist_shared_reduce(dist_shared *s, int threads, lm_err *e) {
    if (dist_shared_barrier(s, e)) return -1; /* every rank's backward is done */
    double t0 = lm_sys_now();
    int parts = threads > 1 ? threads : 1;
    sum_job j = {s->grads, s->grads[s->rank], s->size, s->lo, s->hi, parts};
    if (s->hi > s->lo) lm_par_run(sum_piece, &j, parts, parts);
    s->comm_s += lm_sys_now() - t0;
    return 0;
}

double dist_shared_take_comm_s(dist_shared *s) {
    double c = s->comm_s;
    s->comm_s = 0;
    return c;
}
