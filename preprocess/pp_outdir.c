/* pp_outdir: the corpus directory appears complete or not at all.
 * The pipeline writes into OUT.tmp; pp_outdir_commit swaps it into place with
 * one rename (renameat2 RENAME_EXCHANGE when replacing with --force, so OUT
 * never disappears), then removes the old corpus. Removal only ever deletes
 * names the pipeline writes, so --force cannot wipe an unrelated directory:
 * one holding anything else is refused up front. */
#define _GNU_SOURCE /* renameat2 */
#include "pp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_atomic.h"

static int match_shard(const char *name, const char *prefix) {
    size_t p = strlen(prefix), n = strlen(name);
    if (n != p + 5 + 3 || strncmp(name, prefix, p) != 0 || strcmp(name + n - 3, ".h5") != 0) return 0;
    for (size_t i = p; i < p + 5; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

int pp_outdir_is_ours(const char *name) {
    if (!strcmp(name, "vocab.h5") || !strcmp(name, "manifest.json") || !strcmp(name, PP_PASS1_TRAIN) ||
        !strcmp(name, PP_PASS1_VAL))
        return 1;
    if (match_shard(name, "train-") || match_shard(name, "val-")) return 1;
    /* io_atomic temp files of ours: "<name>.tmp.<pid>" */
    const char *t = strstr(name, ".tmp.");
    if (t) {
        char base[256];
        size_t n = (size_t)(t - name);
        if (n < sizeof base) {
            memcpy(base, name, n);
            base[n] = 0;
            return pp_outdir_is_ours(base);
        }
    }
    return 0;
}

/* 1 if dir holds only our files, 0 if something else, -1 if unreadable. */
static int only_ours(const char *dir, char *other, size_t n) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int ok = 1;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (!pp_outdir_is_ours(de->d_name)) {
            snprintf(other, n, "%s", de->d_name);
            ok = 0;
            break;
        }
    }
    closedir(d);
    return ok;
}

int pp_outdir_remove(const char *dir, lm_err *e) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return lm_err_set(e, "%s: cannot open directory: %s", dir, strerror(errno));
    }
    int rc = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (!pp_outdir_is_ours(de->d_name)) continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT && !rc)
            rc = lm_err_set(e, "%s/%s: cannot remove: %s", dir, de->d_name, strerror(errno));
    }
    closedir(d);
    if (!rc && rmdir(dir) != 0)
        rc = lm_err_set(e, "%s: cannot remove directory: %s", dir, strerror(errno));
    return rc;
}

/* Checks that an existing path may be replaced/removed with --force. */
static int check_replaceable(const char *path, lm_err *e) {
    struct stat st;
    if (stat(path, &st) != 0) return lm_err_set(e, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return lm_err_set(e, "%s: exists and is not a directory", path);
    char other[256];
    int ok = only_ours(path, other, sizeof other);
    if (ok < 0) return lm_err_set(e, "%s: cannot read directory: %s", path, strerror(errno));
    if (!ok)
        return lm_err_set(e, "%s: exists and holds '%s', which is not a corpus file; "
                             "refusing to replace it even with --force", path, other);
    return 0;
}

int pp_outdir_begin(const char *out, int force, char *tmp, size_t tmpn, lm_err *e) {
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/') len--; /* "dir/" -> "dir.tmp", not "dir/.tmp" */
    if (len == 0 || snprintf(tmp, tmpn, "%.*s.tmp", (int)len, out) >= (int)tmpn)
        return lm_err_set(e, "%s: bad output path", out);
    struct stat st;
    if (stat(out, &st) == 0) {
        if (!force) return lm_err_set(e, "%s: already exists (use --force to replace it)", out);
        if (check_replaceable(out, e)) return -1;
    } else if (errno != ENOENT) {
        return lm_err_set(e, "%s: %s", out, strerror(errno));
    }
    if (stat(tmp, &st) == 0) {
        if (!force)
            return lm_err_set(e, "%s: exists (left by an interrupted run?); remove it or use --force", tmp);
        if (check_replaceable(tmp, e) || pp_outdir_remove(tmp, e)) return -1;
    }
    if (mkdir(tmp, 0777) != 0) return lm_err_set(e, "%s: cannot create directory: %s", tmp, strerror(errno));
    return 0;
}

static int fsync_parent(const char *path, lm_err *e) {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash) snprintf(parent, sizeof parent, ".");
    else if (slash == parent) parent[1] = 0;
    else *slash = 0;
    return io_fsync_path(parent, e);
}

int pp_outdir_commit(const char *tmp, const char *out, lm_err *e) {
    if (io_fsync_path(tmp, e)) return -1;
    struct stat st;
    if (stat(out, &st) != 0) {
        /* RENAME_NOREPLACE: another process creating OUT meanwhile is refused */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) != 0) {
            if (errno == EEXIST) return lm_err_set(e, "%s: appeared while preprocessing; not replaced", out);
            if ((errno != EINVAL && errno != ENOSYS) || rename(tmp, out) != 0)
                return lm_err_set(e, "%s: cannot rename from %s: %s", out, tmp, strerror(errno));
        }
        return fsync_parent(out, e);
    }
    /* --force: OUT was checked to hold only corpus files (pp_outdir_begin) */
    if (check_replaceable(out, e)) return -1;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) == 0) {
        if (fsync_parent(out, e)) return -1;
        return pp_outdir_remove(tmp, e); /* the old corpus, now at OUT.tmp */
    }
    if (errno != EINVAL && errno != ENOSYS)
        return lm_err_set(e, "%s: cannot swap in %s: %s", out, tmp, strerror(errno));
    /* filesystems without RENAME_EXCHANGE: move the old one aside first */
    char old[4200];
    snprintf(old, sizeof old, "%s.old.%ld", tmp, (long)getpid());
    if (rename(out, old) != 0) return lm_err_set(e, "%s: cannot move aside: %s", out, strerror(errno));
    if (rename(tmp, out) != 0) {
        int err = errno;
        (void)rename(old, out); /* best effort to put the old corpus back */
        return lm_err_set(e, "%s: cannot rename from %s: %s", out, tmp, strerror(err));
    }
    if (fsync_parent(out, e)) return -1;
    return pp_outdir_remove(old, e);
}
