/* io_shard: streaming shard writer and lazy shard reader (see io_shard.h and
 * docs/formats.md).
 *
 * Writer invariants: at most one chunk of tokens is buffered; each full chunk
 * is compressed here with the filter's own encoder (io_zstd_compress) and
 * stored with H5Dwrite_chunk, so the bytes on disk are exactly what the
 * registered filter 32015 would have produced and any zstd-plugin reader
 * decodes them; the last chunk is zero-padded to the chunk size, as HDF5 does
 * for edge chunks. Offsets/genres/attributes are written at close; a failed
 * writer removes its file.
 * Reader invariants: io_shard_open checks every attribute and the shapes and
 * offsets before returning, so io_shard_read only has to check its range. */
#include "io_shard.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "io_atomic.h"
#include "io_h5.h"
#include "io_zstd_filter.h"

struct io_shard_writer {
    char path[4096];
    hid_t file, tokens;
    uint64_t vocab_hash;
    uint32_t vocab_size;
    int level;
    size_t chunk;        /* tokens per chunk */
    uint16_t *buf;       /* chunk being filled */
    size_t fill;
    void *zbuf;          /* compressed chunk */
    size_t zcap;
    ZSTD_CCtx *cctx;
    uint64_t n_tokens, n_chunks;
    uint64_t *offsets;   /* n_songs + 1 */
    uint8_t *genres;     /* n_songs */
    size_t n_songs, cap_songs;
};

static void writer_free(io_shard_writer *w) {
    if (w->tokens >= 0) H5Dclose(w->tokens);
    if (w->file >= 0) H5Fclose(w->file);
    ZSTD_freeCCtx(w->cctx);
    free(w->buf);
    free(w->zbuf);
    free(w->offsets);
    free(w->genres);
    free(w);
}

void io_shard_writer_abort(io_shard_writer *w) {
    if (!w) return;
    io_h5_quiet q = io_h5_quiet_begin();
    char path[sizeof w->path];
    memcpy(path, w->path, sizeof path);
    writer_free(w);
    unlink(path);
    io_h5_quiet_end(q);
}

static hid_t create_tokens(io_shard_writer *w, lm_err *e) {
    hsize_t dim = 0, maxdim = H5S_UNLIMITED, chunk = w->chunk;
    unsigned cd[1] = {(unsigned)w->level};
    hid_t sp = H5Screate_simple(1, &dim, &maxdim);
    hid_t dcpl = io_h5_ocpl(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
        H5Pset_filter(dcpl, IO_ZSTD_FILTER_ID, H5Z_FLAG_MANDATORY, 1, cd) < 0)
        io_h5_fail(e, w->path, "cannot set up /tokens chunking and zstd filter");
    else if ((d = H5Dcreate2(w->file, "tokens", H5T_STD_U16LE, sp, H5P_DEFAULT, dcpl,
                             H5P_DEFAULT)) < 0)
        io_h5_fail(e, w->path, "cannot create /tokens");
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

io_shard_writer *io_shard_writer_open_opts(const char *path, uint64_t vocab_hash,
                                           uint32_t vocab_size, const io_shard_opts *o,
                                           lm_err *e) {
    if (vocab_size == 0 || vocab_size > 65536) {
        lm_err_set(e, "%s: vocabulary size %u does not fit uint16 token ids", path, vocab_size);
        return NULL;
    }
    io_shard_writer *w = calloc(1, sizeof *w);
    if (!w) {
        lm_err_set(e, "%s: out of memory", path);
        return NULL;
    }
    io_h5_quiet q = io_h5_quiet_begin();
    snprintf(w->path, sizeof w->path, "%s", path);
    w->file = w->tokens = -1;
    w->vocab_hash = vocab_hash;
    w->vocab_size = vocab_size;
    w->chunk = o && o->chunk_tokens ? o->chunk_tokens : IO_SHARD_CHUNK_TOKENS;
    w->level = o && o->zstd_level ? o->zstd_level : IO_SHARD_ZSTD_LEVEL;
    w->zcap = ZSTD_compressBound(w->chunk * sizeof(uint16_t));
    w->cap_songs = 1024;
    w->buf = malloc(w->chunk * sizeof(uint16_t));
    w->zbuf = malloc(w->zcap);
    w->cctx = ZSTD_createCCtx();
    w->offsets = malloc((w->cap_songs + 1) * sizeof *w->offsets);
    w->genres = malloc(w->cap_songs);
    int ok = w->buf && w->zbuf && w->cctx && w->offsets && w->genres;
    if (!ok) lm_err_set(e, "%s: out of memory", path);
    if (ok && (w->chunk > ((size_t)1 << 30) / sizeof(uint16_t))) {
        lm_err_set(e, "%s: chunk of %zu tokens is too large", path, w->chunk);
        ok = 0;
    }
    if (ok) w->offsets[0] = 0;
    if (ok && (w->file = io_h5_create(path, e)) < 0) ok = 0;
    if (ok && (w->tokens = create_tokens(w, e)) < 0) ok = 0;
    io_h5_quiet_end(q);
    if (!ok) {
        int created = w->file >= 0;
        writer_free(w);
        if (created) unlink(path);
        return NULL;
    }
    return w;
}

io_shard_writer *io_shard_writer_open(const char *path, uint64_t vocab_hash,
                                      uint32_t vocab_size, lm_err *e) {
    return io_shard_writer_open_opts(path, vocab_hash, vocab_size, NULL, e);
}

/* Compresses the buffered chunk (zero-padded) and stores it directly. */
static int flush_chunk(io_shard_writer *w, lm_err *e) {
    if (w->fill == 0) return 0;
    if (w->fill < w->chunk) memset(w->buf + w->fill, 0, (w->chunk - w->fill) * sizeof(uint16_t));
    size_t z = io_zstd_compress(w->cctx, w->zbuf, w->zcap, w->buf, w->chunk * sizeof(uint16_t),
                                w->level);
    if (!z) return lm_err_set(e, "%s: zstd compression failed", w->path);
    hsize_t extent = w->n_tokens, off = w->n_chunks * w->chunk;
    if (H5Dset_extent(w->tokens, &extent) < 0 ||
        H5Dwrite_chunk(w->tokens, H5P_DEFAULT, 0, &off, z, w->zbuf) < 0)
        return io_h5_fail(e, w->path, "cannot write a /tokens chunk");
    w->n_chunks++;
    w->fill = 0;
    return 0;
}

int io_shard_writer_add(io_shard_writer *w, const uint16_t *tokens, size_t n, uint8_t genre,
                        lm_err *e) {
    for (size_t i = 0; i < n; i++)
        if (tokens[i] >= w->vocab_size)
            return lm_err_set(e, "%s: song %zu token %zu has id %u >= vocabulary size %u",
                              w->path, w->n_songs, i, tokens[i], w->vocab_size);
    if (w->n_songs == w->cap_songs) {
        size_t cap = w->cap_songs * 2;
        uint64_t *o = realloc(w->offsets, (cap + 1) * sizeof *o);
        if (o) w->offsets = o;
        uint8_t *g = o ? realloc(w->genres, cap) : NULL;
        if (!g) return lm_err_set(e, "%s: out of memory (%zu songs)", w->path, w->n_songs);
        w->genres = g;
        w->cap_songs = cap;
    }
    int rc = 0;
    while (n > 0 && rc == 0) {
        size_t take = w->chunk - w->fill < n ? w->chunk - w->fill : n;
        memcpy(w->buf + w->fill, tokens, take * sizeof *tokens);
        w->fill += take;
        w->n_tokens += take;
        tokens += take;
        n -= take;
        if (w->fill == w->chunk) {
            /* HDF5 is entered only here: every H5* call takes its global lock,
             * which parallel shard writers would otherwise fight over per song */
            io_h5_quiet q = io_h5_quiet_begin();
            rc = flush_chunk(w, e);
            io_h5_quiet_end(q);
        }
    }
    if (rc) return -1;
    w->genres[w->n_songs] = genre;
    w->offsets[++w->n_songs] = w->n_tokens;
    return 0;
}

uint64_t io_shard_writer_tokens(const io_shard_writer *w) { return w->n_tokens; }

/* FNV-1a 64 over song_offsets then song_genre (little-endian bytes): the
 * index has no other integrity check (token chunks carry zstd checksums,
 * attributes HDF5's object-header checksums). */
static uint64_t index_hash(const uint64_t *off, const uint8_t *genre, uint64_t n_songs) {
    uint64_t h = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, off, (n_songs + 1) * sizeof *off);
    return lm_sys_fnv1a64(h, genre, n_songs);
}

static int write_tail(io_shard_writer *w, lm_err *e) {
    uint64_t n_off = w->n_songs + 1, n_gen = w->n_songs;
    if (flush_chunk(w, e)) return -1;
    hsize_t extent = w->n_tokens;
    if (H5Dset_extent(w->tokens, &extent) < 0) return io_h5_fail(e, w->path, "cannot size /tokens");
    if (io_h5_write(w->file, "song_offsets", IO_H5_U64, 1, &n_off, w->offsets, w->path, e) ||
        io_h5_write(w->file, "song_genre", IO_H5_U8, 1, &n_gen, w->genres, w->path, e))
        return -1;
    if (io_h5_attr_put_str(w->file, "kind", IO_KIND_SHARD) ||
        io_h5_attr_put_u64(w->file, "format_version", IO_SHARD_FORMAT_VERSION) ||
        io_h5_attr_put_u64(w->file, "vocab_hash", w->vocab_hash) ||
        io_h5_attr_put_u64(w->file, "vocab_size", w->vocab_size) ||
        io_h5_attr_put_u64(w->file, "n_tokens", w->n_tokens) ||
        io_h5_attr_put_u64(w->file, "n_songs", w->n_songs) ||
        io_h5_attr_put_u64(w->file, "index_checksum", index_hash(w->offsets, w->genres, w->n_songs)))
        return io_h5_fail(e, w->path, "cannot write attributes");
    herr_t rc = H5Dclose(w->tokens);
    w->tokens = -1;
    if (rc < 0 || H5Fclose(w->file) < 0) {
        w->file = -1;
        return io_h5_fail(e, w->path, "cannot close");
    }
    w->file = -1;
    return io_fsync_path(w->path, e);
}

int io_shard_writer_close(io_shard_writer *w, lm_err *e) {
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = write_tail(w, e);
    io_h5_quiet_end(q);
    if (rc) {
        io_shard_writer_abort(w);
        return -1;
    }
    writer_free(w);
    return 0;
}

/* ---- reader ------------------------------------------------------------------- */

void io_shard_close(io_shard *s) {
    io_h5_quiet q = io_h5_quiet_begin();
    if (s->h5tokens > 0) H5Dclose(s->h5tokens);
    if (s->h5file > 0) H5Fclose(s->h5file);
    io_h5_quiet_end(q);
    s->h5tokens = s->h5file = -1;
    free(s->song_offsets);
    free(s->song_genre);
    s->song_offsets = NULL;
    s->song_genre = NULL;
}

static int check_offsets(const io_shard *s, lm_err *e) {
    const uint64_t *o = s->song_offsets;
    if (o[0] != 0) return lm_err_set(e, "%s: song_offsets[0] is %" PRIu64 ", expected 0", s->path, o[0]);
    for (uint64_t i = 0; i < s->n_songs; i++)
        if (o[i + 1] < o[i])
            return lm_err_set(e, "%s: song_offsets not monotone at song %" PRIu64 " (%" PRIu64
                                 " after %" PRIu64 ")", s->path, i, o[i + 1], o[i]);
    if (o[s->n_songs] != s->n_tokens)
        return lm_err_set(e, "%s: song_offsets end at %" PRIu64 ", expected n_tokens %" PRIu64,
                          s->path, o[s->n_songs], s->n_tokens);
    return 0;
}

/* Reopens /tokens with a chunk cache of `bytes`; w0 = 1 evicts fully read
 * chunks first (readers mostly go forward). */
static int set_cache(io_shard *s, size_t bytes, lm_err *e) {
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 10007, bytes, 1.0);
    if (s->h5tokens > 0) H5Dclose(s->h5tokens);
    s->h5tokens = H5Dopen2(s->h5file, "tokens", dapl);
    H5Pclose(dapl);
    return s->h5tokens < 0 ? io_h5_fail(e, s->path, "cannot reopen /tokens") : 0;
}

int io_zstd_register(lm_err *e) {
    io_h5_quiet q = io_h5_quiet_begin();
    herr_t rc = H5Zregister(&io_zstd_filter_class);
    int out = rc < 0 ? io_h5_fail(e, "HDF5", "cannot register the zstd filter 32015") : 0;
    io_h5_quiet_end(q);
    return out;
}

static int open_impl(io_shard *s, const char *path, lm_err *e) {
    uint64_t version, vsize, dims[1];
    const char *p = s->path;
    if ((s->h5file = io_h5_open(path, IO_KIND_SHARD, NULL, e)) < 0) return -1;
    if (io_h5_attr_get_u64(s->h5file, "format_version", &version, p, e)) return -1;
    if (version != IO_SHARD_FORMAT_VERSION)
        return lm_err_set(e, "%s: shard format version %" PRIu64 " is not supported (this build reads %d)",
                          p, version, IO_SHARD_FORMAT_VERSION);
    if (io_h5_attr_get_u64(s->h5file, "vocab_hash", &s->vocab_hash, p, e) ||
        io_h5_attr_get_u64(s->h5file, "vocab_size", &vsize, p, e) ||
        io_h5_attr_get_u64(s->h5file, "n_tokens", &s->n_tokens, p, e) ||
        io_h5_attr_get_u64(s->h5file, "n_songs", &s->n_songs, p, e))
        return -1;
    if (vsize == 0 || vsize > 65536)
        return lm_err_set(e, "%s: vocab_size %" PRIu64 " out of range 1..65536", p, vsize);
    s->vocab_size = (uint32_t)vsize;
    if (s->n_songs > ((uint64_t)1 << 40) || s->n_tokens > ((uint64_t)1 << 50))
        return lm_err_set(e, "%s: implausible n_songs/n_tokens attributes", p);
    if ((s->h5tokens = io_h5_open_dataset(s->h5file, "tokens", IO_H5_U16, 1, dims, p, e)) < 0 ||
        set_cache(s, IO_SHARD_CACHE_BYTES, e))
        return -1;
    if (dims[0] != s->n_tokens)
        return lm_err_set(e, "%s: /tokens has %" PRIu64 " elements, attribute n_tokens says %" PRIu64,
                          p, dims[0], s->n_tokens);
    s->song_offsets = malloc((s->n_songs + 1) * sizeof *s->song_offsets);
    s->song_genre = malloc(s->n_songs ? s->n_songs : 1);
    if (!s->song_offsets || !s->song_genre) return lm_err_set(e, "%s: out of memory", p);
    uint64_t n_off = s->n_songs + 1;
    if (io_h5_read(s->h5file, "song_offsets", IO_H5_U64, 1, &n_off, s->song_offsets, p, e) ||
        io_h5_read(s->h5file, "song_genre", IO_H5_U8, 1, &s->n_songs, s->song_genre, p, e))
        return -1;
    uint64_t stored, h = index_hash(s->song_offsets, s->song_genre, s->n_songs);
    if (io_h5_attr_get_u64(s->h5file, "index_checksum", &stored, p, e)) return -1;
    if (check_offsets(s, e)) return -1;
    if (stored != h)
        return lm_err_set(e, "%s: song_offsets/song_genre checksum mismatch (stored %016" PRIx64
                             ", computed %016" PRIx64 "): corrupt shard", p, stored, h);
    return 0;
}

int io_shard_open(io_shard *s, const char *path, lm_err *e) {
    memset(s, 0, sizeof *s);
    s->h5file = s->h5tokens = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = open_impl(s, path, e);
    io_h5_quiet_end(q);
    if (rc) io_shard_close(s);
    return rc;
}

int io_shard_read(io_shard *s, uint64_t start, uint64_t count, uint16_t *out, lm_err *e) {
    if (start > s->n_tokens || count > s->n_tokens - start)
        return lm_err_set(e, "%s: read of tokens [%" PRIu64 ", +%" PRIu64 ") beyond %" PRIu64,
                          s->path, start, count, s->n_tokens);
    if (count == 0) return 0;
    io_h5_quiet q = io_h5_quiet_begin();
    hsize_t off = start, cnt = count;
    hid_t fsp = H5Dget_space(s->h5tokens), msp = H5Screate_simple(1, &cnt, NULL);
    herr_t rc = H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    if (rc >= 0) rc = H5Dread(s->h5tokens, H5T_NATIVE_UINT16, msp, fsp, H5P_DEFAULT, out);
    if (rc < 0) io_h5_fail(e, s->path, "cannot read /tokens (corrupt chunk?)");
    H5Sclose(msp);
    H5Sclose(fsp);
    io_h5_quiet_end(q);
    return rc < 0 ? -1 : 0;
}

/* Index of the song that holds token t (offsets are monotone). */
static uint64_t song_of(const io_shard *s, uint64_t t) {
    uint64_t lo = 0, hi = s->n_songs;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s->song_offsets[mid] <= t) lo = mid;
        else hi = mid;
    }
    return lo;
}

int io_shard_validate(io_shard *s, lm_err *e) {
    const uint64_t step = 1 << 20;
    uint16_t *buf = malloc(step * sizeof *buf);
    if (!buf) return lm_err_set(e, "%s: out of memory", s->path);
    int rc = 0;
    for (uint64_t at = 0; at < s->n_tokens && rc == 0; at += step) {
        uint64_t n = s->n_tokens - at < step ? s->n_tokens - at : step;
        rc = io_shard_read(s, at, n, buf, e);
        for (uint64_t i = 0; i < n && rc == 0; i++)
            if (buf[i] >= s->vocab_size)
                rc = lm_err_set(e, "%s: token %" PRIu64 " (song %" PRIu64 ") has id %u >= vocab_size %u",
                                s->path, at + i, song_of(s, at + i), buf[i], s->vocab_size);
    }
    free(buf);
    return rc;
}

int io_shard_check_vocab(const io_shard *s, uint64_t vocab_hash, uint32_t vocab_size,
                         const char *vocab_path, lm_err *e) {
    if (s->vocab_hash != vocab_hash || s->vocab_size != vocab_size)
        return lm_err_set(e, "%s: built with another vocabulary (hash %016" PRIx64 ", size %u) than %s "
                             "(hash %016" PRIx64 ", size %u)", s->path, s->vocab_hash, s->vocab_size,
                          vocab_path, vocab_hash, vocab_size);
    return 0;
}

uint64_t io_shard_stored_bytes(const io_shard *s) {
    io_h5_quiet q = io_h5_quiet_begin();
    hsize_t n = H5Dget_storage_size(s->h5tokens);
    io_h5_quiet_end(q);
    return n;
}
