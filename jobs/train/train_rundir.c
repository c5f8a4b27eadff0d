/* train_rundir: create, lock, clean and (after an early failure) remove the
 * run directory (see train_rundir.h). Rank 0 only. */
#include "train_rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_ckpt.h"

/* mkdir -p; created := the shallowest level made here ("" if none). */
static int mkdir_p(const char *path, char *created, size_t n, lm_err *e) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    created[0] = 0;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) == 0) {
                if (!created[0]) snprintf(created, n, "%s", buf);
            } else if (errno != EEXIST) {
                return lm_err_set(e, "%s: cannot create run directory: %s", buf, strerror(errno));
            }
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return lm_err_set(e, "%s: not a directory", path);
    return 0;
}

/* rmdir path and its parents up to and including `top` (empty ones only). */
static void rmdir_up_to(const char *path, const char *top) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (size_t len = strlen(buf); len > 1 && buf[len - 1] == '/'; len--) buf[len - 1] = 0;
    for (;;) {
        if (rmdir(buf) != 0 || strcmp(buf, top) == 0) return;
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf) return;
        *slash = 0;
    }
}

static int lock_wanted(lm_err *e) {
    const char *v = getenv("LYRICMIND_RUN_LOCK");
    if (!v || !*v || !strcmp(v, "on")) return 1;
    if (!strcmp(v, "off")) return 0;
    return lm_err_set(e, "environment LYRICMIND_RUN_LOCK must be on or off, got '%s'", v);
}

/* 0, or -1 with e set; *busy := another trainer holds the lock. */
static int lock_and_clean(train_rundir *d, int *busy, lm_err *e) {
    *busy = 0;
    int want = lock_wanted(e);
    if (want <= 0) return want;
    io_runlock_status st = io_runlock_acquire(&d->lock, d->path, e);
    *busy = st == IO_RUNLOCK_BUSY;
    if (st == IO_RUNLOCK_UNSUPPORTED) {
        lm_err why = *e;
        return lm_err_set(e, "%s (the filesystem refuses file locks: on Lustre mount it with -o flock, on NFS "
                             "enable locking; LYRICMIND_RUN_LOCK=off trains without the one-trainer guarantee)",
                          why.msg);
    }
    if (st != IO_RUNLOCK_OK) return -1;
    int removed = 0;
    if (io_ckpt_remove_stale_tmp(d->path, &removed, e)) return -1;
    if (removed)
        printf("lyricmind train: removed %d stale checkpoint temp file%s (*.h5.tmp.PID) of a writer that died\n",
               removed, removed == 1 ? "" : "s");
    return 0;
}

int train_rundir_open(train_rundir *d, const char *path, lm_err *e) {
    memset(d, 0, sizeof *d);
    d->lock.fd = -1;
    snprintf(d->path, sizeof d->path, "%s", path);
    if (mkdir_p(path, d->created, sizeof d->created, e)) return -1;
    int busy;
    if (lock_and_clean(d, &busy, e) == 0) return 0;
    if (busy) d->created[0] = 0; /* we raced another trainer: the directory is its now */
    train_rundir_close(d, 1);
    return -1;
}

void train_rundir_close(train_rundir *d, int discard) {
    io_runlock_release(&d->lock);
    if (discard && d->created[0]) {
        /* in a directory made by this process, these are its own files */
        char f[4200];
        snprintf(f, sizeof f, "%s/metrics.jsonl", d->path);
        unlink(f);
        snprintf(f, sizeof f, "%s/%s", d->path, IO_RUNLOCK_NAME);
        unlink(f);
        rmdir_up_to(d->path, d->created);
    }
    d->created[0] = 0;
}
