/* io_atomic: temp file + fsync + rename (see io_atomic.h). */
#include "io_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void io_atomic_tmp_path(char *tmp, size_t n, const char *path) {
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
}

int io_fsync_path(const char *path, lm_err *e) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lm_err_set(e, "%s: cannot open for fsync: %s", path, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    /* Some filesystems refuse fsync on directories; that is not data loss. */
    if (rc != 0 && saved != EINVAL && saved != EROFS)
        return lm_err_set(e, "%s: fsync failed: %s", path, strerror(saved));
    return 0;
}

int io_atomic_commit(const char *tmp, const char *path, lm_err *e) {
    if (io_fsync_path(tmp, e)) return -1;
    if (rename(tmp, path) != 0)
        return lm_err_set(e, "%s: cannot rename from %s: %s", path, tmp, strerror(errno));
    char *dup = strdup(path);
    if (!dup) return lm_err_set(e, "out of memory");
    int rc = io_fsync_path(dirname(dup), e);
    free(dup);
    return rc;
}

int io_atomic_write(const char *path, const void *data, size_t len, lm_err *e) {
    char tmp[4096];
    io_atomic_tmp_path(tmp, sizeof tmp, path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return lm_err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
    if (len && fwrite(data, 1, len, f) != len) {
        fclose(f);
        unlink(tmp);
        return lm_err_set(e, "%s: write failed", path);
    }
    if (fclose(f) != 0) {
        unlink(tmp);
        return lm_err_set(e, "%s: write failed: %s", path, strerror(errno));
    }
    if (io_atomic_commit(tmp, path, e)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}
