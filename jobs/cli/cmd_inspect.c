/* cmd_inspect: 'lyricmind inspect FILE|DIR...' validates shards, vocabularies,
 * checkpoints and genre classifiers fully and prints a short summary of each.
 *
 * A corpus directory is opened as one (io_corpus.h), then each of its files
 * is inspected. The kind comes from the file's root "kind" attribute. A shard is checked
 * against the vocab.h5 beside it when there is one (hash, size, genre ids).
 * Each file's summary is built once as a JSON object, printed either as
 * indented "key: value" lines or (--json) as one JSON line. Exit 0 when every
 * file is valid, 1 otherwise (one line per bad file on stderr, naming it). */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "inspect_plugin.h"
#include "io_ckpt.h"
#include "io_classifier.h"
#include "io_corpus.h"
#include "io_file.h"
#include "io_json.h"
#include "io_shard.h"
#include "io_vocab.h"

static void put_hex(json_t *o, const char *k, uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    json_object_set_new(o, k, json_string(buf));
}

/* The vocab.h5 in path's directory, if any, as a corpus directory has it
 * (io_corpus.h); cached across files of one dir. */
typedef struct vocab_cache {
    char path[4096];
    int state; /* 0 not looked, 1 none, 2 loaded, 3 unreadable */
    io_vocab v;
    lm_err err;
} vocab_cache;

static const io_vocab *vocab_beside(vocab_cache *vc, const char *path, lm_err *e) {
    char dup[4096], want[4096];
    snprintf(dup, sizeof dup, "%s", path);
    snprintf(want, sizeof want, "%s/%s", dirname(dup), IO_CORPUS_VOCAB_FILE);
    if (vc->state == 0 || strcmp(vc->path, want) != 0) {
        if (vc->state == 2) io_vocab_free(&vc->v);
        memcpy(vc->path, want, sizeof want);
        if (access(want, F_OK) != 0) vc->state = 1;
        else vc->state = io_vocab_read(want, &vc->v, &vc->err) == 0 ? 2 : 3;
    }
    if (vc->state == 3) *e = vc->err;
    return vc->state == 2 ? &vc->v : NULL;
}

/* Songs per genre, keyed by the full genre name (or "genre N" without a
 * vocabulary); NULL when a name cannot be a JSON key or two names collide, so
 * that no genre is ever silently left out of the counts. */
static json_t *genre_counts(const io_shard *s, const io_vocab *v) {
    uint64_t per[256] = {0};
    for (uint64_t i = 0; i < s->n_songs; i++) per[s->song_genre[i]]++;
    json_t *g = json_object();
    for (int i = 0; g && i < 256; i++) {
        if (!per[i]) continue;
        char own[32];
        snprintf(own, sizeof own, "genre %d", i);
        const char *name = v ? v->genres[i] : own;
        if (json_object_get(g, name) || json_object_set_new(g, name, json_integer((json_int_t)per[i]))) {
            json_decref(g);
            g = NULL;
        }
    }
    return g;
}

static int inspect_shard(const char *path, vocab_cache *vc, json_t *o, lm_err *e) {
    io_shard s;
    if (io_shard_open(&s, path, e)) return -1;
    int rc = io_shard_validate(&s, e);
    lm_err verr = {{0}};
    const io_vocab *v = rc ? NULL : vocab_beside(vc, path, &verr);
    if (!rc && !v && verr.msg[0]) rc = lm_err_set(e, "%s: cannot check against its vocabulary: %s",
                                                  path, verr.msg);
    if (!rc && v) rc = io_shard_check_vocab(&s, v->hash, v->size, vc->path, e);
    for (uint64_t i = 0; !rc && v && i < s.n_songs; i++)
        if (s.song_genre[i] >= v->n_genres)
            rc = lm_err_set(e, "%s: song %" PRIu64 " has genre id %u but %s has %u genres", path, i,
                            s.song_genre[i], vc->path, v->n_genres);
    if (rc) {
        io_shard_close(&s);
        return -1;
    }
    uint64_t stored = io_shard_stored_bytes(&s);
    json_object_set_new(o, "format_version", json_integer(IO_SHARD_FORMAT_VERSION));
    json_object_set_new(o, "vocab_size", json_integer(s.vocab_size));
    put_hex(o, "vocab_hash", s.vocab_hash);
    json_object_set_new(o, "vocab_check", json_string(v ? "matches vocab.h5 beside it"
                                                        : "no vocab.h5 beside it"));
    json_object_set_new(o, "songs", json_integer((json_int_t)s.n_songs));
    json_object_set_new(o, "tokens", json_integer((json_int_t)s.n_tokens));
    json_object_set_new(o, "tokens_per_song",
                        io_json_real(s.n_songs ? (double)s.n_tokens / (double)s.n_songs : 0));
    json_object_set_new(o, "stored_bytes", json_integer((json_int_t)stored));
    json_object_set_new(o, "compression_ratio",
                        io_json_real(stored ? 2.0 * (double)s.n_tokens / (double)stored : 0));
    json_t *g = genre_counts(&s, v);
    if (!g) {
        io_shard_close(&s);
        return lm_err_set(e, "%s: cannot list the songs per genre (a genre name is not valid UTF-8 "
                             "or two are equal)", path);
    }
    json_object_set_new(o, "songs_per_genre", g);
    char line[8192];
    inspect_plugin_line(line, sizeof line, path);
    json_object_set_new(o, "stock_tools", io_json_str(line));
    io_shard_close(&s);
    return 0;
}

static int inspect_vocab(const char *path, json_t *o, lm_err *e) {
    io_vocab v;
    if (io_vocab_read(path, &v, e)) return -1;
    json_object_set_new(o, "format_version", json_integer(v.format_version));
    json_object_set_new(o, "size", json_integer(v.size));
    put_hex(o, "vocab_hash", v.hash);
    json_object_set_new(o, "counts_checksum", json_string(v.format_version >= 2 ? "ok"
                                                          : "none (format version 1)"));
    json_t *g = json_array();
    for (uint32_t i = 0; i < v.n_genres; i++) json_array_append_new(g, io_json_str(v.genres[i]));
    json_object_set_new(o, "genres", g);
    uint64_t total = 0;
    for (uint32_t i = 0; i < v.size; i++) total += v.counts[i];
    json_object_set_new(o, "total_count", json_integer((json_int_t)total));
    json_t *top = json_array();
    for (uint32_t i = IO_TOK_FIRST_GENRE + v.n_genres; i < v.size && i < IO_TOK_FIRST_GENRE + v.n_genres + 10; i++)
        json_array_append_new(top, io_json_str(v.tokens[i]));
    json_object_set_new(o, "first_words", top);
    io_vocab_free(&v);
    return 0;
}

static int inspect_checkpoint(const char *path, json_t *o, lm_err *e) {
    io_ckpt_summary s;
    if (io_ckpt_validate(path, &s, e)) return -1;
    json_object_set_new(o, "format_version", json_integer(s.format_version));
    json_object_set_new(o, "step", json_integer(s.step));
    json_object_set_new(o, "epoch", json_integer(s.epoch));
    json_object_set_new(o, "val_loss", io_json_real(s.val_loss));
    json_t *d = json_object();
    json_object_set_new(d, "V", json_integer(s.dims.V));
    json_object_set_new(d, "E", json_integer(s.dims.E));
    json_object_set_new(d, "H", json_integer(s.dims.H));
    json_object_set_new(o, "dims", d);
    json_object_set_new(o, "params", json_integer((json_int_t)s.n_params));
    put_hex(o, "vocab_hash", s.vocab_hash);
    json_object_set_new(o, "optimizer_state", json_boolean(s.has_optim));
    json_object_set_new(o, "state_arrays", json_integer((json_int_t)s.n_state));
    put_hex(o, "checksum", s.checksum);
    json_object_set_new(o, "checksum_ok", json_true());
    return 0;
}

static int inspect_classifier(const char *path, json_t *o, lm_err *e) {
    io_classifier_summary s;
    if (io_classifier_validate(path, &s, e)) return -1;
    json_object_set_new(o, "format_version", json_integer(s.format_version));
    json_object_set_new(o, "genres", json_integer(s.G));
    json_object_set_new(o, "vocab_size", json_integer(s.V));
    put_hex(o, "vocab_hash", s.vocab_hash);
    put_hex(o, "corpus_hash", s.corpus_hash);
    json_object_set_new(o, "first_word", json_integer(s.first_word));
    json_object_set_new(o, "alpha", io_json_real(s.alpha));
    json_object_set_new(o, "train_songs", json_integer((json_int_t)s.songs)); /* whole numbers */
    put_hex(o, "checksum", s.checksum);
    json_object_set_new(o, "checksum_ok", json_true());
    return 0;
}

static int inspect_kind(io_file_kind kind, const char *path, vocab_cache *vc, json_t *o, lm_err *e) {
    switch (kind) {
    case IO_FILE_SHARD: return inspect_shard(path, vc, o, e);
    case IO_FILE_VOCAB: return inspect_vocab(path, o, e);
    case IO_FILE_CHECKPOINT: return inspect_checkpoint(path, o, e);
    case IO_FILE_CLASSIFIER: return inspect_classifier(path, o, e);
    }
    return lm_err_set(e, "%s: no validator for kind %s", path, io_file_kind_name(kind));
}

/* "key: value" lines; objects as "k v, k v", arrays as "a, b". */
static void print_value(const json_t *v) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        int first = 1;
        json_object_foreach((json_t *)v, k, x) {
            printf("%s%s ", first ? "" : ", ", k);
            print_value(x);
            first = 0;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            printf("%s", i ? ", " : "");
            print_value(json_array_get(v, i));
        }
    } else if (json_is_string(v)) printf("%s", json_string_value(v));
    else if (json_is_integer(v)) printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) printf("%.4g", json_real_value(v));
    else if (json_is_true(v)) printf("yes");
    else if (json_is_null(v)) printf("-");
    else printf("no");
}

static void print_text(const char *path, json_t *o) {
    printf("%s: %s, valid\n", path, json_string_value(json_object_get(o, "kind")));
    const char *k;
    json_t *x;
    json_object_foreach(o, k, x) {
        if (!strcmp(k, "file") || !strcmp(k, "kind") || !strcmp(k, "valid")) continue;
        printf("  %s: ", k);
        print_value(x);
        printf("\n");
    }
}

/* One entry: o (file, kind, summary) validated by r; printed as text or a
 * JSON line, the error on stderr. Returns the count of bad outputs (0/1). */
static int report(const char *path, json_t *o, int r, const lm_err *e, int as_json) {
    int bad = r != 0;
    json_object_set_new(o, "valid", json_boolean(r == 0));
    if (r) {
        fprintf(stderr, "lyricmind inspect: %s\n", e->msg);
        json_object_set_new(o, "error", io_json_str(e->msg));
    }
    if (as_json) {
        if (io_json_write_line(stdout, o)) bad = 1;
    } else {
        if (r == 0) print_text(path, o);
        json_decref(o);
    }
    return bad;
}

/* One file of any kind. */
static int inspect_path(const char *path, vocab_cache *vc, int as_json) {
    lm_err e = {{0}};
    io_file_kind kind;
    json_t *o = json_object();
    json_object_set_new(o, "file", io_json_str(path));
    int r = io_file_detect(path, &kind, &e);
    if (r == 0) {
        json_object_set_new(o, "kind", json_string(io_file_kind_name(kind)));
        r = inspect_kind(kind, path, vc, o, &e);
    }
    return report(path, o, r, &e, as_json);
}

static json_t *split_summary(const io_corpus_split *sp) {
    json_t *o = json_object();
    json_object_set_new(o, "shards", json_integer(sp->n_shards));
    json_object_set_new(o, "songs", json_integer((json_int_t)sp->n_songs));
    json_object_set_new(o, "tokens", json_integer((json_int_t)sp->n_tokens));
    return o;
}

/* Each file of one split, in corpus order. */
static int inspect_split(const char *dir, const char *split, vocab_cache *vc, int as_json) {
    char **paths;
    int n, bad = 0;
    lm_err e;
    if (io_corpus_list(dir, split, &paths, &n, &e)) return fprintf(stderr, "lyricmind inspect: %s\n", e.msg), 1;
    for (int i = 0; i < n; i++) bad += inspect_path(paths[i], vc, as_json);
    io_corpus_list_free(paths, n);
    return bad;
}

/* A corpus directory (io_corpus.h): the directory as a whole (vocab.h5,
 * both splits, every shard built with that vocabulary), then every file of
 * it validated in full, as if each had been named. */
static int inspect_corpus(const char *dir, vocab_cache *vc, int as_json) {
    lm_err e = {{0}};
    json_t *o = json_object();
    json_object_set_new(o, "file", io_json_str(dir));
    json_object_set_new(o, "kind", json_string("corpus"));
    io_corpus c;
    char vocab[4200];
    snprintf(vocab, sizeof vocab, "%s/%s", dir, IO_CORPUS_VOCAB_FILE);
    int r = access(vocab, F_OK) != 0
                ? lm_err_set(&e, "%s is a directory but not a corpus (no %s): inspect takes LyricMind files or "
                                 "a corpus directory written by 'lyricmind preprocess'", dir, IO_CORPUS_VOCAB_FILE)
                : io_corpus_open(&c, dir, &e);
    if (r == 0) {
        json_object_set_new(o, "vocab_size", json_integer((json_int_t)c.vocab.size));
        json_object_set_new(o, "train", split_summary(&c.train));
        json_object_set_new(o, "val", split_summary(&c.val));
        io_corpus_close(&c);
    }
    int bad = report(dir, o, r, &e, as_json);
    if (r) return bad;
    bad += inspect_path(vocab, vc, as_json);
    bad += inspect_split(dir, IO_CORPUS_TRAIN, vc, as_json);
    return bad + inspect_split(dir, IO_CORPUS_VAL, vc, as_json);
}

int cmd_inspect(int argc, char **argv) {
    int as_json = 0;
    cli_opt opts[] = {
        {"json", CLI_BOOL, &as_json, NULL, "print one JSON object per file instead of text", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"inspect", "[--json] FILE|DIR...",
                   "Validates each LyricMind file fully (shard: attributes, shapes, offsets, every "
                   "token id < V, and the vocab.h5 beside it if any; vocabulary: specials, genres, "
                   "hash; checkpoint: format, shapes, checksums; genre classifier: shapes, settings, "
                   "checksum, counts) and prints a short summary. A corpus directory (DIR, as "
                   "'lyricmind preprocess' writes it) is checked as a whole (vocab.h5, both "
                   "splits, every shard built with that vocabulary), then each of its files. "
                   "Exits 0 when all files are valid, 1 otherwise with one line per bad file.",
                   opts};
    char *files[4096];
    int n = 0;
    int rc = cli_parse(&cmd, argc, argv, files, 4096, &n);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    if (n == 0) return cli_error(&cmd, "no FILE given (see 'lyricmind inspect --help')"), LM_EXIT_USAGE;
    vocab_cache vc = {.state = 0};
    int bad = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(files[i], &st) == 0 && S_ISDIR(st.st_mode)) bad += inspect_corpus(files[i], &vc, as_json);
        else bad += inspect_path(files[i], &vc, as_json);
    }
    if (vc.state == 2) io_vocab_free(&vc.v);
    fflush(stdout);
    return bad ? LM_EXIT_FAILURE : LM_EXIT_OK;
}
