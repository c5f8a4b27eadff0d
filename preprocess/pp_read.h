/* pp_read: streaming readers for raw lyrics files, one record (song) at a
 * time, with the file's position for error messages.
 *
 * Formats: CSV (RFC 4180 via libcsv, multi-line quoted fields, columns found
 * by header name case-insensitively), JSON Lines (jansson, one object per
 * line), and text files where songs are separated by a boundary line (the
 * file's base name, minus extensions, is the raw genre). A ".zst" suffix is
 * decompressed on the fly (libzstd streaming); the format is then decided by
 * the name without ".zst". Memory is bounded by one record, never the file.
 *
 * Per-file problems (unreadable, empty, malformed CSV, missing text column,
 * corrupt .zst, bad JSON) end the read with -1 and one line in lm_err naming
 * the file and line. Per-record problems are passed to the callback in
 * pp_record.skip so the caller can count them. A JSON line that is not valid
 * UTF-8 is passed with the raw line as text (skip = PP_SKIP_NONE), so that
 * pp_clean_song reports it as invalid UTF-8 like in the other formats. A
 * record (CSV field, JSON line, text song) over 64 MiB is a per-file error.
 * Details and every message: docs/preprocess-text.md. */
#ifndef PP_READ_H
#define PP_READ_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"

typedef enum { PP_FMT_AUTO = 0, PP_FMT_CSV, PP_FMT_JSONL, PP_FMT_TEXT } pp_format;

typedef enum {
    PP_SKIP_NONE = 0,
    PP_SKIP_MISSING_TEXT, /* record has no (or a non-string) text field */
} pp_skip;

typedef struct pp_read_opts {
    pp_format format;
    const char *text_field;   /* NULL: first of lyrics, text, lyric, content */
    const char *genre_field;  /* NULL: first of genre, tag, tags, category */
    const char *artist_field; /* NULL: artist, singer */
    const char *title_field;  /* NULL: title, song, name */
    const char *boundary;     /* text format; NULL: "<SONG_BOUNDARY>" */
    const char *text_genre;   /* text format; NULL: base name of the file */
} pp_read_opts;

typedef struct pp_record {
    const char *text;   size_t text_len;  /* valid until the callback returns */
    const char *genre;  /* raw label or NULL (an empty label is NULL) */
    const char *artist; /* or NULL */
    const char *title;  /* or NULL */
    const char *path;   /* file being read */
    uint64_t line;      /* 1-based line where the record starts */
    pp_skip skip;
} pp_record;

/* Return 0 to continue, non-zero to stop reading (the value is returned). */
typedef int (*pp_record_fn)(const pp_record *r, void *ctx);

/* Decides the format from the name (.csv .jsonl/.json/.ndjson .txt/.text,
 * ignoring a final .zst) and, failing that, the first bytes. */
pp_format pp_detect_format(const char *path, const char *head, size_t head_len);
const char *pp_format_name(pp_format f);
int pp_format_parse(const char *s, pp_format *out);

/* Streams every record of one file to fn. Returns 0, the callback's non-zero
 * value, or -1 with e set. */
int pp_read_file(const char *path, const pp_read_opts *o, pp_record_fn fn,
                 void *ctx, lm_err *e);

#endif
