/* dist_coll: the small collectives the train loop uses at step and
 * evaluation boundaries (decisions, sums, flags, broadcasts, checksums).
 *
 * Invariants: with size 1 each function is a local no-op (or a local
 * computation) and never touches MPI. Sums that every rank uses are formed
 * by gathering and adding in rank order, so they do not depend on which
 * reduction algorithm the MPI library picks. */
#include "dist_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lm_sys.h"

/* Largest piece one MPI call moves: counts are int. */
#define DIST_MAX_PIECE ((size_t)1 << 30)

/* Broadcast of n elements of type t (size esz) in pieces of int counts. */
static int bcast_pieces(const dist_world *w, void *buf, size_t n, size_t esz,
                        MPI_Datatype t, int root, lm_err *e) {
    if (root < 0 || root >= w->size)
        return lm_err_set(e, "dist: broadcast root %d outside world of %d", root, w->size);
    if (w->size == 1) return 0;
    for (size_t off = 0; off < n; off += DIST_MAX_PIECE) {
        size_t k = n - off < DIST_MAX_PIECE ? n - off : DIST_MAX_PIECE;
        if (dist_mpi_check(MPI_Bcast((char *)buf + off * esz, (int)k, t, root, dist_comm(w)),
                           "MPI_Bcast", e))
            return -1;
    }
    return 0;
}

int dist_bcast_bytes(const dist_world *w, void *buf, size_t n, int root, lm_err *e) {
    return bcast_pieces(w, buf, n, 1, MPI_BYTE, root, e);
}

int dist_bcast_floats(const dist_world *w, float *buf, size_t n, int root, lm_err *e) {
    return bcast_pieces(w, buf, n, sizeof(float), MPI_FLOAT, root, e);
}

int dist_bcast_decision(const dist_world *w, dist_decision *d, lm_err *e) {
    /* Packed as 4 ints (lr by its bit pattern): no padding bytes travel. */
    int32_t p[4];
    memcpy(&p[0], &d->lr, sizeof(float));
    p[1] = d->stop;
    p[2] = d->save;
    p[3] = d->reason;
    if (w->size > 1 &&
        dist_mpi_check(MPI_Bcast(p, 4, MPI_INT32_T, 0, dist_comm(w)), "MPI_Bcast (decision)", e))
        return -1;
    memcpy(&d->lr, &p[0], sizeof(float));
    d->stop = p[1];
    d->save = p[2];
    d->reason = p[3];
    return 0;
}

int dist_sum_doubles(const dist_world *w, double *v, int n, lm_err *e) {
    if (n < 0) return lm_err_set(e, "dist: dist_sum_doubles with n = %d", n);
    if (w->size == 1 || n == 0) return 0;
    if ((size_t)n > (size_t)INT_MAX / (size_t)w->size)
        return lm_err_set(e, "dist: dist_sum_doubles of %d values is too large", n);
    double *all = malloc((size_t)n * (size_t)w->size * sizeof *all);
    if (!all) return lm_err_set(e, "dist: out of memory gathering %d doubles", n);
    if (dist_mpi_check(MPI_Allgather(v, n, MPI_DOUBLE, all, n, MPI_DOUBLE, dist_comm(w)),
                       "MPI_Allgather (sum of doubles)", e)) {
        free(all);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        double s = all[i];
        for (int r = 1; r < w->size; r++) s += all[(size_t)r * (size_t)n + (size_t)i];
        v[i] = s;
    }
    free(all);
    return 0;
}

int dist_any(const dist_world *w, int flag, int *any, lm_err *e) {
    int f = flag != 0;
    if (w->size > 1 &&
        dist_mpi_check(MPI_Allreduce(MPI_IN_PLACE, &f, 1, MPI_INT, MPI_MAX, dist_comm(w)),
                       "MPI_Allreduce (any flag)", e))
        return -1;
    *any = f;
    return 0;
}

int dist_check_identical(const dist_world *w, const float *buf, size_t n, lm_err *e) {
    if (w->size == 1) return 0;
    uint64_t h = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, buf, n * sizeof(float));
    uint64_t *all = malloc((size_t)w->size * sizeof *all);
    if (!all) return lm_err_set(e, "dist: out of memory for %d checksums", w->size);
    if (dist_mpi_check(MPI_Allgather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, dist_comm(w)),
                       "MPI_Allgather (checksums)", e)) {
        free(all);
        return -1;
    }
    int bad = -1;
    for (int r = 1; r < w->size && bad < 0; r++)
        if (all[r] != all[0]) bad = r;
    int rc = 0;
    if (bad >= 0)
        rc = lm_err_set(e,
                        "dist: parameters differ across ranks: rank %d has FNV-1a %016llx, "
                        "rank 0 has %016llx (%zu floats)",
                        bad, (unsigned long long)all[bad], (unsigned long long)all[0], n);
    free(all);
    return rc;
}
