/* dist_shared: the gradient exchange and optimizer state of ranks that share
 * one host, in one POSIX shared-memory object instead of messages (dist.h).
 *
 * Layout of the object (n_pad floats per array: n rounded up to whole 4 KiB
 * pages, so that every array starts on a page):
 *   params | m | v | grads of rank 0 | grads of rank 1 | ...
 * Rank 0 creates it in /dev/shm (shm_open) and reserves every page up front
 * with posix_fallocate, so that a full /dev/shm (a container's 64 MB one)
 * is one clean error on every rank instead of a SIGBUS at first touch; the
 * pages come zeroed. Every rank maps it; once all have, rank 0 unlinks the
 * name, so nothing is left behind however the job ends. (MPI-3 shared
 * windows were the first choice, but Open MPI 4.1's osc/sm hangs the other
 * ranks in MPI_Win_allocate_shared when its backing directory is full.)
 * Ordering: dist_shared_barrier is a sequentially consistent fence, an
 * MPI_Barrier and another fence. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dist_internal.h"
#include "lm_par.h"
#include "lm_sys.h"

struct dist_shared {
    MPI_Comm comm;
    int rank, size;
    size_t n, lo, hi, bytes;
    void *base; /* the mapping, bytes long (MAP_FAILED: none) */
    float *params, *m, *v;
    float **grads; /* [size]: each rank's gradient */
    double comm_s; /* since the last dist_shared_take_comm_s */
};

static size_t pad_floats(size_t n) { return (n * sizeof(float) + 4095) / 4096 * 4096 / sizeof(float); }

/* Rank 0: creates the object `name` of s->bytes with every page reserved.
 * Returns an open fd, or -1 with e (the name is gone again then). */
static int create_object(dist_shared *s, char *name, size_t cap, lm_err *e) {
    int fd = -1;
    for (int k = 0; k < 8 && fd < 0; k++) {
        snprintf(name, cap, "/lyricmind-%ld-%llx-%d", (long)getpid(),
                 (unsigned long long)(lm_sys_now() * 1e6), k);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) return lm_err_set(e, "dist: shm_open %s: %s", name, strerror(errno));
    int rc = ftruncate(fd, (off_t)s->bytes) ? errno : posix_fallocate(fd, 0, (off_t)s->bytes);
    if (rc == 0) return fd;
    struct statvfs st;
    double free_mb = statvfs("/dev/shm", &st) ? -1 : (double)st.f_bavail * (double)st.f_frsize / 1048576.0;
    lm_err_set(e, "dist: no room for %.0f MB of shared memory in /dev/shm (%s; %.0f MB free): a bigger /dev/shm "
                  "(docker run --shm-size), or --exchange mpi", (double)s->bytes / 1048576.0, strerror(rc), free_mb);
    close(fd);
    shm_unlink(name);
    return -1;
}

/* Every rank maps rank 0's object; -1 on every rank if any rank failed. */
static int map_object(dist_shared *s, lm_err *e) {
    char name[96] = "";
    int fd = -1, status = 0;
    if (s->rank == 0 && (fd = create_object(s, name, sizeof name, e)) < 0) status = 1;
    if (dist_mpi_check(MPI_Bcast(&status, 1, MPI_INT, 0, s->comm), "MPI_Bcast (shared memory)", e) ||
        dist_mpi_check(MPI_Bcast(name, sizeof name, MPI_CHAR, 0, s->comm), "MPI_Bcast (shared memory)", e))
        return -1;
    if (status) return s->rank == 0 ? -1 : lm_err_set(e, "dist: rank 0 could not create the shared memory");
    int failed = 0;
    if (s->rank != 0 && (fd = shm_open(name, O_RDWR, 0)) < 0)
        failed = lm_err_set(e, "dist: shm_open %s: %s", name, strerror(errno)) != 0;
    if (!failed) {
        s->base = mmap(NULL, s->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (s->base == MAP_FAILED)
            failed = lm_err_set(e, "dist: mmap of %zu bytes of shared memory: %s", s->bytes, strerror(errno)) != 0;
    }
    if (fd >= 0) close(fd);
    int any = 0;
    int rc = dist_mpi_check(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, s->comm), "MPI_Allreduce", e);
    if (s->rank == 0) shm_unlink(name); /* every rank has mapped it, or gave up */
    if (rc) return -1;
    if (any && !failed) lm_err_set(e, "dist: another rank could not map the shared memory");
    return any ? -1 : 0;
}

dist_shared *dist_shared_create(const dist_world *w, size_t n, size_t lo, size_t hi, lm_err *e) {
    if (!w->mpi || w->size < 2) {
        lm_err_set(e, "dist: a shared-memory exchange needs 2 or more MPI ranks");
        return NULL;
    }
    dist_shared *s = calloc(1, sizeof *s);
    float **grads = calloc((size_t)w->size, sizeof *grads);
    int oom = !s || !grads, any = 0;
    if (dist_mpi_check(MPI_Allreduce(&oom, &any, 1, MPI_INT, MPI_MAX, dist_comm(w)), "MPI_Allreduce", e) || any) {
        if (any) lm_err_set(e, "dist: out of memory for the shared-memory exchange");
        free(s), free(grads);
        return NULL;
    }
    const size_t np = pad_floats(n);
    *s = (dist_shared){MPI_COMM_NULL, w->rank, w->size, n, lo, hi, (3 + (size_t)w->size) * np * sizeof(float),
                       MAP_FAILED, NULL, NULL, NULL, grads, 0};
    if (dist_comm_dup(dist_comm(w), &s->comm, e) || map_object(s, e)) {
        dist_shared_free(s);
        return NULL;
    }
    float *f = s->base;
    s->params = f, s->m = f + np, s->v = f + 2 * np;
    for (int r = 0; r < s->size; r++) s->grads[r] = f + (3 + (size_t)r) * np;
    return s;
}

void dist_shared_free(dist_shared *s) {
    if (!s) return;
    if (s->base != MAP_FAILED) munmap(s->base, s->bytes);
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
    atomic_thread_fence(memory_order_seq_cst);
    int rc = dist_mpi_check(MPI_Barrier(s->comm), "MPI_Barrier (shared memory)", e);
    atomic_thread_fence(memory_order_seq_cst);
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
