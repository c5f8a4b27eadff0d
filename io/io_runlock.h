/* io_runlock: one trainer per run directory (see docs/training.md "One
 * trainer per run directory").
 *
 * The lock is an flock(LOCK_EX) on RUN_DIR/.lock, taken without waiting and
 * held on an open descriptor until io_runlock_release or process death: the
 * kernel (or the NFS lock manager) drops it when the holder dies, so a lock
 * file left by a killed trainer never blocks. The file records the holder
 * ("host H pid P started T") for the error the next trainer prints; its
 * content is information only, never what decides.
 *
 * Invariants: a held io_runlock names a file that is the locked inode (after
 * locking, the path is checked to still refer to it, so that a release that
 * unlinks the file cannot let two trainers hold locks on different inodes);
 * release unlinks the file while the lock is still held. */
#ifndef IO_RUNLOCK_H
#define IO_RUNLOCK_H

#include <stddef.h>

#include "lm_err.h"

#define IO_RUNLOCK_NAME ".lock"

typedef struct io_runlock {
    int fd;            /* -1 when not held */
    char path[4096];   /* RUN_DIR/.lock */
} io_runlock;

typedef enum {
    IO_RUNLOCK_OK = 0,
    IO_RUNLOCK_BUSY = 1,      /* another live process holds it; e names the holder */
    IO_RUNLOCK_UNSUPPORTED = 2, /* the filesystem refuses file locks (ENOSYS, ENOLCK, EOPNOTSUPP) */
    IO_RUNLOCK_ERROR = -1,    /* cannot create/open/write the lock file */
} io_runlock_status;

/* Takes the lock of an existing directory run_dir. On anything but
 * IO_RUNLOCK_OK, e holds one line naming run_dir (and for BUSY the holder
 * as recorded, e.g. "host n1 pid 4242 started 2026-12-01T22:58:04Z") and l
 * is left not held. */
io_runlock_status io_runlock_acquire(io_runlock *l, const char *run_dir, lm_err *e);
/* Unlinks the lock file and drops the lock; a no-op when not held. */
void io_runlock_release(io_runlock *l);

#endif
