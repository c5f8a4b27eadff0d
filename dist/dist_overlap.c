/* dist_overlap: the overlap engine of dist_grad (DIST_GS_OVERLAP). Each
 * range of the gradient buffer that the model announces as final gets its
 * own non-blocking ring allreduce over point-to-point messages, advanced by
 * dist_ring_progress whenever the caller lets MPI run (between vocabulary
 * blocks and LSTM steps, see lm_step_opts.on_progress) and completed by
 * dist_ring_wait in finish.
 *
 * Why not MPI_Iallreduce: Open MPI's libnbc picks a binomial tree for an
 * in-place sum at p < 4 (twice the bytes of a ring at p = 2), and a
 * collective schedule moves only one round per test; a hand-made ring moves
 * 2(p-1)/p of the range per rank, the bandwidth optimum, and several ranges
 * stream at once.
 *
 * The ring over p ranks on range [0, n), parts k = [k n / p, (k+1) n / p):
 *   reduce-scatter, steps s = 0 .. p-2: send part (r - s) to rank r+1,
 *     receive part (r - s - 1) from rank r-1 into tmp, part += tmp;
 *   allgather, steps a = 0 .. p-2: send part (r + 1 - a) to rank r+1,
 *     receive part (r - a) from rank r-1 straight into place.
 * Invariants:
 * - Each part is summed on one rank only, in a fixed order (ranks r-p+1 ..
 *   r around the ring), then copied: every rank ends with the same bits, and
 *   the same bits run to run. At p = 2 each element is one a + b, so the
 *   result is bitwise that of MPI_Allreduce (IEEE addition commutes).
 * - A step's two messages both complete before its next step is posted, so
 *   a buffer is never read and written at once. Ranges are independent
 *   (tag = slot), so any number stream at once.
 * - Memory: one part-sized receive buffer per slot, grown once and kept;
 *   slots are reused step after step.
 * - 16-bit ranges (DIST_GS_WIRE_*): every partial sum is widened, added in
 *   fp32 and rounded back (dist_wire_add), as the 16-bit MPI op does; at
 *   p = 2 that is one round(a + b), bitwise the non-overlapped 16-bit sum. */
#include "dist_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct ring_range {
    char *buf;    /* the range (in the gradient buffer, or its 16-bit copy) */
    size_t n;     /* its elements */
    int step;     /* next step to complete: 0 .. 2(p-1); 2(p-1) = done */
    void *tmp;    /* one part, for the reduce-scatter */
    size_t tmp_cap; /* elements */
} ring_range;

struct dist_ring {
    MPI_Comm comm;
    int rank, size;
    int wire;           /* DIST_WIRE_*: the elements */
    size_t esz;         /* bytes per element */
    MPI_Datatype dt;
    ring_range *r;      /* slots [0, cap); [0, used) started this step */
    MPI_Request *req;   /* [2 cap]: slot i's send and receive at 2i, 2i+1 */
    int *idx;           /* [2 cap] for MPI_Testsome / Waitsome */
    int cap, used, done;
};

static size_t part_lo(size_t n, int p, int k) { return (size_t)k * n / (size_t)p; }
static int mod(int a, int p) { return ((a % p) + p) % p; }

int dist_ring_create(MPI_Comm comm, int wire, dist_ring **out, lm_err *e) {
    dist_ring *g = calloc(1, sizeof *g);
    if (!g) return lm_err_set(e, "dist: out of memory for the overlap engine");
    g->comm = comm;
    g->wire = wire;
    g->esz = wire ? sizeof(uint16_t) : sizeof(float);
    g->dt = wire ? MPI_UINT16_T : MPI_FLOAT;
    MPI_Comm_rank(comm, &g->rank);
    MPI_Comm_size(comm, &g->size);
    *out = g;
    return 0;
}

void dist_ring_free(dist_ring *g) {
    if (!g) return;
    for (int i = 0; i < g->cap; i++) free(g->r[i].tmp);
    free(g->r), free(g->req), free(g->idx);
    free(g);
}

/* Posts step r->step of slot i. */
static int post(dist_ring *g, int i, lm_err *e) {
    ring_range *r = &g->r[i];
    const int p = g->size, me = g->rank, s = r->step, rs = s < p - 1;
    const int a = rs ? s : s - (p - 1);
    int send = rs ? mod(me - s, p) : mod(me + 1 - a, p), recv = rs ? mod(me - s - 1, p) : mod(me - a, p);
    size_t s0 = part_lo(r->n, p, send), s1 = part_lo(r->n, p, send + 1);
    size_t r0 = part_lo(r->n, p, recv), r1 = part_lo(r->n, p, recv + 1);
    void *dst = rs ? r->tmp : r->buf + r0 * g->esz;
    int right = mod(me + 1, p), left = mod(me - 1, p);
    if (dist_mpi_check(MPI_Irecv(dst, (int)(r1 - r0), g->dt, left, i, g->comm, &g->req[2 * i + 1]),
                       "MPI_Irecv (overlapped output layer gradient)", e) ||
        dist_mpi_check(MPI_Isend(r->buf + s0 * g->esz, (int)(s1 - s0), g->dt, right, i, g->comm, &g->req[2 * i]),
                       "MPI_Isend (overlapped output layer gradient)", e))
        return -1;
    return 0;
}

/* Both messages of slot i's current step are in: add (reduce-scatter),
 * then post the next step or mark the range done. */
static int complete(dist_ring *g, int i, lm_err *e) {
    ring_range *r = &g->r[i];
    const int p = g->size;
    if (r->step < p - 1) {
        int k = mod(g->rank - r->step - 1, p);
        size_t lo = part_lo(r->n, p, k), m = part_lo(r->n, p, k + 1) - lo;
        if (g->wire) {
            dist_wire_add(g->wire, r->tmp, (uint16_t *)(void *)(r->buf + lo * g->esz), m);
        } else {
            float *restrict dst = (float *)(void *)r->buf + lo;
            const float *restrict src = r->tmp;
            for (size_t j = 0; j < m; j++) dst[j] += src[j];
        }
    }
    if (++r->step < 2 * (p - 1)) return post(g, i, e);
    g->done++;
    return 0;
}

static int grow(dist_ring *g, lm_err *e) {
    int cap = g->cap ? 2 * g->cap : 8;
    ring_range *r = realloc(g->r, (size_t)cap * sizeof *r);
    if (r) g->r = r;
    MPI_Request *q = r ? realloc(g->req, 2 * (size_t)cap * sizeof *q) : NULL;
    if (q) g->req = q;
    int *x = q ? realloc(g->idx, 2 * (size_t)cap * sizeof *x) : NULL;
    if (!x) return lm_err_set(e, "dist: out of memory for the overlap engine (%d ranges)", cap);
    g->idx = x;
    for (int i = g->cap; i < cap; i++) {
        memset(&g->r[i], 0, sizeof g->r[i]);
        g->req[2 * i] = g->req[2 * i + 1] = MPI_REQUEST_NULL;
    }
    g->cap = cap;
    return 0;
}

int dist_ring_start(dist_ring *g, void *buf, size_t n, lm_err *e) {
    if (n == 0) return 0;
    if (n > (size_t)INT_MAX) return lm_err_set(e, "dist: range of %zu floats exceeds one MPI message", n);
    if (g->used == g->cap && grow(g, e)) return -1;
    int i = g->used++;
    ring_range *r = &g->r[i];
    size_t part = n / (size_t)g->size + 1;
    if (part > r->tmp_cap) {
        free(r->tmp);
        r->tmp = malloc(part * g->esz);
        r->tmp_cap = r->tmp ? part : 0;
        if (!r->tmp) return lm_err_set(e, "dist: out of memory for a ring buffer of %zu values", part);
    }
    r->buf = buf, r->n = n, r->step = 0;
    return post(g, i, e);
}

/* Advances every slot whose step completed; wait: block until one does. */
static int advance(dist_ring *g, int wait, lm_err *e) {
    int out = 0;
    int rc = wait ? MPI_Waitsome(2 * g->used, g->req, &out, g->idx, MPI_STATUSES_IGNORE)
                  : MPI_Testsome(2 * g->used, g->req, &out, g->idx, MPI_STATUSES_IGNORE);
    if (dist_mpi_check(rc, "MPI_Testsome (overlapped output layer gradient)", e)) return -1;
    if (out == MPI_UNDEFINED) return 0;
    for (int k = 0; k < out; k++) {
        int i = g->idx[k] / 2;
        ring_range *r = &g->r[i];
        if (r->step < 2 * (g->size - 1) && g->req[2 * i] == MPI_REQUEST_NULL &&
            g->req[2 * i + 1] == MPI_REQUEST_NULL && complete(g, i, e))
            return -1;
    }
    return 0;
}

int dist_ring_progress(dist_ring *g, lm_err *e) {
    return g->done < g->used ? advance(g, 0, e) : 0;
}

int dist_ring_wait(dist_ring *g, lm_err *e) {
    int rc = 0;
    while (rc == 0 && g->done < g->used) rc = advance(g, 1, e);
    g->used = g->done = 0;
    return rc;
}
