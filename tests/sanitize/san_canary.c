/* san_canary: one deliberate sanitizer finding per mode, so that the
 * LM_SANITIZE suite proves its reports fail a test (tests/sanitize).
 *   ok    nothing wrong: exit 0
 *   ub    signed overflow (UBSan)
 *   leak  an allocation nobody frees (LeakSanitizer, at exit)
 *   mpi-leak  the same leak between MPI_Init and MPI_Finalize: under mpirun
 *         the finding must still fail the job, and Open MPI's own leaks must
 *         be suppressed (tests/lsan.supp) for mode "mpi-ok" to pass. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *g_sink;

static int leak(void) {
    char *p = malloc(64);
    if (!p) return 1;
    memset(p, 1, 64);
    g_sink = p;
    g_sink = NULL; /* the last reference is gone: a leak */
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "ok";
    if (!strcmp(mode, "ub")) {
        volatile int big = 2147483647, one = argc;
        printf("%d\n", big + one);
        return 0;
    }
    if (!strcmp(mode, "leak")) return leak();
    if (!strcmp(mode, "mpi-leak") || !strcmp(mode, "mpi-ok")) {
        MPI_Init(&argc, &argv);
        int rc = strcmp(mode, "mpi-leak") ? 0 : leak();
        MPI_Finalize();
        return rc;
    }
    return strcmp(mode, "ok") != 0;
}
