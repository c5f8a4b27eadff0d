/* pp_read: format names, format detection and pp_read_file, which opens the
 * byte source and hands it to the CSV, JSONL or text reader.
 *
 * Detection is by name first (ignoring a final .zst), then by the first
 * block: a '{' first means JSON Lines, a first line that is a comma-separated
 * header naming a known text column means CSV, anything else is text. */
#include "pp_read_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *pp_format_name(pp_format f) {
    switch (f) {
    case PP_FMT_AUTO: return "auto";
    case PP_FMT_CSV: return "csv";
    case PP_FMT_JSONL: return "jsonl";
    case PP_FMT_TEXT: return "text";
    }
    return "?";
}

int pp_format_parse(const char *s, pp_format *out) {
    static const struct { const char *name; pp_format f; } names[] = {
        {"auto", PP_FMT_AUTO}, {"csv", PP_FMT_CSV},   {"jsonl", PP_FMT_JSONL},
        {"json", PP_FMT_JSONL}, {"ndjson", PP_FMT_JSONL}, {"text", PP_FMT_TEXT},
        {"txt", PP_FMT_TEXT},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].f;
            return 0;
        }
    return -1;
}

static int ext_is(const char *ext, size_t len, const char *want) {
    return strlen(want) == len && strncasecmp(ext, want, len) == 0;
}

/* Does the header line head[0..n) name a default text column? */
static int looks_like_csv_header(const char *head, size_t n) {
    if (!memchr(head, ',', n)) return 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && head[j] != ',') j++;
        size_t a = i, b = j;
        while (a < b && (isspace((unsigned char)head[a]) || head[a] == '"')) a++;
        while (b > a && (isspace((unsigned char)head[b - 1]) || head[b - 1] == '"')) b--;
        for (const char *const *d = pp_default_text_fields; *d; d++)
            if (ext_is(head + a, b - a, *d)) return 1;
        i = j + 1;
    }
    return 0;
}

pp_format pp_detect_format(const char *path, const char *head, size_t head_len) {
    size_t stem, len = 0;
    const char *ext = NULL;
    if (path) pp_name_split(path, &stem, &ext, &len);
    if (ext) {
        if (ext_is(ext, len, "csv")) return PP_FMT_CSV;
        if (ext_is(ext, len, "jsonl") || ext_is(ext, len, "json") || ext_is(ext, len, "ndjson"))
            return PP_FMT_JSONL;
        if (ext_is(ext, len, "txt") || ext_is(ext, len, "text")) return PP_FMT_TEXT;
    }
    if (!head || head_len == 0) return PP_FMT_AUTO;
    if (head_len >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0) {
        head += 3;
        head_len -= 3;
    }
    size_t i = 0;
    while (i < head_len && isspace((unsigned char)head[i])) i++;
    if (i < head_len && head[i] == '{') return PP_FMT_JSONL;
    const char *nl = memchr(head, '\n', head_len);
    if (looks_like_csv_header(head, nl ? (size_t)(nl - head) : head_len)) return PP_FMT_CSV;
    return PP_FMT_TEXT;
}

int pp_read_file(const char *path, const pp_read_opts *o, pp_record_fn fn, void *ctx,
                 lm_err *e) {
    static const pp_read_opts defaults;
    if (!o) o = &defaults;
    pp_src s;
    if (pp_src_open(&s, path, e)) return -1;
    const char *blk;
    ptrdiff_t n = pp_src_next(&s, &blk, e);
    int rc = -1;
    if (n > 0) {
        pp_format f = o->format;
        if (f == PP_FMT_AUTO) f = pp_detect_format(path, blk, (size_t)n);
        switch (f) {
        case PP_FMT_CSV: rc = pp_read_csv(&s, blk, (size_t)n, o, fn, ctx, e); break;
        case PP_FMT_JSONL: rc = pp_read_jsonl(&s, blk, (size_t)n, o, fn, ctx, e); break;
        case PP_FMT_TEXT:
        case PP_FMT_AUTO: rc = pp_read_text(&s, blk, (size_t)n, o, fn, ctx, e); break;
        }
    }
    pp_src_close(&s);
    return rc;
}
