/* dist_world: MPI start-up and shutdown (see dist.h). */
#include "dist.h"

#include <mpi.h>

int dist_world_init(dist_world *w, int *argc, char ***argv, lm_err *e) {
    int inited = 0;
    MPI_Initialized(&inited);
    w->initialized_here = 0;
    if (!inited) {
        int provided = 0;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return lm_err_set(e, "MPI_Init_thread failed");
        w->initialized_here = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w->size);
    return 0;
}

void dist_world_finalize(dist_world *w) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (w->initialized_here && !fin) MPI_Finalize();
    w->initialized_here = 0;
}

void dist_world_abort(const dist_world *w, int code) {
    (void)w;
    MPI_Abort(MPI_COMM_WORLD, code);
}

void dist_barrier(const dist_world *w) {
    if (w->size > 1) MPI_Barrier(MPI_COMM_WORLD);
}
