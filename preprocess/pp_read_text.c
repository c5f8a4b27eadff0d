/* pp_read_text: plain-text files where songs are separated by a boundary
 * line (default "<SONG_BOUNDARY>", matched exactly after trimming trailing
 * '\r', spaces and tabs).
 *
 * A song's text is its lines joined by '\n' ('\r' of CRLF dropped), starting
 * at its first non-blank line, which is also the record's line number.
 * Chunks that are blank (e.g. after a trailing boundary) are not records.
 * The genre is opts->text_genre or the file's base name without ".zst" and
 * one more extension (rap.txt.zst -> "rap"). */
#include "pp_read_int.h"

#include <stdlib.h>
#include <string.h>

static char *genre_from_path(const char *path) {
    size_t n, elen;
    const char *ext;
    const char *base = pp_name_split(path, &n, &ext, &elen);
    char *g = malloc(n + 1);
    if (g) {
        memcpy(g, base, n);
        g[n] = 0;
    }
    return g;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v') return 0;
    return 1;
}

typedef struct song {
    char *buf;
    size_t len, cap;
    uint64_t line; /* 0: nothing but blank lines so far */
} song;

static int emit(song *sg, const char *path, const char *genre, pp_record_fn fn, void *ctx) {
    if (sg->line == 0) return 0;
    pp_record rec = {.text = sg->buf, .text_len = sg->len, .genre = genre, .path = path,
                     .line = sg->line, .skip = PP_SKIP_NONE};
    int rc = fn(&rec, ctx);
    sg->len = 0;
    sg->line = 0;
    return rc;
}

int pp_read_text(pp_src *s, const char *blk, size_t blen, const pp_read_opts *o,
                 pp_record_fn fn, void *ctx, lm_err *e) {
    const char *boundary = o->boundary ? o->boundary : "<SONG_BOUNDARY>";
    size_t bn = strlen(boundary);
    char *own_genre = o->text_genre ? NULL : genre_from_path(s->path);
    const char *genre = o->text_genre ? o->text_genre : own_genre;
    if (!genre) return lm_err_set(e, "%s: out of memory", s->path);
    pp_lines L;
    pp_lines_init(&L, s, blk, blen);
    song sg = {0};
    const char *line;
    size_t len;
    int rc = 0, got;
    while ((got = pp_lines_next(&L, &line, &len, e)) == 1) {
        if (len && line[len - 1] == '\r') len--;
        size_t t = len;
        while (t && (line[t - 1] == ' ' || line[t - 1] == '\t' || line[t - 1] == '\r')) t--;
        if (t == bn && memcmp(line, boundary, bn) == 0) {
            if ((rc = emit(&sg, s->path, genre, fn, ctx)) != 0) break;
            continue;
        }
        if (sg.line == 0) {
            if (is_blank(line, len)) continue;
            sg.line = L.lineno;
        }
        if (sg.len + len + 1 > PP_MAX_RECORD) {
            rc = lm_err_set(e, "%s:%llu: song longer than %zu MiB (missing boundary line \"%s\"?)",
                            s->path, (unsigned long long)sg.line, PP_MAX_RECORD >> 20, boundary);
            break;
        }
        if (pp_reserve((void **)&sg.buf, &sg.cap, sg.len + len + 2, 1)) {
            rc = lm_err_set(e, "%s: out of memory", s->path);
            break;
        }
        memcpy(sg.buf + sg.len, line, len);
        sg.len += len;
        sg.buf[sg.len++] = '\n';
        sg.buf[sg.len] = 0;
    }
    if (got < 0) rc = -1;
    else if (got == 0 && rc == 0) rc = emit(&sg, s->path, genre, fn, ctx);
    pp_lines_free(&L);
    free(sg.buf);
    free(own_genre);
    return rc;
}
