/* io_runlock: exclusive flock on RUN_DIR/.lock naming its holder (see
 * io_runlock.h for the contract and the inode invariant). */
#include "io_runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Reads the holder line of a busy lock file into out ("" if none yet). */
static void read_holder(const char *path, char *out, size_t n) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(out, (int)n, f)) out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
}

static int write_holder(int fd, lm_err *e, const char *path) {
    char host[256] = "?", when[64] = "?", line[512];
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = 0;
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int len = snprintf(line, sizeof line, "host %s pid %ld started %s\n", host, (long)getpid(), when);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != (ssize_t)len)
        return lm_err_set(e, "%s: cannot record the lock holder: %s", path, strerror(errno));
    return 0;
}

/* After flock: does path still name the inode we locked? (A holder that
 * released unlinks the file first; we may have locked that dead inode.) */
static int still_linked(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

io_runlock_status io_runlock_acquire(io_runlock *l, const char *run_dir, lm_err *e) {
    l->fd = -1;
    snprintf(l->path, sizeof l->path, "%s/%s", run_dir, IO_RUNLOCK_NAME);
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            lm_err_set(e, "%s: cannot open the run lock: %s", l->path, strerror(errno));
            return IO_RUNLOCK_ERROR;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            if (err == EWOULDBLOCK) {
                char who[400];
                read_holder(l->path, who, sizeof who);
                lm_err_set(e, "%s: run directory is in use by another trainer (%s); wait for it to end or "
                              "choose another --run", run_dir, who[0] ? who : "holder not yet recorded");
                return IO_RUNLOCK_BUSY;
            }
            lm_err_set(e, "%s: cannot lock %s: %s", run_dir, IO_RUNLOCK_NAME, strerror(err));
            return err == ENOSYS || err == ENOLCK || err == EOPNOTSUPP ? IO_RUNLOCK_UNSUPPORTED
                                                                       : IO_RUNLOCK_ERROR;
        }
        if (!still_linked(fd, l->path)) {
            close(fd);
            continue;
        }
        if (write_holder(fd, e, l->path)) {
            close(fd);
            return IO_RUNLOCK_ERROR;
        }
        l->fd = fd;
        return IO_RUNLOCK_OK;
    }
    lm_err_set(e, "%s: the run lock keeps being replaced; another trainer is starting and ending", run_dir);
    return IO_RUNLOCK_BUSY;
}

void io_runlock_release(io_runlock *l) {
    if (l->fd < 0) return;
    unlink(l->path);
    close(l->fd);
    l->fd = -1;
}
