/* lm_par: worker threads over fixed work parts, per call or from a pool
 * (see lm_par.h). */
#include "lm_par.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lm_sys.h"

typedef struct {
    lm_par_fn fn;
    void *ctx;
    int t, n, parts;
} par_worker;

static void par_stripe(const par_worker *w) {
    for (int part = w->t; part < w->parts; part += w->n) w->fn(w->ctx, part);
}

static void *par_work(void *p) {
    par_stripe(p);
    return NULL;
}

static int clamp_threads(int parts, int threads) {
    if (threads > parts) threads = parts;
    if (threads > LM_PAR_MAX_THREADS) threads = LM_PAR_MAX_THREADS;
    return threads < 1 ? 1 : threads;
}

void lm_par_run(lm_par_fn fn, void *ctx, int parts, int threads) {
    if (parts <= 0) return;
    threads = clamp_threads(parts, threads);
    pthread_t tid[LM_PAR_MAX_THREADS];
    par_worker wk[LM_PAR_MAX_THREADS];
    int started = 1;
    for (int t = 0; t < threads; t++) wk[t] = (par_worker){fn, ctx, t, threads, parts};
    for (int t = 1; t < threads; t++, started++)
        if (pthread_create(&tid[t], NULL, par_work, &wk[t])) break;
    for (int t = started; t < threads; t++) par_stripe(&wk[t]); /* threads never started */
    par_stripe(&wk[0]);
    for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
}

/* ---- the pool ------------------------------------------------------------
 * A job is published by bumping gen (release) after its fields are set;
 * each worker runs its stripe and decrements pending (release); the caller
 * waits for pending == 0 (acquire): every worker answers, those past the
 * job's thread count too. Workers that saw no new job for spin_us sleep on
 * cv; the caller broadcasts under mu, which is also what a sleeper
 * re-checks gen under, so no wake-up is lost. A caller that does not spin
 * (spin_us 0) sets caller_sleeps and sleeps on done_cv; the last worker to answer
 * signals it under mu when it sees the flag (both sequentially consistent:
 * the worker's decrement and the caller's flag cannot both go unseen). */
struct lm_par_pool {
    int size; /* threads, the caller included */
    pthread_t tid[LM_PAR_MAX_THREADS];
    double spin_s;
    pthread_mutex_t mu;
    pthread_cond_t cv, done_cv;
    atomic_ulong gen;
    atomic_int pending;
    atomic_int caller_sleeps; /* set under mu while the caller waits on done_cv */
    int quit;
    lm_par_fn fn; /* the job */
    void *ctx;
    int parts, threads;
};

typedef struct {
    lm_par_pool *pool;
    int t;
} pool_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int gen_moved(lm_par_pool *p, unsigned long seen) {
    return atomic_load_explicit(&p->gen, memory_order_acquire) != seen;
}

static int all_answered(lm_par_pool *p, unsigned long unused) {
    (void)unused;
    return atomic_load(&p->pending) == 0;
}

/* Spins until ready(p, arg) for up to spin_s seconds (64 pauses at
 * least), then sleeps on cond under mu until it is, with *flag set
 * meanwhile when given. */
static void wait_for(lm_par_pool *p, double spin_s, int (*ready)(lm_par_pool *, unsigned long),
                     unsigned long arg, pthread_cond_t *cond, atomic_int *flag) {
    double t0 = spin_s > 0.0 ? lm_sys_now() : 0.0;
    for (unsigned spins = 1; !ready(p, arg); spins++) {
        if (spins % 64 == 0 && lm_sys_now() - t0 >= spin_s) {
            pthread_mutex_lock(&p->mu);
            if (flag) atomic_store(flag, 1);
            while (!ready(p, arg)) pthread_cond_wait(cond, &p->mu);
            if (flag) atomic_store(flag, 0);
            pthread_mutex_unlock(&p->mu);
            return;
        }
        cpu_relax();
    }
}

static void *pool_main(void *arg) {
    pool_arg a = *(pool_arg *)arg;
    free(arg);
    lm_par_pool *p = a.pool;
    for (unsigned long seen = 0;;) {
        wait_for(p, p->spin_s, gen_moved, seen, &p->cv, NULL);
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (p->quit) return NULL;
        par_worker w = {p->fn, p->ctx, a.t, p->threads, p->parts};
        if (a.t < w.n) par_stripe(&w);
        /* every worker answers, so the next job's fields are written only
         * once nobody reads this one's */
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_sleeps)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void pool_publish(lm_par_pool *p) {
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

lm_par_pool *lm_par_pool_create(int threads, int spin_us) {
    if (threads < 2) return NULL;
    if (threads > LM_PAR_MAX_THREADS) threads = LM_PAR_MAX_THREADS;
    lm_par_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->spin_s = spin_us > 0 ? spin_us * 1e-6 : 0.0;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->size = 1;
    for (int t = 1; t < threads; t++, p->size++) {
        pool_arg *a = malloc(sizeof *a);
        if (a) *a = (pool_arg){p, t};
        if (!a || pthread_create(&p->tid[t], NULL, pool_main, a)) {
            free(a);
            lm_par_pool_free(p);
            return NULL;
        }
    }
    return p;
}

int lm_par_spin_us(int threads, int host_threads, int cpus, int online) {
    return threads <= cpus && host_threads <= online ? LM_PAR_SPIN_US : 0;
}

void lm_par_pool_free(lm_par_pool *p) {
    if (!p) return;
    p->quit = 1;
    pool_publish(p);
    for (int t = 1; t < p->size; t++) pthread_join(p->tid[t], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void lm_par_run_on(lm_par_pool *p, lm_par_fn fn, void *ctx, int parts, int threads) {
    if (parts <= 0) return;
    threads = clamp_threads(parts, threads);
    if (!p || threads > p->size) { /* the same numbering, threads of its own */
        lm_par_run(fn, ctx, parts, threads);
        return;
    }
    par_worker self = {fn, ctx, 0, threads, parts};
    if (threads == 1) {
        par_stripe(&self);
        return;
    }
    p->fn = fn, p->ctx = ctx, p->parts = parts, p->threads = threads;
    atomic_store_explicit(&p->pending, p->size - 1, memory_order_relaxed);
    pool_publish(p);
    par_stripe(&self);
    /* a worker late by more than the spin (its core taken away for a
     * while) must not cost the caller a wake-up on top: with spinning on,
     * the caller spins until the answers come */
    wait_for(p, p->spin_s > 0.0 ? INFINITY : 0.0, all_answered, 0, &p->done_cv, &p->caller_sleeps);
}
