/* io_json: the one way LyricMind writes JSON (metrics.jsonl, manifest.json,
 * the --json output of eval, inspect, preprocess and generate), through
 * jansson. Contract (docs/formats.md, "Numbers in JSON"):
 *  - counts are JSON integers, flags JSON booleans (callers use
 *    json_integer/json_boolean);
 *  - every real is written as the shortest decimal (at most 9 significant
 *    digits) that reads back to the same 32-bit float, the precision the
 *    model computes in: a reader that parses it as a double and rounds to
 *    float gets the value bit for bit; values computed in double are rounded
 *    to float first. NaN and infinities, which JSON cannot hold, are null;
 *  - strings are UTF-8; bytes that are not valid UTF-8 become U+FFFD.
 * Reals made with plain json_real print with 9 digits (still round-trip as
 * float) but not shortest: use io_json_real. */
#ifndef IO_JSON_H
#define IO_JSON_H

#include <jansson.h>
#include <stdio.h>

/* The precision of every dump (9 significant digits) and the one-line flags. */
#define IO_JSON_PRECISION JSON_REAL_PRECISION(9)
#define IO_JSON_FLAGS (JSON_COMPACT | IO_JSON_PRECISION)

/* A real as described above (null when not finite). */
json_t *io_json_real(double v);
/* A string (null for NULL); never fails on bad UTF-8. */
json_t *io_json_str(const char *s);
/* o as one compact line of text (malloc'd, no newline); NULL on failure. */
char *io_json_dumps(const json_t *o);
/* Writes o and "\n" to f and flushes; takes o (decref'd, also when NULL).
 * 0 on success, -1 when o is NULL or the write failed. */
int io_json_write_line(FILE *f, json_t *o);

#endif
