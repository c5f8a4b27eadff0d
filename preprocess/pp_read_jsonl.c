/* pp_read_jsonl: JSON Lines via jansson, one object per line.
 *
 * Blank lines are ignored; a line that is not a JSON object is a per-file
 * error naming file:line. Fields are looked up by exact name, then
 * case-insensitively. A record whose text field is absent or not a string
 * is passed with skip = PP_SKIP_MISSING_TEXT. A line that jansson rejects
 * only because it is not valid UTF-8 is passed as a record whose text is
 * the raw line, so the cleaner reports (and the caller counts) invalid UTF-8
 * with a byte offset, exactly as for the other formats. */
#include "pp_read_int.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

static json_t *get_ci(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (v) return v;
    const char *k;
    json_object_foreach(obj, k, v) {
        if (strcasecmp(k, key) == 0) return v;
    }
    return NULL;
}

/* The field named `want`, else the first default present. */
static json_t *get_field(json_t *obj, const char *want, const char *const *defaults) {
    if (want) return get_ci(obj, want);
    for (; *defaults; defaults++) {
        json_t *v = get_ci(obj, *defaults);
        if (v) return v;
    }
    return NULL;
}

/* A label: a non-empty string, or the first string of an array of them. */
static const char *label(json_t *v) {
    if (json_is_array(v) && json_array_size(v) > 0) v = json_array_get(v, 0);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    return s && *s ? s : NULL;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v') return 0;
    return 1;
}

int pp_read_jsonl(pp_src *s, const char *blk, size_t blen, const pp_read_opts *o,
                  pp_record_fn fn, void *ctx, lm_err *e) {
    pp_lines L;
    pp_lines_init(&L, s, blk, blen);
    const char *line;
    size_t len;
    int rc = 0, got;
    while ((got = pp_lines_next(&L, &line, &len, e)) == 1) {
        if (blank(line, len)) continue;
        pp_record rec = {.path = s->path, .line = L.lineno, .skip = PP_SKIP_NONE};
        json_error_t jerr;
        json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
        if (!obj && json_error_code(&jerr) == json_error_invalid_utf8) {
            rec.text = line;
            rec.text_len = len;
            rc = fn(&rec, ctx);
            if (rc) break;
            continue;
        }
        if (!obj) {
            rc = lm_err_set(e, "%s:%llu: invalid JSON at column %d: %s (expected one object per line)",
                            s->path, (unsigned long long)L.lineno, jerr.column, jerr.text);
            break;
        }
        if (!json_is_object(obj)) {
            json_decref(obj);
            rc = lm_err_set(e, "%s:%llu: not a JSON object (expected one object per line)",
                            s->path, (unsigned long long)L.lineno);
            break;
        }
        json_t *text = get_field(obj, o->text_field, pp_default_text_fields);
        if (json_is_string(text)) {
            rec.text = json_string_value(text);
            rec.text_len = json_string_length(text);
        } else {
            rec.text = "";
            rec.skip = PP_SKIP_MISSING_TEXT;
        }
        rec.genre = label(get_field(obj, o->genre_field, pp_default_genre_fields));
        rec.artist = label(get_field(obj, o->artist_field, pp_default_artist_fields));
        rec.title = label(get_field(obj, o->title_field, pp_default_title_fields));
        rc = fn(&rec, ctx);
        json_decref(obj);
        if (rc) break;
    }
    if (got < 0) rc = -1;
    pp_lines_free(&L);
    return rc;
}
