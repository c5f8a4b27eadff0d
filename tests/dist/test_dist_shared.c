/* test_dist_shared: ranks of one host through shared memory (dist.h,
 * dist_shared): the arrays start zeroed and page-aligned; every rank's
 * slice of the reduce is the rank-order float sum of every rank's gradient,
 * bit for bit, on 1 and 2 threads; a rank's writes to the parameters are
 * every rank's after a barrier; a world of one is refused in one line. */
#include <string.h>

#include "dist_test.h"

enum { N = 100003 }; /* not a multiple of 16 or of a page */

static float grad_value(int rank, size_t i) {
    uint64_t s = (uint64_t)rank * 1000003u + i;
    return dt_value(&s, 0);
}

/* Rank r of p owns [N r / p, N (r+1) / p). */
static size_t slice_at(int r, int p) { return (size_t)N * (size_t)r / (size_t)p; }

static void test_reduce(dist_world *w, int threads) {
    lm_err e = {{0}};
    size_t lo = slice_at(w->rank, w->size), hi = slice_at(w->rank + 1, w->size);
    dist_shared *s = dist_shared_create(w, N, lo, hi, &e);
    CHECK(w, s != NULL, "create: %s", e.msg);
    float *g = dist_shared_grads(s), *p = dist_shared_params(s), *m = dist_shared_adam_m(s),
          *v = dist_shared_adam_v(s);
    CHECK(w, ((uintptr_t)g | (uintptr_t)p | (uintptr_t)m | (uintptr_t)v) % 4096 == 0, "arrays not page-aligned");
    for (size_t i = 0; i < N; i++)
        CHECK(w, g[i] == 0 && p[i] == 0 && m[i] == 0 && v[i] == 0, "element %zu not zeroed", i);
    for (size_t i = 0; i < N; i++) g[i] = grad_value(w->rank, i);
    CHECK(w, dist_shared_reduce(s, threads, &e) == 0, "reduce: %s", e.msg);
    for (size_t i = lo; i < hi; i++) {
        float want = grad_value(0, i);
        for (int r = 1; r < w->size; r++) want += grad_value(r, i);
        CHECK(w, memcmp(&g[i], &want, sizeof want) == 0, "element %zu: %.9g, want %.9g", i, g[i], want);
    }
    for (size_t i = 0; i < lo; i++) CHECK(w, g[i] == grad_value(w->rank, i), "element %zu outside the slice", i);
    /* every rank writes its slice of the parameters; rank 0 also all of m */
    for (size_t i = lo; i < hi; i++) p[i] = (float)i;
    if (w->rank == 0)
        for (size_t i = 0; i < N; i++) m[i] = -(float)i;
    CHECK(w, dist_shared_barrier(s, &e) == 0, "barrier: %s", e.msg);
    for (size_t i = 0; i < N; i++)
        CHECK(w, p[i] == (float)i && m[i] == -(float)i, "element %zu not shared after the barrier", i);
    CHECK(w, dist_shared_take_comm_s(s) >= 0 && dist_shared_take_comm_s(s) == 0, "comm seconds not taken");
    CHECK(w, dist_shared_barrier(s, &e) == 0, "barrier: %s", e.msg); /* all checked before free */
    dist_shared_free(s);
}

int main(int argc, char **argv) {
    dist_world w;
    dt_init(&w, &argc, &argv);
    if (w.size == 1) {
        lm_err e = {{0}};
        CHECK(&w, dist_shared_create(&w, N, 0, N, &e) == NULL && strstr(e.msg, "2 or more"), "world of one: '%s'",
              e.msg);
    } else {
        test_reduce(&w, 1);
        test_reduce(&w, 2);
    }
    if (w.rank == 0) printf("test_dist_shared: %d rank(s) ok\n", w.size);
    dist_world_finalize(&w);
    return 0;
}
