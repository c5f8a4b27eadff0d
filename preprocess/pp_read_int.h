/* pp_read_int: internals shared by the format readers (not a public API;
 * include pp_read.h instead).
 *
 * pp_src delivers a file's bytes in blocks of up to PP_BLOCK bytes, plain or
 * decompressed from .zst on the fly, with a leading UTF-8 BOM removed. Every
 * block but the last is full, so memory is one block plus what a format
 * reader keeps for the record it is assembling. pp_lines cuts the blocks
 * into lines (a line longer than a block is carried in a growing buffer). */
#ifndef PP_READ_INT_H
#define PP_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "pp_mem.h"
#include "pp_read.h"

#define PP_BLOCK ((size_t)1 << 20)
/* Largest record (CSV field, JSON line, text song) a reader accepts: a
 * runaway quote or a missing boundary fails with a clear error instead of
 * swallowing the whole file. */
#define PP_MAX_RECORD ((size_t)64 << 20)

typedef struct pp_src {
    const char *path;
    int fd;
    int zst;                 /* decompressing a .zst file */
    void *dstream;           /* ZSTD_DStream */
    unsigned char *in;       /* compressed input buffer */
    size_t in_cap, in_len, in_pos;
    uint64_t in_off;         /* compressed bytes before in[0] */
    size_t zret;             /* last ZSTD_decompressStream hint (0: frame done) */
    int in_eof;
    char *buf;               /* current output block */
    uint64_t delivered;      /* bytes handed out so far */
    int done;
} pp_src;

/* Opens path ("PATH: cannot open: <strerror>" on failure). */
int pp_src_open(pp_src *s, const char *path, lm_err *e);
/* Next block: returns its length (> 0) with *data set, 0 at the end, -1 with
 * e set ("empty file", read errors, corrupt/truncated zstd with byte offset). */
ptrdiff_t pp_src_next(pp_src *s, const char **data, lm_err *e);
void pp_src_close(pp_src *s);

typedef struct pp_lines {
    pp_src *src;
    const char *blk; size_t blen, bpos;
    char *carry; size_t clen, ccap;
    uint64_t lineno;         /* 1-based number of the line last returned */
    int eof;
} pp_lines;

/* Starts cutting lines from the first block (already read) of src. */
void pp_lines_init(pp_lines *L, pp_src *src, const char *blk, size_t blen);
/* 1 with the next line (without its '\n'; a trailing '\r' is kept), 0 at the
 * end, -1 on a source error. The line is valid until the next call. */
int pp_lines_next(pp_lines *L, const char **line, size_t *len, lm_err *e);
void pp_lines_free(pp_lines *L);


/* Format readers: the first block of src has already been read. */
int pp_read_csv(pp_src *s, const char *blk, size_t blen, const pp_read_opts *o,
                pp_record_fn fn, void *ctx, lm_err *e);
int pp_read_jsonl(pp_src *s, const char *blk, size_t blen, const pp_read_opts *o,
                  pp_record_fn fn, void *ctx, lm_err *e);
int pp_read_text(pp_src *s, const char *blk, size_t blen, const pp_read_opts *o,
                 pp_record_fn fn, void *ctx, lm_err *e);

/* pp_read_names.c: */
/* Splits path's base name, ignoring a final ".zst", at its last dot (a
 * leading dot does not count): returns the base name, *stem = its length up
 * to that dot (or all of it), *ext and *ext_len = the extension or NULL, 0. */
const char *pp_name_split(const char *path, size_t *stem, const char **ext, size_t *ext_len);

/* The default names a column/field may have when the option is NULL. */
extern const char *const pp_default_text_fields[];
extern const char *const pp_default_genre_fields[];
extern const char *const pp_default_artist_fields[];
extern const char *const pp_default_title_fields[];

#endif
