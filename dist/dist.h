/* dist: everything that talks MPI. The rest of LyricMind sees a world as a
 * plain struct {rank, size}; with size 1 every collective is a local no-op
 * copy, so single-process runs use the same code path.
 * Errors are returned through lm_err; nothing here prints or aborts except
 * dist_world_abort, which the jobs layer calls on a fatal error so that
 * mpirun ends every rank instead of hanging. */
#ifndef DIST_H
#define DIST_H

#include "lm_err.h"

typedef struct dist_world {
    int rank, size;
    int initialized_here; /* we called MPI_Init and must finalize */
} dist_world;

/* Initialises MPI (if not yet) and fills rank/size. */
int dist_world_init(dist_world *w, int *argc, char ***argv, lm_err *e);
void dist_world_finalize(dist_world *w);
void dist_world_abort(const dist_world *w, int code);
void dist_barrier(const dist_world *w);

#endif
