/* pp_test_util: the one fixture helper of the preprocess tests: temp dirs,
 * small files written by the tests themselves, a record collector for the
 * reader tests, and readers that load a whole corpus directory back
 * (vocabulary and every shard) for comparisons. */
#ifndef PP_TEST_UTIL_H
#define PP_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "io_vocab.h"
#include "pp.h"
#include "pp_read.h"

char *ppt_tmpdir(void);                 /* fresh directory under /tmp */
void ppt_rm_rf(const char *path);
char *ppt_path(const char *dir, const char *name); /* malloc'd dir/name */
void ppt_write(const char *path, const char *data, size_t len);
void ppt_writes(const char *path, const char *text); /* NUL-terminated */
int ppt_exists(const char *path);
/* Writes len bytes of data to dir/name; returns that path (malloc'd). */
char *ppt_file(const char *dir, const char *name, const void *data, size_t len);
#define PPT_FILE(dir, name, str) ppt_file((dir), (name), (str), sizeof(str) - 1)

/* ---- reader tests: every record of a file, copied ---------------------------- */

typedef struct ppt_rec {
    char *text;
    size_t text_len;
    char *genre, *artist, *title;
    uint64_t line;
    pp_skip skip;
} ppt_rec;

typedef struct ppt_recs {
    ppt_rec *v;
    size_t n, cap;
    int stop_after; /* > 0: the callback returns 7 after this many records */
} ppt_recs;

/* pp_record_fn that appends a copy of the record to a ppt_recs. */
int ppt_collect(const pp_record *r, void *ctx);
void ppt_recs_free(ppt_recs *r);
/* Reads path with opts into r; returns pp_read_file's value, e filled. */
int ppt_read(const char *path, const pp_read_opts *o, ppt_recs *r, lm_err *e);

/* ---- pipeline tests: a corpus directory loaded back -------------------------- */

/* A loaded shard series (train or val), all shards concatenated. */
typedef struct ppt_split {
    uint16_t *tokens;
    uint64_t n_tokens;
    uint64_t *offsets; /* n_songs + 1 */
    uint8_t *genres;
    uint64_t n_songs;
    uint32_t n_shards;
    uint64_t max_shard_tokens;
} ppt_split;

typedef struct ppt_corpus {
    io_vocab vocab;
    ppt_split train, val;
} ppt_corpus;

/* Loads dir/vocab.h5 and every dir/train-NNNNN.h5, dir/val-NNNNN.h5 (each
 * validated with io_shard_validate); asserts on any problem. */
void ppt_load(const char *dir, ppt_corpus *c);
void ppt_free(ppt_corpus *c);
/* Song s of a split as text: tokens joined by spaces. malloc'd. */
char *ppt_song_text(const ppt_corpus *c, const ppt_split *sp, uint64_t s);

/* Options for a test run: defaults, one input, quiet. */
void ppt_options(pp_options *o, const char *out, const char *const *inputs, int n);

#endif
