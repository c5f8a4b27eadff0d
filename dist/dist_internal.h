/* dist_internal: helpers shared by the dist/ sources, not part of the API.
 * This is the only place besides the .c files that includes mpi.h. */
#ifndef DIST_INTERNAL_H
#define DIST_INTERNAL_H

#include <mpi.h>

#include "dist.h"

/* The world's communicator (a duplicate of MPI_COMM_WORLD that returns
 * errors instead of aborting). Only valid when w->mpi. */
MPI_Comm dist_comm(const dist_world *w);
/* 0 if rc == MPI_SUCCESS, else -1 with "dist: <what>: <MPI error string>". */
int dist_mpi_check(int rc, const char *what, lm_err *e);
/* Duplicates comm into *out with MPI_ERRORS_RETURN set (collective). */
int dist_comm_dup(MPI_Comm comm, MPI_Comm *out, lm_err *e);
/* The commutative MPI op over MPI_UINT16_T vectors of wire kind
 * DIST_WIRE_BF16/FP16: widen, add in fp32, round back (dist_wire.c). */
int dist_wire_op_create(int kind, MPI_Op *op, lm_err *e);
/* b[i] := a[i] + b[i] for 16-bit vectors of that kind: widened, added in
 * fp32, rounded back (the op above, and the 16-bit ring). */
void dist_wire_add(int kind, const uint16_t *a, uint16_t *b, size_t n);

/* The overlap engine (dist_overlap.c): ring allreduces (sum) of ranges over
 * point-to-point messages on comm (which it uses alone), any number in
 * flight; elements are floats (wire DIST_WIRE_FP32) or 16-bit values of
 * that wire kind (summed by dist_wire_add). start: begins the sum of the n
 * elements at buf in place (the caller
 * leaves buf alone until wait); progress: advances what can be advanced
 * without blocking; wait: completes every range started since the last
 * wait. Collective in the sense that every rank starts the same ranges
 * (same sizes) in the same order. All return 0 or -1 with e. */
typedef struct dist_ring dist_ring;
int dist_ring_create(MPI_Comm comm, int wire, dist_ring **out, lm_err *e);
void dist_ring_free(dist_ring *g);
int dist_ring_start(dist_ring *g, void *buf, size_t n, lm_err *e);
int dist_ring_progress(dist_ring *g, lm_err *e);
int dist_ring_wait(dist_ring *g, lm_err *e);

#endif
