/* pp_inputs: expands the command's INPUT arguments into a sorted list of
 * files and checksums them with libxxhash's XXH64 (see pp_internal.h).
 * Invariants: the list order depends only on the arguments and the names in
 * the directories (sorted bytewise), never on readdir order; every listed
 * file existed, was a non-empty regular file and could be opened. */
#include "pp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAX_DEPTH 32

static int has_suffix(const char *s, size_t len, const char *suf) {
    size_t n = strlen(suf);
    return len >= n && strcasecmp(s + len - n, suf) == 0;
}

/* A name a directory walk picks up: a known extension, optionally + ".zst". */
static int known_name(const char *name) {
    static const char *const EXT[] = {".csv", ".jsonl", ".json", ".ndjson", ".txt", ".text"};
    size_t len = strlen(name);
    if (has_suffix(name, len, ".zst")) len -= 4;
    for (size_t i = 0; i < sizeof EXT / sizeof EXT[0]; i++)
        if (has_suffix(name, len, EXT[i]) && len > strlen(EXT[i])) return 1;
    return 0;
}

static int add_file(pp_inputs *in, const char *path, const struct stat *st, lm_err *e) {
    if (st->st_size == 0) return lm_err_set(e, "%s: empty file", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lm_err_set(e, "%s: cannot open: %s", path, strerror(errno));
    close(fd);
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 16;
        pp_input *v = realloc(in->v, cap * sizeof *v);
        if (!v) return lm_err_set(e, "out of memory");
        in->v = v;
        in->cap = cap;
    }
    char *p = strdup(path);
    if (!p) return lm_err_set(e, "out of memory");
    in->v[in->n++] = (pp_input){.path = p, .bytes = (uint64_t)st->st_size};
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(pp_inputs *in, const char *dir, int depth, lm_err *e) {
    if (depth > MAX_DEPTH) return lm_err_set(e, "%s: directories nested too deep (symlink loop?)", dir);
    DIR *d = opendir(dir);
    if (!d) return lm_err_set(e, "%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.') continue; /* ., .. and hidden files */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { rc = lm_err_set(e, "out of memory"); break; }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) { rc = lm_err_set(e, "out of memory"); break; }
        n++;
    }
    closedir(d);
    if (!rc && n > 0) qsort(names, n, sizeof *names, cmp_str); /* names is NULL when n == 0 */
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(len);
        if (!p) { rc = lm_err_set(e, "out of memory"); break; }
        snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        struct stat st;
        if (stat(p, &st) != 0) rc = lm_err_set(e, "%s: %s", p, strerror(errno));
        else if (S_ISDIR(st.st_mode)) rc = walk(in, p, depth + 1, e);
        else if (S_ISREG(st.st_mode) && known_name(names[i])) rc = add_file(in, p, &st, e);
        free(p);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int pp_inputs_expand(const char *const *paths, int n, pp_inputs *out, lm_err *e) {
    memset(out, 0, sizeof *out);
    if (n <= 0) return lm_err_set(e, "no input files given");
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            pp_inputs_free(out);
            return lm_err_set(e, "%s: %s", paths[i], strerror(errno));
        }
        int rc;
        if (S_ISDIR(st.st_mode)) {
            size_t before = out->n;
            rc = walk(out, paths[i], 0, e);
            if (!rc && out->n == before)
                rc = lm_err_set(e, "%s: no usable input file in this directory (looked for "
                                   ".csv, .jsonl, .json, .ndjson, .txt, .text, optionally .zst)",
                                paths[i]);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(out, paths[i], &st, e);
        } else {
            rc = lm_err_set(e, "%s: not a regular file or directory", paths[i]);
        }
        if (rc) {
            pp_inputs_free(out);
            return -1;
        }
    }
    return 0;
}

void pp_inputs_free(pp_inputs *in) {
    for (size_t i = 0; i < in->n; i++) free(in->v[i].path);
    free(in->v);
    memset(in, 0, sizeof *in);
}

int pp_inputs_checksum(pp_inputs *in, const int *cancel, lm_err *e) {
    enum { BUF = 1 << 20 };
    char *buf = malloc(BUF);
    if (!buf) return lm_err_set(e, "out of memory");
    XXH64_state_t *st = XXH64_createState();
    if (!st) {
        free(buf);
        return lm_err_set(e, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < in->n && !rc; i++) {
        int fd = open(in->v[i].path, O_RDONLY);
        if (fd < 0) {
            rc = lm_err_set(e, "%s: cannot open: %s", in->v[i].path, strerror(errno));
            break;
        }
        XXH64_reset(st, 0);
        for (;;) {
            ssize_t r = read(fd, buf, BUF);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                rc = lm_err_set(e, "%s: read error: %s", in->v[i].path, strerror(errno));
                break;
            }
            if (r == 0 || __atomic_load_n(cancel, __ATOMIC_RELAXED)) break;
            XXH64_update(st, buf, (size_t)r);
        }
        close(fd);
        in->v[i].xxh64 = XXH64_digest(st);
    }
    XXH64_freeState(st);
    free(buf);
    return rc;
}

int pp_list_inputs(const char *const *paths, int n, char ***files, size_t *nfiles, lm_err *e) {
    pp_inputs in;
    *files = NULL;
    *nfiles = 0;
    if (pp_inputs_expand(paths, n, &in, e)) return -1;
    char **v = malloc((in.n + 1) * sizeof *v);
    if (!v) {
        pp_inputs_free(&in);
        return lm_err_set(e, "out of memory");
    }
    for (size_t i = 0; i < in.n; i++) v[i] = in.v[i].path; /* ownership moves */
    *files = v;
    *nfiles = in.n;
    free(in.v);
    return 0;
}

void pp_list_free(char **files, size_t n) {
    for (size_t i = 0; files && i < n; i++) free(files[i]);
    free(files);
}
