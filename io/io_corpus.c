/* io_corpus: list, open and check the shards of a corpus directory (see
 * io_corpus.h). Invariant: a split's shards, song_base and counts are set
 * together as each shard opens, so closing a half-open split frees exactly
 * what was opened. */
#include "io_corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "<split>-*.h5", with something between the dash and the suffix. */
static int is_shard_name(const char *name, const char *split) {
    size_t l = strlen(name), pl = strlen(split);
    return l > pl + 4 && !strncmp(name, split, pl) && name[pl] == '-' && !strcmp(name + l - 3, ".h5");
}

/* Appends "dir/name" to *paths (capacity *cap). */
static int list_push(char ***paths, int *n, int *cap, const char *dir, const char *name) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        char **p = realloc(*paths, (size_t)c * sizeof *p);
        if (!p) return -1;
        *paths = p, *cap = c;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *s = malloc(len);
    if (!s) return -1;
    snprintf(s, len, "%s/%s", dir, name);
    (*paths)[(*n)++] = s;
    return 0;
}

int io_corpus_list(const char *dir, const char *split, char ***paths, int *n, lm_err *e) {
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return lm_err_set(e, "%s: cannot open data directory", dir);
    char **p = NULL;
    int k = 0, cap = 0, rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)))
        if (is_shard_name(de->d_name, split) && list_push(&p, &k, &cap, dir, de->d_name))
            rc = lm_err_set(e, "%s: out of memory listing the %s shards", dir, split);
    closedir(d);
    if (!rc && k == 0)
        rc = lm_err_set(e, "%s: no %s-*.h5 shards (is this a 'lyricmind preprocess' output?)", dir, split);
    if (rc) {
        io_corpus_list_free(p, k);
        return -1;
    }
    qsort(p, (size_t)k, sizeof *p, cmp_str);
    *paths = p;
    *n = k;
    return 0;
}

void io_corpus_list_free(char **paths, int n) {
    for (int i = 0; paths && i < n; i++) free(paths[i]);
    free(paths);
}

int io_corpus_check_dir(const char *dir, lm_err *e) {
    struct stat st;
    if (stat(dir, &st) != 0)
        return lm_err_set(e, "%s: %s (--data takes a corpus directory made by 'lyricmind preprocess --out %s ...')",
                          dir, strerror(errno), dir);
    if (!S_ISDIR(st.st_mode))
        return lm_err_set(e, "%s is not a directory (--data takes a corpus directory made by "
                             "'lyricmind preprocess --out DIR ...')", dir);
    char vocab[8192];
    snprintf(vocab, sizeof vocab, "%s/%s", dir, IO_CORPUS_VOCAB_FILE);
    if (access(vocab, F_OK) != 0 && errno == ENOENT)
        return lm_err_set(e, "%s is not a corpus directory (no vocab.h5): run 'lyricmind preprocess --out CORPUS "
                             "%s' first, then pass --data CORPUS", dir, dir);
    return 0;
}

int io_corpus_split_open(io_corpus_split *sp, const char *dir, const char *split, const io_vocab *v,
                         const char *vocab_path, lm_err *e) {
    memset(sp, 0, sizeof *sp);
    char **paths;
    int n;
    if (io_corpus_list(dir, split, &paths, &n, e)) return -1;
    int rc = 0;
    sp->shards = calloc((size_t)n, sizeof *sp->shards);
    sp->song_base = calloc((size_t)n + 1, sizeof *sp->song_base);
    if (!sp->shards || !sp->song_base) rc = lm_err_set(e, "%s: out of memory opening %d shards", dir, n);
    for (int i = 0; !rc && i < n; i++) {
        if (io_shard_open(&sp->shards[i], paths[i], e)) {
            rc = -1;
            break;
        }
        sp->n_shards = i + 1;
        rc = io_shard_check_vocab(&sp->shards[i], v->hash, v->size, vocab_path, e);
        sp->song_base[i + 1] = sp->song_base[i] + sp->shards[i].n_songs;
        sp->n_tokens += sp->shards[i].n_tokens;
    }
    if (!rc) sp->n_songs = sp->song_base[n];
    io_corpus_list_free(paths, n);
    if (rc) io_corpus_split_close(sp);
    return rc;
}

void io_corpus_split_close(io_corpus_split *sp) {
    for (int i = 0; i < sp->n_shards; i++) io_shard_close(&sp->shards[i]);
    free(sp->shards);
    free(sp->song_base);
    memset(sp, 0, sizeof *sp);
}

void io_corpus_song_locate(const io_corpus_split *sp, uint64_t g, int *shard, uint64_t *start,
                           uint64_t *len) {
    int lo = 0, hi = sp->n_shards - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (sp->song_base[mid] <= g) lo = mid;
        else hi = mid - 1;
    }
    const io_shard *s = &sp->shards[lo];
    uint64_t local = g - sp->song_base[lo];
    *shard = lo;
    *start = s->song_offsets[local];
    *len = s->song_offsets[local + 1] - s->song_offsets[local];
}

int io_corpus_open(io_corpus *c, const char *dir, lm_err *e) {
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    char vocab[8192];
    snprintf(vocab, sizeof vocab, "%s/%s", dir, IO_CORPUS_VOCAB_FILE);
    if (io_corpus_check_dir(dir, e) || io_vocab_read(vocab, &c->vocab, e)) return -1;
    if (io_corpus_split_open(&c->train, dir, IO_CORPUS_TRAIN, &c->vocab, vocab, e) ||
        io_corpus_split_open(&c->val, dir, IO_CORPUS_VAL, &c->vocab, vocab, e)) {
        io_corpus_close(c);
        return -1;
    }
    return 0;
}

void io_corpus_close(io_corpus *c) {
    io_corpus_split_close(&c->train);
    io_corpus_split_close(&c->val);
    io_vocab_free(&c->vocab);
}
