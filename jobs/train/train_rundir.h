/* train_rundir: rank 0's hold on the run directory for the whole of a
 * 'lyricmind train' (docs/training.md "One trainer per run directory").
 *
 * open: creates the directory (and missing parents) if needed, takes the run
 * lock (io_runlock.h), then removes the checkpoint temp files of dead
 * writers. close: drops the lock; with discard (a train that failed before
 * its first step) it also removes what open created: the lock file, the
 * metrics file and the directories it made itself, never a directory that
 * existed before nor a file it did not create.
 *
 * LYRICMIND_RUN_LOCK=off trains without the lock (for filesystems that
 * refuse locks, e.g. Lustre mounted without -o flock); stale temp files are
 * then left alone, since a live writer could own them. */
#ifndef TRAIN_RUNDIR_H
#define TRAIN_RUNDIR_H

#include "io_runlock.h"
#include "lm_err.h"

typedef struct train_rundir {
    char path[4096];
    char created[4096]; /* the shallowest directory open made ("" if none) */
    io_runlock lock;
} train_rundir;

int train_rundir_open(train_rundir *d, const char *path, lm_err *e);
void train_rundir_close(train_rundir *d, int discard);

#endif
