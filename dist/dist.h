/* dist: everything that talks MPI. The rest of LyricMind sees a world as a
 * plain struct {rank, size} and calls the functions below; mpi.h never leaks
 * out of dist/.
 *
 * Contract:
 * - World size 1 (a plain `lyricmind train` without a launcher, or
 *   `mpirun -np 1`) takes the same code path; every collective is then a
 *   cheap local no-op. Without a launcher MPI is not even initialised.
 * - Every collective here must be called by all ranks, in the same order,
 *   with the same sizes and flags (the usual MPI rule). They return 0, or -1
 *   with one line in lm_err; a collective that failed on one rank may leave
 *   the others waiting, so on -1 the jobs layer reports and calls
 *   dist_world_abort, which makes the launcher end every rank.
 * - Reductions that feed the parameters (the gradient sum) give BITWISE the
 *   same result on every rank and the same result run to run for the same
 *   world size and flags; dist_check_identical verifies it (docs/dist.md).
 * - Nothing here prints or exits, except dist_world_abort. */
#ifndef DIST_H
#define DIST_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "lm_model.h"

/* ---- world ------------------------------------------------------------ */

typedef struct dist_world {
    int rank, size;
    int mpi;              /* 1: MPI is in use; 0: lone process, size 1 */
    int initialized_here; /* we called MPI_Init and must finalize */
    int comm;             /* our duplicate of MPI_COMM_WORLD (Fortran handle) */
} dist_world;

/* Starts MPI (MPI_Init_thread, FUNNELED: only the main thread calls MPI) when
 * the process was started by a launcher (mpirun/mpiexec/srun: detected from
 * their environment variables) or MPI is already initialised, and fills
 * rank/size. A process started without a launcher gets rank 0, size 1 and no
 * MPI at all. Environment LM_DIST_MPI=1 forces MPI (Open MPI singleton),
 * LM_DIST_MPI=0 forbids it. */
int dist_world_init(dist_world *w, int *argc, char ***argv, lm_err *e);
/* Collective. Finalizes MPI if dist_world_init initialised it. */
void dist_world_finalize(dist_world *w);
/* Ends the whole job: MPI_Abort (every rank dies, mpirun exits with code),
 * or exit(code) when MPI is not in use. Never returns. */
void dist_world_abort(const dist_world *w, int code) __attribute__((noreturn));
int dist_barrier(const dist_world *w, lm_err *e);
/* Collective. *hosts := the number of hosts the ranks run on: groups of
 * ranks that share memory (MPI_Comm_split_type MPI_COMM_TYPE_SHARED, which
 * Open MPI answers from the launcher's node map, not the host name: the
 * emulated hosts of tests/cluster, which share one host name, count as
 * separate hosts). World size 1: 1. */
int dist_world_hosts(const dist_world *w, int *hosts, lm_err *e);

/* ---- small collectives (dist_coll.c) ----------------------------------- */

/* Rank 0's decision at an evaluation/step boundary, the same on every rank
 * after dist_bcast_decision. */
typedef struct dist_decision {
    float lr;   /* learning rate for the next steps */
    int stop;   /* 1: stop training (early stopping, max steps, signal) */
    int save;   /* 1: write a checkpoint now */
    int reason; /* caller-defined code, e.g. why stop/save */
} dist_decision;

/* Copies rank 0's *d into *d on every rank. */
int dist_bcast_decision(const dist_world *w, dist_decision *d, lm_err *e);
/* v[0..n) := the sum over ranks of v[0..n), added in rank order 0,1,..
 * (gathered, then summed locally), so the result is exact-order
 * deterministic and identical on every rank for any world size. For a few
 * values (loss sums, token counts); n * size doubles travel. */
int dist_sum_doubles(const dist_world *w, double *v, int n, lm_err *e);
/* *any := 1 if flag != 0 on any rank, else 0 (signal agreement at a step
 * boundary: a rank that caught SIGTERM passes 1). */
int dist_any(const dist_world *w, int flag, int *any, lm_err *e);
/* Copies root's buf[0..n) to every rank (initial parameters, settings). */
int dist_bcast_floats(const dist_world *w, float *buf, size_t n, int root,
                      lm_err *e);
int dist_bcast_bytes(const dist_world *w, void *buf, size_t n, int root,
                     lm_err *e);
/* Debug check that buf[0..n) holds the same bytes on every rank: allgathers
 * the FNV-1a 64 of each rank's floats. Returns 0 if all equal, else -1 on
 * every rank with an error naming the first rank that differs from rank 0. */
int dist_check_identical(const dist_world *w, const float *buf, size_t n,
                         lm_err *e);

/* ---- ranks on one host: shared memory (dist_shared.c) -------------------
 * When every rank runs on one host the exchange needs no messages: the
 * parameters and Adam's moments live once, in a POSIX shared-memory object
 * that every rank maps, and each rank's gradient beside them, where the
 * others read it. Each rank owns a slice [lo, hi) of the parameters (the
 * caller chooses it: train gives each rank whole optimizer parts,
 * lm_optim_part_range) and runs the optimizer on that slice only. A step:
 *   1. the backward writes this rank's whole gradient (dist_shared_grads);
 *   2. dist_shared_reduce: a barrier (every backward done), then grads[lo, hi)
 *      of this rank := the sum over ranks, added in rank order 0, 1, ... (for
 *      2 ranks bitwise the MPI sum of dist_grad_sync);
 *   3. the caller's optimizer on [lo, hi), after one more collective that
 *      every rank reaches after its step 2 (train: the norm's part sums,
 *      dist_sum_doubles), so that no rank reads a gradient the next
 *      backward overwrites;
 *   4. dist_shared_barrier: every slice written; the next forward may read
 *      the parameters.
 * The arrays are page-aligned, n floats each, and start zeroed. A caller
 * that writes the parameters or moments outside its slice (rank 0
 * initialising or loading them) calls dist_shared_barrier before any other
 * rank reads them. Collective: create, free, reduce, barrier. */
typedef struct dist_shared dist_shared;
/* NULL with e on failure, on every rank alike: world size < 2, no room in
 * /dev/shm for (3 + size) x n floats (every page is reserved at create, so a
 * full /dev/shm is this error, not a SIGBUS later), or ranks that cannot
 * map it (several hosts). */
dist_shared *dist_shared_create(const dist_world *w, size_t n, size_t lo, size_t hi, lm_err *e);
void dist_shared_free(dist_shared *s);
float *dist_shared_params(const dist_shared *s);
float *dist_shared_adam_m(const dist_shared *s);
float *dist_shared_adam_v(const dist_shared *s);
float *dist_shared_grads(const dist_shared *s); /* this rank's */
/* The sum over threads pieces of [lo, hi) (the result does not depend on
 * threads: each element is summed alone). */
int dist_shared_reduce(dist_shared *s, int threads, lm_err *e);
int dist_shared_barrier(dist_shared *s, lm_err *e);
/* Seconds spent in reduce and barrier since the last call (communication
 * time in the train log). */
double dist_shared_take_comm_s(dist_shared *s);

/* ---- gradient synchronisation (dist_grad.c) ---------------------------- */

/* Where things are in the one gradient buffer of n floats:
 *   [0, head)         reduced as soon as it is final (fc.weight, fc.bias)
 *   [head, emb)       reduced in finish (the LSTM: small)
 *   [emb, n)          the embedding gradient [V,E], row t = token t; only
 *                     rows of tokens in the global batch can be non-zero.
 * n == emb + V*E, head <= emb. */
typedef struct dist_grad_layout {
    size_t n, head, emb;
    int V, E;
    size_t row; /* floats per fc.weight row (H): rows [r0, r1) of the head are
                   [r0 row, r1 row); 0 when the head has no rows (tests) */
} dist_grad_layout;

/* The layout of an lm_model's gradient buffer (see lm_model.h). */
dist_grad_layout dist_grad_layout_of_model(const lm_model *m);

/* Overlap (DIST_GS_OVERLAP) hides the head's exchange behind the rest of
 * the backward: each range of fc.weight rows the model announces as final
 * (lm_step_opts.on_head_rows) starts its own non-blocking ring allreduce
 * over point-to-point messages, advanced by the model's on_progress calls,
 * completed in finish (docs/dist.md). It pays over a network (measured
 * over an emulated 1 Gbit/s link at p = 2: the exposed exchange fell to
 * 38-51% at the spec batch, a third at 32 sequences per rank in one row
 * chunk); over
 * shared memory the exchange is short and overlap gains little. */
/* A head range is sent as ring allreduces of at most this many floats
 * (1 MiB), all in flight at once: over the emulated 1 Gbit/s TCP link at
 * p = 2 the 26 MB head went in 231-268 ms in pieces of 2^18 floats (234 at
 * 2^17, 294 at 2^19, 292 at 2^16), 322 ms in 8 pieces and 444-456 ms as one
 * (or one blocking MPI_Allreduce): Open MPI's TCP transport keeps only a
 * few fragments of one message in flight, so several messages fill the
 * link better (docs/scaling.md). */
#define DIST_RING_PIECE ((size_t)1 << 18)

enum {
    DIST_GS_OVERLAP = 1u,     /* sum the head's rows as they become final */
    DIST_GS_DENSE_EMB = 2u,   /* always reduce the embedding densely */
    DIST_GS_SPARSE_EMB = 4u,  /* always sparsely (tests, benchmarks) */
    DIST_GS_CHECK_ROWS = 8u,  /* debug: finish fails if a row outside this
                                 rank's tokens is non-zero (O(V*E) scan) */
    DIST_GS_WIRE_BF16 = 16u,  /* head [0, head) travels as bfloat16 */
    DIST_GS_WIRE_FP16 = 32u,  /* head [0, head) travels as IEEE fp16 */
};

/* 16-bit wire formats (dist_wire.c). With DIST_GS_WIRE_BF16 or _FP16 the
 * head gradient is rounded (to nearest even) to 16 bits on each rank and
 * summed by an allreduce whose op widens both operands to fp32, adds and
 * rounds back, so half the bytes travel; every partial sum is rounded once
 * more (2p - 1 roundings per element over p ranks, each <= 2^-8 relative
 * for bf16, 2^-11 for fp16 in its normal range 2^-14..65504). Every rank
 * gets the same bits. With DIST_GS_OVERLAP the announced rows go through
 * the overlap engine's ring in 16 bits (each partial sum widened, added and
 * rounded alike: at p = 2 bitwise the blocking 16-bit sum) and the rest of
 * the head (fc.bias) through the op in finish. World size 1: no rounding. */
enum { DIST_WIRE_FP32 = 0, DIST_WIRE_BF16 = 1, DIST_WIRE_FP16 = 2 };
void dist_wire_pack(int kind, const float *src, uint16_t *dst, size_t n);
void dist_wire_unpack(int kind, const uint16_t *src, float *dst, size_t n);

typedef struct dist_grad_sync dist_grad_sync;

typedef struct dist_grad_stats {
    double comm_s;       /* last step: seconds spent inside the calls below
                            (start in the hook, progress, finish) */
    double wait_s;       /* last step: of comm_s, seconds inside finish (the
                            exchange left exposed after the backward) */
    double total_comm_s; /* all steps since create */
    long steps;          /* finished steps since create */
    long union_rows;     /* last step: |U|, distinct tokens in the global
                            batch; -1 when not known (no tokens given) */
    int sparse;          /* last step: embedding went sparse */
    int overlapped;      /* last step: head reduction started from the hooks */
    int ranges;          /* last step: ring allreduces of the head (overlap;
                            each announced range in DIST_RING_PIECE pieces) */
    size_t floats;       /* last step: floats this rank put into reductions */
} dist_grad_stats;

/* Collective. grads is the caller's buffer of L->n floats (lm_model.grads);
 * it must stay put while the sync lives. flags: DIST_GS_*, the same on every
 * rank. Returns NULL with e filled on bad layout or OOM. */
dist_grad_sync *dist_grad_sync_create(const dist_world *w, float *grads,
                                      const dist_grad_layout *L,
                                      unsigned flags, lm_err *e);
/* Collective (frees the communicators). NULL is fine. */
void dist_grad_sync_free(dist_grad_sync *s);

/* One step, in this order on every rank:
 *  1. dist_grad_sync_tokens(s, in, B*T): the input ids this rank's embedding
 *     backward scatter-adds into (all of `in`, pad included). Starts a
 *     non-blocking OR of the token bitmaps; best called before the forward.
 *     Optional: a step without it reduces the embedding densely (every rank
 *     must then skip it).
 *  2. the model's backward with o.ctx = s, o.on_head_rows =
 *     dist_grad_sync_on_head_rows, o.on_progress = dist_grad_sync_on_progress
 *     and o.on_head_grads = dist_grad_sync_on_head_grads. With
 *     DIST_GS_OVERLAP each announced row range [r0 row, r1 row) starts its
 *     ring sum at once (ranges in increasing order, contiguous from row 0);
 *     on_head_grads starts the whole head [0, head) if no rows hook ran this
 *     step. Without DIST_GS_OVERLAP all three do nothing. From a range's
 *     start the caller must not touch it until finish returns. Optional: if
 *     no hook ran, finish reduces the head itself.
 *  3. dist_grad_sync_finish(s): sums the rest (fc.bias when rows were
 *     announced, LSTM; embedding sparsely over the union of the ranks'
 *     tokens or densely), waits for the head's ranges. After it, grads holds
 *     the SUM over ranks, bitwise equal on every rank.
 * dist_grad_sync_progress may be called any time between 2 and 3 to let MPI
 * advance the transfers (Open MPI moves non-blocking messages only inside
 * MPI calls). World size 1: all of these return at once. */
int dist_grad_sync_tokens(dist_grad_sync *s, const int32_t *ids, size_t n,
                          lm_err *e);
/* The model's hooks (ctx = the sync); errors surface in finish. */
void dist_grad_sync_on_head_rows(void *s, int row0, int row1);
void dist_grad_sync_on_head_grads(void *s);
void dist_grad_sync_on_progress(void *s);
/* Starts the ring sum of [lo, hi) of the head (DIST_GS_OVERLAP; lo must be
 * where the previous range of this step ended, 0 for the first). */
int dist_grad_sync_head_range(dist_grad_sync *s, size_t lo, size_t hi, lm_err *e);
void dist_grad_sync_progress(dist_grad_sync *s);
int dist_grad_sync_finish(dist_grad_sync *s, lm_err *e);
void dist_grad_sync_stats(const dist_grad_sync *s, dist_grad_stats *st);

#endif
