/* pp_read_csv: RFC 4180 CSV via libcsv in strict mode, one record per row.
 *
 * The first non-blank row is the header; the text, genre, artist and title
 * columns are found there by name, case-insensitively (an unnamed extra
 * column such as a pandas index is just a column nobody asks for). Every
 * later row must have the header's field count.
 *
 * Line numbers count '\n' bytes: newlines inside quoted fields are counted
 * when libcsv hands over the field, unquoted ones arrive as row ends
 * (CSV_REPALL_NL reports blank lines too), so `line` is always the line of
 * the parser position as of the last callback. Only the four wanted fields
 * of the current row are kept. */
#include "pp_read_int.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ROLE_TEXT, ROLE_GENRE, ROLE_ARTIST, ROLE_TITLE, N_ROLES };

typedef struct csv_state {
    const char *path;
    const pp_read_opts *o;
    pp_record_fn fn;
    void *ctx;
    lm_err *e;
    uint64_t line, row_line;
    int header_done;
    size_t ncols, nf;          /* header width; fields so far in this row */
    long col[N_ROLES];         /* column index per role or -1 */
    char *rbuf;                /* kept fields of this row, NUL-terminated */
    size_t rlen, rcap;
    size_t *hoff;              /* header only: offset of each name in rbuf */
    size_t hcap;
    size_t foff[N_ROLES], flen[N_ROLES];
    int fset[N_ROLES];
    int stop, rc;
} csv_state;

/* Lyrics have a newline every ~30 bytes: a plain loop (vectorised by the
 * compiler) beats a memchr call per newline. */
static uint64_t count_nl(const char *s, size_t n) {
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) k += s[i] == '\n';
    return k;
}

static void fail(csv_state *st, int rc) {
    st->stop = 1;
    st->rc = rc;
}

/* Appends a field to rbuf and returns its offset, or (size_t)-1. */
static size_t keep(csv_state *st, const char *s, size_t n) {
    if (pp_reserve((void **)&st->rbuf, &st->rcap, st->rlen + n + 1, 1)) return (size_t)-1;
    size_t off = st->rlen;
    if (n) memcpy(st->rbuf + off, s, n);
    st->rbuf[off + n] = 0;
    st->rlen += n + 1;
    return off;
}

static void on_field(void *data, size_t len, void *vctx) {
    csv_state *st = vctx;
    if (st->stop) return;
    if (st->nf == 0) st->row_line = st->line;
    if (len) st->line += count_nl(data, len);
    if (!st->header_done) {
        size_t off = keep(st, data, len);
        if (off == (size_t)-1 || pp_reserve((void **)&st->hoff, &st->hcap, st->nf + 1, sizeof(size_t))) {
            lm_err_set(st->e, "%s: out of memory", st->path);
            fail(st, -1);
            return;
        }
        st->hoff[st->nf] = off;
    } else {
        for (int r = 0; r < N_ROLES; r++) {
            if (st->col[r] != (long)st->nf) continue;
            size_t off = keep(st, data, len);
            if (off == (size_t)-1) {
                lm_err_set(st->e, "%s: out of memory", st->path);
                fail(st, -1);
                return;
            }
            st->foff[r] = off;
            st->flen[r] = len;
            st->fset[r] = 1;
        }
    }
    st->nf++;
}

/* Column index for a role: the named column (error if absent), else the
 * first default name present, else -1. Returns -2 after setting e. */
static long find_col(csv_state *st, const char *want, const char *const *defaults, int required) {
    const char *const one[] = {want, NULL};
    const char *const *names = want ? one : defaults;
    for (; *names; names++)
        for (size_t i = 0; i < st->nf; i++)
            if (strcasecmp(st->rbuf + st->hoff[i], *names) == 0) return (long)i;
    if (want) {
        lm_err_set(st->e, "%s:%llu: no column '%s' in the CSV header", st->path,
                   (unsigned long long)st->row_line, want);
        return -2;
    }
    if (required) {
        lm_err_set(st->e, "%s:%llu: no text column in the CSV header (looked for lyrics, text, "
                   "lyric, content; use --text-field)", st->path, (unsigned long long)st->row_line);
        return -2;
    }
    return -1;
}

static void on_header(csv_state *st) {
    const char *want[N_ROLES] = {st->o->text_field, st->o->genre_field, st->o->artist_field,
                                 st->o->title_field};
    const char *const *defaults[N_ROLES] = {pp_default_text_fields, pp_default_genre_fields,
                                            pp_default_artist_fields, pp_default_title_fields};
    for (int r = 0; r < N_ROLES; r++) {
        st->col[r] = find_col(st, want[r], defaults[r], r == ROLE_TEXT);
        if (st->col[r] == -2) {
            fail(st, -1);
            return;
        }
    }
    st->ncols = st->nf;
    st->header_done = 1;
}

static const char *field_or_null(csv_state *st, int r) {
    return st->fset[r] && st->flen[r] ? st->rbuf + st->foff[r] : NULL;
}

static void on_row(int c, void *vctx) {
    csv_state *st = vctx;
    if (st->stop) return;
    if (st->nf > 0) {
        if (!st->header_done) {
            on_header(st);
        } else if (st->nf != st->ncols) {
            lm_err_set(st->e, "%s:%llu: wrong column count: %zu fields, the header has %zu",
                       st->path, (unsigned long long)st->row_line, st->nf, st->ncols);
            fail(st, -1);
        } else {
            pp_record rec = {
                .text = st->rbuf + st->foff[ROLE_TEXT], .text_len = st->flen[ROLE_TEXT],
                .genre = field_or_null(st, ROLE_GENRE), .artist = field_or_null(st, ROLE_ARTIST),
                .title = field_or_null(st, ROLE_TITLE), .path = st->path, .line = st->row_line,
                .skip = PP_SKIP_NONE,
            };
            int r = st->fn(&rec, st->ctx);
            if (r) fail(st, r);
        }
    }
    if (c == '\n') st->line++;
    st->nf = 0;
    st->rlen = 0;
    memset(st->fset, 0, sizeof st->fset);
}

int pp_read_csv(pp_src *s, const char *blk, size_t blen, const pp_read_opts *o,
                pp_record_fn fn, void *ctx, lm_err *e) {
    csv_state st = {.path = s->path, .o = o, .fn = fn, .ctx = ctx, .e = e, .line = 1};
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI) != 0)
        return lm_err_set(e, "%s: out of memory", s->path);
    csv_set_blk_size(&p, (size_t)1 << 16);
    for (;;) {
        size_t used = csv_parse(&p, blk, blen, on_field, on_row, &st);
        if (st.stop) break;
        if (used != blen) {
            int err = csv_error(&p);
            uint64_t line = st.line + count_nl((const char *)p.entry_buf, p.entry_pos);
            if (err == CSV_EPARSE)
                lm_err_set(e, "%s:%llu: malformed CSV: a closing quote must be followed by a "
                           "comma or a line end (quotes inside a field are doubled)",
                           s->path, (unsigned long long)line);
            else
                lm_err_set(e, "%s:%llu: CSV: %s", s->path, (unsigned long long)line,
                           csv_strerror(err));
            fail(&st, -1);
            break;
        }
        if (p.entry_pos > PP_MAX_RECORD) {
            lm_err_set(e, "%s:%llu: a CSV field is longer than %zu MiB (unterminated quote?)",
                       s->path, (unsigned long long)st.line, PP_MAX_RECORD >> 20);
            fail(&st, -1);
            break;
        }
        ptrdiff_t n = pp_src_next(s, &blk, e);
        if (n < 0) {
            fail(&st, -1);
            break;
        }
        if (n == 0) {
            if (csv_fini(&p, on_field, on_row, &st) != 0 && !st.stop) {
                lm_err_set(e, "%s:%llu: unterminated quoted field: the file ends inside quotes",
                           s->path, (unsigned long long)st.line);
                fail(&st, -1);
            }
            break;
        }
        blen = (size_t)n;
    }
    if (!st.stop && !st.header_done)
        lm_err_set(e, "%s: no CSV header row", s->path), fail(&st, -1);
    csv_free(&p);
    free(st.rbuf);
    free(st.hoff);
    return st.rc;
}
