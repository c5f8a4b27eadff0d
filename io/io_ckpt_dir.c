/* io_ckpt_dir: checkpoint files in a run directory: naming, listing,
 * keep-last-K pruning and "newest valid" for --resume auto (see io_ckpt.h).
 *
 * Invariants: only names of the exact form ckpt-<digits>.h5 are ever listed
 * or pruned; best.h5 and anything else are left alone. The one exception is
 * io_ckpt_remove_stale_tmp, which deletes only the temp names io_atomic gives
 * checkpoints (ckpt-<digits>.h5.tmp.<digits>, best.h5.tmp.<digits>). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_ckpt.h"

void io_ckpt_path(char *out, size_t n, const char *run_dir, int64_t step) {
    snprintf(out, n, "%s/ckpt-%09" PRId64 ".h5", run_dir, step);
}

/* Step of "ckpt-<digits>.h5", or -1. */
static int64_t parse_name(const char *name) {
    if (strncmp(name, "ckpt-", 5) != 0) return -1;
    const char *p = name + 5;
    int64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 18) return -1;
        v = v * 10 + (*p - '0');
    }
    return digits > 0 && strcmp(p, ".h5") == 0 ? v : -1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int io_ckpt_list(const char *run_dir, int64_t **steps, size_t *n, lm_err *e) {
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(run_dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return lm_err_set(e, "%s: cannot list checkpoints: %s", run_dir, strerror(errno));
    }
    size_t cap = 0;
    int rc = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        int64_t s = parse_name(de->d_name);
        if (s < 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *grown = realloc(*steps, cap * sizeof *grown);
            if (!grown) {
                rc = lm_err_set(e, "%s: out of memory listing checkpoints", run_dir);
                break;
            }
            *steps = grown;
        }
        (*steps)[(*n)++] = s;
    }
    closedir(d);
    if (rc) {
        free(*steps);
        *steps = NULL;
        *n = 0;
        return -1;
    }
    if (*n > 0) qsort(*steps, *n, sizeof **steps, cmp_i64); /* *steps may be NULL */
    return 0;
}

int io_ckpt_keep_last(const char *run_dir, int keep, lm_err *e) {
    if (keep <= 0) return 0;
    int64_t *steps;
    size_t n;
    if (io_ckpt_list(run_dir, &steps, &n, e)) return -1;
    int deleted = 0;
    for (size_t i = 0; i + (size_t)keep < n; i++) {
        char path[4200];
        io_ckpt_path(path, sizeof path, run_dir, steps[i]);
        if (unlink(path) == 0) deleted++;
        else if (errno != ENOENT) {
            lm_err_set(e, "%s: cannot delete old checkpoint: %s", path, strerror(errno));
            free(steps);
            return -1;
        }
    }
    free(steps);
    return deleted;
}

int io_ckpt_newest_valid(const char *run_dir, char *out, size_t n,
                         void (*on_skip)(void *ctx, const char *path, const char *why),
                         void *ctx, lm_err *e) {
    int64_t *steps;
    size_t count;
    if (io_ckpt_list(run_dir, &steps, &count, e)) return -1;
    int found = 0;
    for (size_t i = count; i-- > 0 && !found;) {
        char path[4200];
        lm_err why;
        io_ckpt_path(path, sizeof path, run_dir, steps[i]);
        if (io_ckpt_validate(path, NULL, &why) == 0) {
            snprintf(out, n, "%s", path);
            found = 1;
        } else if (on_skip) {
            on_skip(ctx, path, why.msg);
        }
    }
    free(steps);
    return found;
}

/* Is name "<ckpt-N.h5 or best.h5>.tmp.<digits>"? */
static int is_ckpt_tmp(const char *name) {
    const char *t = strstr(name, ".h5.tmp.");
    if (!t || !t[8]) return 0;
    for (const char *p = t + 8; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    char base[256];
    size_t len = (size_t)(t - name) + 3;
    if (len >= sizeof base) return 0;
    memcpy(base, name, len);
    base[len] = 0;
    return strcmp(base, IO_CKPT_BEST) == 0 || parse_name(base) >= 0;
}

int io_ckpt_remove_stale_tmp(const char *run_dir, int *removed, lm_err *e) {
    *removed = 0;
    DIR *d = opendir(run_dir);
    if (!d) return lm_err_set(e, "%s: cannot list for stale temp files: %s", run_dir, strerror(errno));
    int rc = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (!is_ckpt_tmp(de->d_name)) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", run_dir, de->d_name);
        if (unlink(path) == 0) (*removed)++;
        else if (errno != ENOENT) {
            rc = lm_err_set(e, "%s: cannot remove stale temp file: %s", path, strerror(errno));
            break;
        }
    }
    closedir(d);
    return rc;
}
