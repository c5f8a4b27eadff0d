/* lm_par: run a fixed set of work parts on up to N threads.
 *
 * The one thread mechanism of core/ (output layer, LSTM, clipping, Adam).
 * Callers split their work into `parts` pieces whose results do not depend
 * on which thread runs them (each part writes only its own outputs; sums
 * over parts are added by the caller, in part order, afterwards), so the
 * results are bitwise the same for every thread count, with or without a
 * pool.
 *
 * Without a pool, threads are created per call and joined before it
 * returns: a call with 2 threads costs 58-75 us more than one on the 2-core
 * development VM, mostly the wait for the idle core to wake. A pool
 * (lm_par_pool_create, owned by the caller: jobs/ make one per process
 * that trains) keeps its workers between calls; after each job they spin
 * for up to spin_us (LM_PAR_SPIN_US: 1 ms) before they sleep, so the calls
 * of one training step (7 of them, a few hundred microseconds apart) find
 * them awake, and the caller spins until they answer. Spinning
 * only pays when every thread has a core of its own: on an oversubscribed
 * host a caller passes spin_us 0, and workers and caller sleep at once. A
 * pool serves one calling thread at a time. */
#ifndef LM_PAR_H
#define LM_PAR_H

#define LM_PAR_MAX_THREADS 64
#define LM_PAR_SPIN_US 1000

typedef void (*lm_par_fn)(void *ctx, int part);
typedef struct lm_par_pool lm_par_pool;

/* Runs fn(ctx, p) for p in [0, parts) on min(threads, parts) threads, the
 * calling thread included: thread t runs parts t, t + n, t + 2n, ... in
 * increasing order. threads < 1 means 1. If a thread cannot be started its
 * parts run on the calling thread. Returns when every part is done. */
void lm_par_run(lm_par_fn fn, void *ctx, int parts, int threads);

/* A pool of threads - 1 workers (threads in [2, LM_PAR_MAX_THREADS]) that
 * spin spin_us (>= 0) microseconds before they sleep; NULL when threads < 2
 * or a worker cannot be started (callers then pass NULL on: lm_par_run_on
 * falls back to lm_par_run). Free with lm_par_pool_free (joins the
 * workers). */
lm_par_pool *lm_par_pool_create(int threads, int spin_us);
void lm_par_pool_free(lm_par_pool *pool);
/* The spin_us for a pool of `threads` when host_threads threads run on
 * this host in all (every rank's): LM_PAR_SPIN_US when each has a CPU of
 * its own (threads <= cpus, the process's affinity, lm_sys_cpus, and
 * host_threads <= online, lm_sys_online_cpus), else 0. */
int lm_par_spin_us(int threads, int host_threads, int cpus, int online);
/* lm_par_run on the pool's workers: the same parts on the same thread
 * numbering. pool NULL, or more threads than the pool has: lm_par_run (so
 * the numbering never changes: callers rely on part 0 mod n being the
 * calling thread's). */
void lm_par_run_on(lm_par_pool *pool, lm_par_fn fn, void *ctx, int parts, int threads);

#endif
