/* Helpers for the reader tests (see pp_test_util.h). */
#define _XOPEN_SOURCE 700
#include "pp_test_util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

const char *tu_tmpdir(void) {
    snprintf(dir, sizeof dir, "/tmp/lm_pp_text_XXXXXX");
    if (!mkdtemp(dir)) abort();
    return dir;
}

const char *tu_dir(void) {
    return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_rmdir(void) {
    if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = 0;
}

char *tu_write(const char *name, const void *data, size_t len) {
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) abort();
    return path;
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

int tu_collect(const pp_record *r, void *ctx) {
    recs *rs = ctx;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 16;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rec_copy *c = &rs->v[rs->n++];
    c->text = malloc(r->text_len + 1);
    memcpy(c->text, r->text, r->text_len);
    c->text[r->text_len] = 0;
    c->text_len = r->text_len;
    c->genre = dup_or_null(r->genre);
    c->artist = dup_or_null(r->artist);
    c->title = dup_or_null(r->title);
    c->line = r->line;
    c->skip = r->skip;
    return rs->stop_after > 0 && rs->n >= (size_t)rs->stop_after ? 7 : 0;
}

void tu_recs_free(recs *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].text);
        free(r->v[i].genre);
        free(r->v[i].artist);
        free(r->v[i].title);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

int tu_read(const char *path, const pp_read_opts *o, recs *r, lm_err *e) {
    e->msg[0] = 0;
    return pp_read_file(path, o, tu_collect, r, e);
}
