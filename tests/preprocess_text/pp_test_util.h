/* Helpers for the reader tests: a temp dir per test and a callback that
 * collects records. */
#ifndef PP_TEST_UTIL_H
#define PP_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "pp_read.h"

typedef struct rec_copy {
    char *text;
    size_t text_len;
    char *genre, *artist, *title;
    uint64_t line;
    pp_skip skip;
} rec_copy;

typedef struct recs {
    rec_copy *v;
    size_t n, cap;
    int stop_after; /* > 0: the callback returns 7 after this many records */
} recs;

/* Creates a fresh temp dir (returned path is static). */
const char *tu_tmpdir(void);
/* The current temp dir. */
const char *tu_dir(void);
/* Removes the temp dir and everything in it. */
void tu_rmdir(void);
/* Writes data to <tmpdir>/name and returns the full path (malloc'd). */
char *tu_write(const char *name, const void *data, size_t len);
#define TU_WRITE(name, str) tu_write((name), (str), sizeof(str) - 1)

/* pp_record_fn that appends a copy of the record to a recs. */
int tu_collect(const pp_record *r, void *ctx);
void tu_recs_free(recs *r);
/* Reads path with opts into r; returns pp_read_file's value, e filled. */
int tu_read(const char *path, const pp_read_opts *o, recs *r, lm_err *e);

#endif
