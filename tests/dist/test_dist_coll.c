/* test_dist_coll: the small collectives give every rank the same, right
 * answer: rank 0's decision, the any-flag, exact rank-order sums, broadcasts
 * from any root, and the checksum check that names a perturbed rank. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist_test.h"
#include "lm_sys.h"

static void test_decision(dist_world *w) {
    lm_err e = {{0}};
    dist_decision d = {.lr = -1.0f, .stop = -1, .save = -1, .reason = -1};
    if (w->rank == 0) d = (dist_decision){.lr = 3.0e-4f, .stop = 1, .save = 0, .reason = 7};
    CHECK(w, dist_bcast_decision(w, &d, &e) == 0, "%s", e.msg);
    CHECK(w, d.lr == 3.0e-4f && d.stop == 1 && d.save == 0 && d.reason == 7,
          "decision {%g,%d,%d,%d} is not rank 0's", d.lr, d.stop, d.save, d.reason);
}

static void test_any(dist_world *w) {
    lm_err e = {{0}};
    int any = -1;
    CHECK(w, dist_any(w, 0, &any, &e) == 0 && any == 0, "no rank raised: any = %d", any);
    /* Only the last rank raises (a signal that reached one process). */
    CHECK(w, dist_any(w, w->rank == w->size - 1 ? 5 : 0, &any, &e) == 0 && any == 1,
          "last rank raised: any = %d", any);
    CHECK(w, dist_any(w, 1, &any, &e) == 0 && any == 1, "all raised: any = %d", any);
}

/* The sum must equal the rank-order sum bit for bit, on every rank. */
static void test_sum_doubles(dist_world *w) {
    lm_err e = {{0}};
    enum { N = 5 };
    double v[N], want[N] = {0};
    for (int r = 0; r < w->size; r++) {
        uint64_t s = 1000 + (uint64_t)r;
        for (int i = 0; i < N; i++) {
            double x = (double)dt_value(&s, 0) * 1e8 + 1.0 / 3.0;
            if (r == w->rank) v[i] = x;
            want[i] = r == 0 ? x : want[i] + x;
        }
    }
    CHECK(w, dist_sum_doubles(w, v, N, &e) == 0, "%s", e.msg);
    for (int i = 0; i < N; i++)
        CHECK(w, memcmp(&v[i], &want[i], sizeof(double)) == 0, "v[%d] = %.17g, want %.17g", i,
              v[i], want[i]);
    CHECK(w, dist_sum_doubles(w, v, 0, &e) == 0, "n = 0: %s", e.msg);
    CHECK(w, dist_sum_doubles(w, v, -1, &e) == -1 && strstr(e.msg, "n = -1"),
          "n = -1 not refused: '%s'", e.msg);
}

static void test_bcast(dist_world *w) {
    lm_err e = {{0}};
    enum { N = 100003 };
    float *f = malloc(N * sizeof *f), *want = malloc(N * sizeof *want);
    CHECK(w, f && want, "out of memory");
    for (int root = 0; root < w->size; root += w->size > 1 ? w->size - 1 : 1) {
        uint64_t s = 77 + (uint64_t)root, t = 999 + (uint64_t)w->rank;
        for (int i = 0; i < N; i++) {
            want[i] = dt_value(&s, 0);
            f[i] = w->rank == root ? want[i] : dt_value(&t, 0);
        }
        CHECK(w, dist_bcast_floats(w, f, N, root, &e) == 0, "%s", e.msg);
        CHECK(w, memcmp(f, want, N * sizeof *f) == 0, "floats from root %d differ", root);
        char b[40] = {0};
        if (w->rank == root) snprintf(b, sizeof b, "settings of root %d", root);
        CHECK(w, dist_bcast_bytes(w, b, sizeof b, root, &e) == 0, "%s", e.msg);
        char wb[40] = {0};
        snprintf(wb, sizeof wb, "settings of root %d", root);
        CHECK(w, memcmp(b, wb, sizeof b) == 0, "bytes from root %d: '%s'", root, b);
    }
    CHECK(w, dist_bcast_floats(w, f, N, w->size, &e) == -1 && strstr(e.msg, "root"),
          "root outside the world not refused: '%s'", e.msg);
    free(f);
    free(want);
}

static void test_check_identical(dist_world *w) {
    lm_err e = {{0}};
    enum { N = 4097 };
    float *p = malloc(N * sizeof *p);
    CHECK(w, p != NULL, "out of memory");
    uint64_t s = 5;
    for (int i = 0; i < N; i++) p[i] = dt_value(&s, 0);
    CHECK(w, dist_check_identical(w, p, N, &e) == 0, "identical buffers flagged: %s", e.msg);
    /* -0.0 vs 0.0 and a one-ulp change are both differences in the bytes. */
    int bad = w->size - 1;
    if (w->rank == bad) p[N - 1] = nextafterf(p[N - 1], 2.0f);
    int rc = dist_check_identical(w, p, N, &e);
    if (w->size == 1) {
        CHECK(w, rc == 0, "world of 1 cannot differ: %s", e.msg);
    } else {
        char want[32];
        snprintf(want, sizeof want, "rank %d ", bad);
        CHECK(w, rc == -1, "perturbed rank %d not detected", bad);
        CHECK(w, strstr(e.msg, want) != NULL, "error does not name rank %d: '%s'", bad, e.msg);
    }
    free(p);
    CHECK(w, lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cull, "FNV-1a 64 of 'a' is wrong");
}

int main(int argc, char **argv) {
    dist_world w;
    dt_init(&w, &argc, &argv);
    test_decision(&w);
    test_any(&w);
    test_sum_doubles(&w);
    test_bcast(&w);
    test_check_identical(&w);
    if (w.rank == 0) printf("test_dist_coll: %d rank(s) ok\n", w.size);
    dist_world_finalize(&w);
    return 0;
}
