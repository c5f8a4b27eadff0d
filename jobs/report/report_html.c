/* report_html: escaping, tables and the page frame of `report` (see
 * report_html.h). */
#include "report_html.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void report_esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&') fputs("&amp;", f);
        else if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '"') fputs("&quot;", f);
        else if (c == '\'') fputs("&#39;", f);
        else if (c >= 0x20 || c == '\n' || c == '\t') fputc(c, f);
    }
}

void report_row(FILE *f, const char *key, const char *value) {
    fputs("<tr><th>", f);
    report_esc(f, key);
    fputs("</th><td>", f);
    report_esc(f, value);
    fputs("</td></tr>\n", f);
}

void report_rowf(FILE *f, const char *key, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    report_row(f, key, buf);
}

static void json_leaves(FILE *f, const char *prefix, json_t *v) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            char key[512];
            snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
            json_leaves(f, key, x);
        }
        return;
    }
    char *txt = json_is_string(v) ? strdup(json_string_value(v))
                                  : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    report_row(f, prefix, txt ? txt : "");
    free(txt);
}

static void caption(FILE *f, const char *text) {
    fputs("<table class=\"kv\"><caption>", f);
    report_esc(f, text);
    fputs("</caption>\n", f);
}

void report_json_table(FILE *f, json_t *o) {
    const char *k;
    json_t *x;
    fputs("<div class=\"grid\">\n", f);
    caption(f, "run");
    json_object_foreach(o, k, x) if (!json_is_object(x)) json_leaves(f, k, x);
    fputs("</table>\n", f);
    json_object_foreach(o, k, x) if (json_is_object(x)) {
        caption(f, k);
        json_leaves(f, "", x);
        fputs("</table>\n", f);
    }
    fputs("</div>\n", f);
}

/* Splits one settings line into trimmed key and value; 0 if not key = value. */
static int setting_line(const char *line, size_t len, char *key, size_t nk, char *val, size_t nv) {
    const char *eq = memchr(line, '=', len);
    if (!eq || line[0] == '#' || line[0] == ';' || line[0] == '[') return 0;
    const char *a = line, *b = eq;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    snprintf(key, nk, "%.*s", (int)(b - a), a);
    a = eq + 1, b = line + len;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
    snprintf(val, nv, "%.*s", (int)(b - a), a);
    return key[0] != 0;
}

/* Calls fn for each key = value line of text. */
static void each_setting(const char *text, void (*fn)(void *, const char *, const char *), void *ctx) {
    for (const char *p = text ? text : ""; *p;) {
        size_t len = strcspn(p, "\n");
        char key[256], val[2048];
        if (setting_line(p, len, key, sizeof key, val, sizeof val)) fn(ctx, key, val);
        p += len + (p[len] == '\n');
    }
}

static void row_cb(void *f, const char *k, const char *v) { report_row(f, k, v); }

void report_settings_table(FILE *f, const char *text) {
    fputs("<table class=\"kv\">\n", f);
    each_setting(text, row_cb, f);
    fputs("</table>\n", f);
}

typedef struct find_ctx {
    const char *key;
    char *out;
    size_t n;
} find_ctx;

static void find_cb(void *ctx, const char *k, const char *v) {
    find_ctx *c = ctx;
    if (!strcmp(k, c->key)) snprintf(c->out, c->n, "%s", v);
}

void report_setting(const char *text, const char *key, char *out, size_t n) {
    out[0] = 0;
    find_ctx c = {key, out, n};
    each_setting(text, find_cb, &c);
}

int report_inline_svg(FILE *f, const char *path) {
    FILE *in = fopen(path, "r");
    if (!in) return -1;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&buf, &cap, '\0', in); /* the whole file */
    fclose(in);
    char *start = len > 0 ? strstr(buf, "<svg") : NULL;
    if (start) fputs(start, f);
    free(buf);
    return start ? 0 : -1;
}

void report_begin(FILE *f, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    report_esc(f, title);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:0 auto;max-width:1160px;padding:16px 24px;color:#222;"
          "background:#fff;line-height:1.4}\n"
          "h1{font-size:1.6em;margin:0.2em 0}h2{font-size:1.2em;border-bottom:1px solid #ccc;"
          "padding-bottom:2px;margin-top:1.6em}\n"
          "table{border-collapse:collapse;margin:0.4em 0}th,td{padding:2px 10px;text-align:left;"
          "vertical-align:top;border-bottom:1px solid #eee}th{font-weight:600;color:#444}\n"
          ".kv th{font-family:monospace;font-weight:normal}caption{text-align:left;font-weight:600}\n"
          ".grid{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}\n"
          ".songs{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.song{flex:1 1 320px;background:#f7f7f7;"
          "border:1px solid #ddd;padding:8px 12px;white-space:pre-wrap;font-family:serif}\n"
          ".bar{display:flex;height:22px;width:100%;max-width:700px;border:1px solid #999}\n"
          ".bar div{height:100%}.note{color:#666;font-size:0.9em}\n"
          "svg{max-width:100%;height:auto}\n"
          "</style></head><body>\n", f);
}

void report_end(FILE *f) { fputs("</body></html>\n", f); }
