/* dist_world: MPI start-up and shutdown, and the helpers of dist_internal.h.
 *
 * Invariants: w->mpi == 0 implies rank 0, size 1 and that no MPI function
 * other than MPI_Initialized/MPI_Finalized is ever called by dist/. With
 * w->mpi == 1, w->comm is a duplicate of MPI_COMM_WORLD whose error handler
 * returns codes, so failures come back as lm_err lines instead of killing
 * the process from inside the library. */
#include "dist_internal.h"

#include <stdlib.h>
#include <string.h>

int dist_mpi_check(int rc, const char *what, lm_err *e) {
    if (rc == MPI_SUCCESS) return 0;
    char s[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) len = 0;
    s[len] = '\0';
    return lm_err_set(e, "dist: %s failed: %s", what, len ? s : "unknown MPI error");
}

int dist_comm_dup(MPI_Comm comm, MPI_Comm *out, lm_err *e) {
    if (dist_mpi_check(MPI_Comm_dup(comm, out), "MPI_Comm_dup", e)) return -1;
    return dist_mpi_check(MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN),
                          "MPI_Comm_set_errhandler", e);
}

MPI_Comm dist_comm(const dist_world *w) { return MPI_Comm_f2c(w->comm); }

/* Was this process started by an MPI launcher? Open MPI's mpirun sets
 * OMPI_COMM_WORLD_SIZE; PMIx-based launchers (srun --mpi=pmix, prrte) set
 * PMIX_RANK; PMI-1/2 launchers (srun --mpi=pmi2, MPICH hydra) set PMI_RANK
 * or PMI_FD; srun without a PMI plugin sets SLURM_STEP_ID/SLURM_PROCID,
 * which Open MPI reads itself. In doubt we start MPI: a wrongly detected
 * launcher would make every process believe it is alone. */
static int launched_by_mpi(void) {
    static const char *const vars[] = {
        "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_FD", "PMI_SIZE",
        "MPI_LOCALNRANKS", "SLURM_STEP_ID", "SLURM_STEPID", "SLURM_PROCID",
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int dist_world_init(dist_world *w, int *argc, char ***argv, lm_err *e) {
    memset(w, 0, sizeof *w);
    w->size = 1;
    int inited = 0, finalized = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finalized);
    if (finalized) return lm_err_set(e, "dist: MPI was already finalized");

    const char *force = getenv("LM_DIST_MPI");
    int use = inited || launched_by_mpi();
    if (force && strcmp(force, "1") == 0) use = 1;
    if (force && strcmp(force, "0") == 0) {
        if (inited) return lm_err_set(e, "dist: LM_DIST_MPI=0 but MPI is already initialised");
        use = 0;
    }
    if (!use) return 0;

    if (!inited) {
        int provided = 0;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return lm_err_set(e, "dist: MPI_Init_thread failed");
        w->initialized_here = 1;
        if (provided < MPI_THREAD_FUNNELED) {
            MPI_Finalize();
            return lm_err_set(e, "dist: MPI provides thread level %d, need MPI_THREAD_FUNNELED",
                              provided);
        }
    }
    w->mpi = 1;
    MPI_Comm comm;
    if (dist_comm_dup(MPI_COMM_WORLD, &comm, e)) {
        if (w->initialized_here) MPI_Finalize();
        w->mpi = w->initialized_here = 0;
        return -1;
    }
    w->comm = MPI_Comm_c2f(comm);
    MPI_Comm_rank(comm, &w->rank);
    MPI_Comm_size(comm, &w->size);
    return 0;
}

void dist_world_finalize(dist_world *w) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (w->mpi && !fin) {
        MPI_Comm comm = dist_comm(w);
        MPI_Comm_free(&comm);
        if (w->initialized_here) MPI_Finalize();
    }
    w->mpi = w->initialized_here = 0;
    w->rank = 0;
    w->size = 1;
}

void dist_world_abort(const dist_world *w, int code) {
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (w->mpi && inited && !fin) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

int dist_barrier(const dist_world *w, lm_err *e) {
    if (w->size == 1) return 0;
    return dist_mpi_check(MPI_Barrier(dist_comm(w)), "MPI_Barrier", e);
}

int dist_world_hosts(const dist_world *w, int *hosts, lm_err *e) {
    *hosts = 1;
    if (w->size == 1) return 0;
    MPI_Comm local;
    if (dist_mpi_check(MPI_Comm_split_type(dist_comm(w), MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL, &local),
                       "MPI_Comm_split_type (hosts)", e))
        return -1;
    int lr = 0;
    MPI_Comm_rank(local, &lr);
    MPI_Comm_free(&local);
    int leader = lr == 0;
    return dist_mpi_check(MPI_Allreduce(&leader, hosts, 1, MPI_INT, MPI_SUM, dist_comm(w)),
                          "MPI_Allreduce (hosts)", e);
}
