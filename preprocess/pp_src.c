/* pp_src: a file's bytes in PP_BLOCK blocks, plain or .zst (libzstd
 * streaming), plus the line splitter used by the JSONL and text readers.
 *
 * Invariants: every block but the last is exactly PP_BLOCK bytes (reads are
 * repeated until the block is full), so a BOM is always seen whole in the
 * first block; a file that yields no byte (after the BOM) is "empty file";
 * memory is one output block, one compressed input block and the zstd
 * window. */
#include "pp_read_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zstd.h>

static int ends_with_zst(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".zst") == 0;
}

int pp_src_open(pp_src *s, const char *path, lm_err *e) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) return lm_err_set(e, "%s: cannot open: %s", path, strerror(errno));
    s->buf = malloc(PP_BLOCK);
    if (!s->buf) goto nomem;
    if (ends_with_zst(path)) {
        s->zst = 1;
        s->dstream = ZSTD_createDStream();
        s->in_cap = ZSTD_DStreamInSize();
        s->in = malloc(s->in_cap);
        if (!s->dstream || !s->in) goto nomem;
        ZSTD_initDStream(s->dstream);
    }
    return 0;
nomem:
    pp_src_close(s);
    return lm_err_set(e, "%s: out of memory", path);
}

void pp_src_close(pp_src *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    if (s->dstream) ZSTD_freeDStream(s->dstream);
    s->dstream = NULL;
    free(s->in);
    free(s->buf);
    s->in = NULL;
    s->buf = NULL;
}

/* read() until n bytes or end of file; returns bytes read or -1. */
static ptrdiff_t read_full(int fd, void *dst, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)dst + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ptrdiff_t)got;
}

/* Decompresses into s->buf until it is full or the input ends. */
static ptrdiff_t fill_zst(pp_src *s, lm_err *e) {
    ZSTD_outBuffer out = {s->buf, PP_BLOCK, 0};
    while (out.pos < out.size) {
        if (s->in_pos == s->in_len && !s->in_eof) {
            s->in_off += s->in_len;
            ptrdiff_t r = read_full(s->fd, s->in, s->in_cap);
            if (r < 0) return lm_err_set(e, "%s: read error: %s", s->path, strerror(errno));
            s->in_len = (size_t)r;
            s->in_pos = 0;
            if (r == 0) s->in_eof = 1;
        }
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        size_t before = out.pos;
        size_t ret = ZSTD_decompressStream(s->dstream, &out, &in);
        if (ZSTD_isError(ret))
            return lm_err_set(e, "%s: corrupt zstd data at byte %llu: %s", s->path,
                              (unsigned long long)(s->in_off + in.pos), ZSTD_getErrorName(ret));
        int progress = in.pos != s->in_pos || out.pos != before;
        s->in_pos = in.pos;
        if (progress) s->zret = ret; /* an idle call after a frame says "want a header" */
        if (s->in_eof && s->in_pos == s->in_len && !progress) break;
    }
    if (out.pos == 0 && s->in_off + s->in_len == 0) return 0; /* 0-byte file */
    if (out.pos == 0 && s->zret != 0)
        return lm_err_set(e, "%s: truncated zstd data: the file ends at byte %llu inside a frame",
                          s->path, (unsigned long long)(s->in_off + s->in_len));
    return (ptrdiff_t)out.pos;
}

ptrdiff_t pp_src_next(pp_src *s, const char **data, lm_err *e) {
    if (s->done) return 0;
    ptrdiff_t n;
    if (s->zst) {
        n = fill_zst(s, e);
    } else {
        n = read_full(s->fd, s->buf, PP_BLOCK);
        if (n < 0) return lm_err_set(e, "%s: read error: %s", s->path, strerror(errno));
    }
    if (n < 0) return -1;
    const char *d = s->buf;
    if (s->delivered == 0 && n >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0) {
        d += 3;
        n -= 3;
    }
    if (n == 0) {
        s->done = 1;
        if (s->delivered == 0) return lm_err_set(e, "%s: empty file", s->path);
        return 0;
    }
    s->delivered += (uint64_t)n;
    *data = d;
    return n;
}

void pp_lines_init(pp_lines *L, pp_src *src, const char *blk, size_t blen) {
    memset(L, 0, sizeof *L);
    L->src = src;
    L->blk = blk;
    L->blen = blen;
}

int pp_lines_next(pp_lines *L, const char **line, size_t *len, lm_err *e) {
    L->clen = 0;
    for (;;) {
        if (L->bpos == L->blen) {
            if (L->eof) break;
            const char *d;
            ptrdiff_t n = pp_src_next(L->src, &d, e);
            if (n < 0) return -1;
            if (n == 0) {
                L->eof = 1;
                break;
            }
            L->blk = d;
            L->blen = (size_t)n;
            L->bpos = 0;
        }
        const char *p = L->blk + L->bpos;
        size_t avail = L->blen - L->bpos;
        const char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        L->bpos += take + (nl != NULL);
        if (nl && L->clen == 0) { /* whole line inside the block: no copy */
            L->lineno++;
            *line = p;
            *len = take;
            return 1;
        }
        if (L->clen + take > PP_MAX_RECORD)
            return lm_err_set(e, "%s:%llu: a line is longer than %zu MiB", L->src->path,
                              (unsigned long long)L->lineno + 1, PP_MAX_RECORD >> 20);
        if (pp_reserve((void **)&L->carry, &L->ccap, L->clen + take + 1, 1))
            return lm_err_set(e, "%s: out of memory", L->src->path);
        memcpy(L->carry + L->clen, p, take);
        L->clen += take;
        if (nl) break;
    }
    if (L->eof && L->clen == 0) return 0;
    L->lineno++;
    *line = L->carry;
    *len = L->clen;
    return 1;
}

void pp_lines_free(pp_lines *L) {
    free(L->carry);
    L->carry = NULL;
}
