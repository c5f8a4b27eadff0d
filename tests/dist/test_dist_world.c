/* test_dist_world: start-up as the launcher left it.
 *   test_dist_world nompi   run without mpirun: world of 1 without MPI
 *   test_dist_world N       under a launcher (or LM_DIST_MPI=1): MPI, size N
 * Proves rank/size are right, ranks are distinct, and barrier, finalize and
 * a second finalize work. */
#include <stdlib.h>
#include <string.h>

#include "dist_test.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_dist_world nompi|SIZE\n");
        return 2;
    }
    int want_mpi = strcmp(argv[1], "nompi") != 0;
    int want_size = want_mpi ? atoi(argv[1]) : 1;
    dist_world w;
    lm_err e = {{0}};
    dt_init(&w, &argc, &argv);
    CHECK(&w, w.mpi == want_mpi, "mpi = %d, expected %d", w.mpi, want_mpi);
    CHECK(&w, w.size == want_size, "size = %d, expected %d", w.size, want_size);
    CHECK(&w, w.rank >= 0 && w.rank < w.size, "rank %d outside [0,%d)", w.rank, w.size);
    CHECK(&w, dist_barrier(&w, &e) == 0, "barrier: %s", e.msg);

    /* Ranks are 0..size-1, each once: their sum and sum of squares. */
    double v[2] = {w.rank, (double)w.rank * w.rank};
    CHECK(&w, dist_sum_doubles(&w, v, 2, &e) == 0, "%s", e.msg);
    double n = w.size;
    CHECK(&w, v[0] == n * (n - 1) / 2 && v[1] == (n - 1) * n * (2 * n - 1) / 6,
          "ranks are not 0..%d: sum %g, squares %g", w.size - 1, v[0], v[1]);

    dist_world_finalize(&w);
    dist_world_finalize(&w); /* harmless */
    if (w.size != 1 || w.mpi) {
        fprintf(stderr, "FAIL: finalize left size %d mpi %d\n", w.size, w.mpi);
        return 1;
    }
    return 0;
}
