/* pp_test_util: see pp_test_util.h. */
#define _XOPEN_SOURCE 700
#include "pp_test_util.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io_shard.h"

char *ppt_tmpdir(void) {
    char *d = strdup("/tmp/lm-pp-test-XXXXXX");
    cr_assert(d && mkdtemp(d));
    return d;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    chmod(p, 0700);
    return remove(p);
}

void ppt_rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

char *ppt_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void ppt_write(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

void ppt_writes(const char *path, const char *text) { ppt_write(path, text, strlen(text)); }

int ppt_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

char *ppt_file(const char *dir, const char *name, const void *data, size_t len) {
    char *p = ppt_path(dir, name);
    ppt_write(p, data, len);
    return p;
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

int ppt_collect(const pp_record *r, void *ctx) {
    ppt_recs *rs = ctx;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 16;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    ppt_rec *c = &rs->v[rs->n++];
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

void ppt_recs_free(ppt_recs *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].text);
        free(r->v[i].genre);
        free(r->v[i].artist);
        free(r->v[i].title);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

int ppt_read(const char *path, const pp_read_opts *o, ppt_recs *r, lm_err *e) {
    e->msg[0] = 0;
    return pp_read_file(path, o, ppt_collect, r, e);
}

static void append_shard(ppt_split *sp, const char *path, const io_vocab *v) {
    io_shard s;
    lm_err e = {{0}};
    cr_assert_eq(io_shard_open(&s, path, &e), 0, "%s", e.msg);
    cr_assert_eq(io_shard_validate(&s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.vocab_hash, v->hash, "%s: vocab hash", path);
    cr_assert_eq(s.vocab_size, v->size, "%s: vocab size", path);
    sp->tokens = realloc(sp->tokens, (sp->n_tokens + s.n_tokens + 1) * sizeof *sp->tokens);
    sp->offsets = realloc(sp->offsets, (sp->n_songs + s.n_songs + 1) * sizeof *sp->offsets);
    sp->genres = realloc(sp->genres, sp->n_songs + s.n_songs + 1);
    cr_assert(sp->tokens && sp->offsets && sp->genres);
    cr_assert_eq(io_shard_read(&s, 0, s.n_tokens, sp->tokens + sp->n_tokens, &e), 0, "%s", e.msg);
    if (sp->n_songs == 0) sp->offsets[0] = 0;
    for (uint64_t i = 0; i < s.n_songs; i++) {
        sp->offsets[sp->n_songs + i + 1] = sp->n_tokens + s.song_offsets[i + 1];
        sp->genres[sp->n_songs + i] = s.song_genre[i];
    }
    sp->n_tokens += s.n_tokens;
    sp->n_songs += s.n_songs;
    sp->n_shards++;
    if (s.n_tokens > sp->max_shard_tokens) sp->max_shard_tokens = s.n_tokens;
    io_shard_close(&s);
}

static void load_split(const char *dir, const char *prefix, ppt_split *sp, const io_vocab *v) {
    memset(sp, 0, sizeof *sp);
    for (int i = 0;; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%05d.h5", prefix, i);
        char *p = ppt_path(dir, name);
        int ok = ppt_exists(p);
        if (ok) append_shard(sp, p, v);
        free(p);
        if (!ok) break;
    }
}

void ppt_load(const char *dir, ppt_corpus *c) {
    memset(c, 0, sizeof *c);
    char *p = ppt_path(dir, "vocab.h5");
    lm_err e = {{0}};
    cr_assert_eq(io_vocab_read(p, &c->vocab, &e), 0, "%s", e.msg);
    free(p);
    load_split(dir, "train", &c->train, &c->vocab);
    load_split(dir, "val", &c->val, &c->vocab);
}

static void free_split(ppt_split *sp) {
    free(sp->tokens);
    free(sp->offsets);
    free(sp->genres);
}

void ppt_free(ppt_corpus *c) {
    io_vocab_free(&c->vocab);
    free_split(&c->train);
    free_split(&c->val);
}

char *ppt_song_text(const ppt_corpus *c, const ppt_split *sp, uint64_t s) {
    size_t len = 1;
    for (uint64_t i = sp->offsets[s]; i < sp->offsets[s + 1]; i++) len += strlen(c->vocab.tokens[sp->tokens[i]]) + 1;
    char *t = calloc(1, len);
    cr_assert(t);
    for (uint64_t i = sp->offsets[s]; i < sp->offsets[s + 1]; i++) {
        if (i > sp->offsets[s]) strcat(t, " ");
        strcat(t, c->vocab.tokens[sp->tokens[i]]);
    }
    return t;
}

void ppt_options(pp_options *o, const char *out, const char *const *inputs, int n) {
    pp_options_default(o);
    o->out_dir = out;
    o->inputs = inputs;
    o->n_inputs = n;
    o->threads = 2;
}
