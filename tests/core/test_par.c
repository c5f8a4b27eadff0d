/* lm_par: per-call threads and the pool run every part exactly once, on
 * the documented thread (thread t: parts t, t + n, ...; the caller is
 * thread 0), through many calls, thread counts above and below the pool's
 * size (above: threads of the call's own, the same numbering), and workers
 * that fell asleep between calls. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lm_par.h"

#define MAX_PARTS 64

typedef struct {
    atomic_int runs[MAX_PARTS];
    pthread_t who[MAX_PARTS];
} record;

static void note(void *ctx, int part) {
    record *r = ctx;
    atomic_fetch_add(&r->runs[part], 1);
    r->who[part] = pthread_self();
}

/* Runs parts on threads (through pool when given) and checks the stripes. */
static void check_run(lm_par_pool *pool, int parts, int threads, int cap) {
    record r;
    memset(&r, 0, sizeof r);
    lm_par_run_on(pool, note, &r, parts, threads);
    int n = threads < 1 ? 1 : threads;
    if (n > cap) n = cap;
    if (n > parts) n = parts;
    for (int p = 0; p < parts; p++) {
        cr_assert_eq(atomic_load(&r.runs[p]), 1, "part %d of %d ran %d times (threads %d)", p, parts,
                     atomic_load(&r.runs[p]), threads);
        cr_assert(pthread_equal(r.who[p], r.who[p % n]), "part %d not on thread %d", p, p % n);
        if (p % n == 0) cr_assert(pthread_equal(r.who[p], pthread_self()), "part %d not on the caller", p);
        else cr_assert(!pthread_equal(r.who[p], pthread_self()), "part %d ran on the caller", p);
    }
}

Test(par, per_call_threads_run_each_part_once_on_its_stripe) {
    for (int threads = 0; threads <= 5; threads++)
        for (int parts = 1; parts <= 9; parts++) check_run(NULL, parts, threads, LM_PAR_MAX_THREADS);
}

Test(par, a_pool_below_two_threads_is_null_and_null_runs_per_call) {
    cr_expect_null(lm_par_pool_create(1, LM_PAR_SPIN_US));
    cr_expect_null(lm_par_pool_create(0, 0));
    check_run(NULL, 7, 3, LM_PAR_MAX_THREADS);
}

/* spin_us LM_PAR_SPIN_US, and 0: workers and caller sleep on their
 * condition variables at once (an oversubscribed host) */
static void many_calls(int spin_us) {
    lm_par_pool *pool = lm_par_pool_create(3, spin_us);
    cr_assert_not_null(pool);
    for (int call = 0; call < 2000; call++) {
        int parts = 1 + call % 13, threads = call % 6; /* 0..5: above 3, threads per call */
        check_run(pool, parts, threads, LM_PAR_MAX_THREADS);
    }
    lm_par_pool_free(pool);
}

Test(par, a_pool_serves_many_calls_and_more_threads_than_it_has) { many_calls(LM_PAR_SPIN_US); }
Test(par, a_pool_that_never_spins_serves_them_too) { many_calls(0); }

Test(par, sleeping_workers_wake_for_the_next_call) {
    lm_par_pool *pool = lm_par_pool_create(2, LM_PAR_SPIN_US);
    cr_assert_not_null(pool);
    for (int k = 0; k < 5; k++) {
        check_run(pool, 8, 2, 2);
        struct timespec nap = {0, 3 * LM_PAR_SPIN_US * 1000L}; /* past the spin: they sleep */
        nanosleep(&nap, NULL);
    }
    lm_par_pool_free(pool);
    lm_par_pool_free(NULL);
}

/* Spinning only where every thread of the host has a CPU: an affinity of
 * fewer CPUs than threads, or more threads on the host (all its ranks')
 * than online CPUs, turns it off. */
Test(par, the_pool_spins_only_when_every_thread_has_a_cpu) {
    cr_expect_eq(lm_par_spin_us(2, 2, 2, 2), LM_PAR_SPIN_US);
    cr_expect_eq(lm_par_spin_us(2, 4, 8, 16), LM_PAR_SPIN_US);
    cr_expect_eq(lm_par_spin_us(2, 4, 2, 2), 0, "2 ranks x 2 threads on 2 CPUs");
    cr_expect_eq(lm_par_spin_us(4, 4, 2, 16), 0, "bound to 2 CPUs");
}
