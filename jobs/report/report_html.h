/* report_html: small HTML writing helpers for `report` (cmd_report.c).
 * Every text that comes from a file goes through report_esc; the page has no
 * script and no external reference (style inline, pictures inline SVG). */
#ifndef REPORT_HTML_H
#define REPORT_HTML_H

#include <jansson.h>
#include <stdio.h>

/* Writes s HTML-escaped (& < > " '); control bytes other than \n, \t dropped. */
void report_esc(FILE *f, const char *s);
/* <tr><th>key</th><td>value</td></tr>, both escaped. */
void report_row(FILE *f, const char *key, const char *value);
/* Same with a printf-formatted value. */
void report_rowf(FILE *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Two-column tables of the leaves of a JSON object: one captioned "run" for
 * its scalar members, then one per object member, captioned with its key,
 * whose rows are the leaves below it with keys joined by '.'
 * ("carried.all.perplexity" in table "perplexity"); an array is shown as
 * compact JSON in one cell. */
void report_json_table(FILE *f, json_t *o);
/* The "key = value" lines of a settings text as a two-column table ('#'
 * comments and [section] lines skipped). */
void report_settings_table(FILE *f, const char *text);
/* The value of key in a settings text into out ("" when absent). */
void report_setting(const char *text, const char *key, char *out, size_t n);
/* Copies an SVG file's <svg ...>...</svg> element (no XML prolog) into f.
 * Returns 0, or -1 when the file cannot be read or holds no <svg. */
int report_inline_svg(FILE *f, const char *path);
/* The page head with its inline style, and the tail. */
void report_begin(FILE *f, const char *title);
void report_end(FILE *f);

#endif
