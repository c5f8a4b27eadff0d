/* io_zstd_filter: the zstd HDF5 filter function (see io_zstd_filter.h).
 *
 * Invariants: encode writes exactly one frame with the content size and a
 * content checksum (so a corrupt chunk fails to decode instead of yielding
 * wrong tokens; decoders that ignore checksums still read it);
 * decode accepts any valid zstd stream (one-shot when the frame declares its
 * size, streaming otherwise) and returns 0 (HDF5's "filter failed") on any
 * corrupt input or allocation failure, never crashes or leaks. Buffers handed
 * back to HDF5 come from H5allocate_memory, as HDF5 frees them. */
#include "io_zstd_filter.h"

#include <string.h>

#include <zstd.h>

const H5Z_class2_t io_zstd_filter_class = {
    H5Z_CLASS_T_VERS,
    (H5Z_filter_t)IO_ZSTD_FILTER_ID,
    1, /* encoder present */
    1, /* decoder present */
    "zstd",
    NULL, /* can_apply */
    NULL, /* set_local */
    io_zstd_filter,
};

size_t io_zstd_compress(void *cctx, void *dst, size_t cap, const void *src, size_t n, int level) {
    ZSTD_CCtx *c = cctx ? (ZSTD_CCtx *)cctx : ZSTD_createCCtx();
    if (!c) return 0;
    if (level < ZSTD_minCLevel()) level = ZSTD_minCLevel();
    if (level > ZSTD_maxCLevel()) level = ZSTD_maxCLevel();
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    size_t r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(r)) r = ZSTD_compress2(c, dst, cap, src, n);
    if (!cctx) ZSTD_freeCCtx(c);
    return ZSTD_isError(r) ? 0 : r;
}

/* Streaming decode for frames without a declared size: grow the output. */
static void *decompress_stream(const void *src, size_t n, size_t *out_n) {
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds) return NULL;
    size_t cap = n * 4 + 4096, len = 0;
    void *out = H5allocate_memory(cap, 0);
    ZSTD_inBuffer in = {src, n, 0};
    size_t r = 1;
    while (out) {
        ZSTD_outBuffer ob = {(char *)out + len, cap - len, 0};
        r = ZSTD_decompressStream(ds, &ob, &in);
        len += ob.pos;
        if (ZSTD_isError(r) || (r == 0 && in.pos == in.size)) break;
        if (in.pos == in.size && ob.pos < ob.size) { r = (size_t)-1; break; } /* truncated */
        if (len == cap) {
            void *bigger = H5resize_memory(out, cap * 2);
            if (!bigger) { H5free_memory(out); out = NULL; break; }
            out = bigger;
            cap *= 2;
        }
    }
    ZSTD_freeDStream(ds);
    if (out && r != 0) { H5free_memory(out); out = NULL; }
    *out_n = len;
    return out;
}

static void *decompress(const void *src, size_t n, size_t *out_n) {
    unsigned long long size = ZSTD_getFrameContentSize(src, n);
    if (size == ZSTD_CONTENTSIZE_ERROR) return NULL;
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) return decompress_stream(src, n, out_n);
    if (size > 0xFFFFFFFFull) return NULL; /* HDF5 chunks are < 4 GiB: a corrupt header */
    void *out = H5allocate_memory(size ? (size_t)size : 1, 0);
    if (!out) return NULL;
    size_t r = ZSTD_decompress(out, (size_t)size, src, n);
    if (ZSTD_isError(r) || r != size) {
        H5free_memory(out);
        return NULL;
    }
    *out_n = (size_t)size;
    return out;
}

size_t io_zstd_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                      size_t nbytes, size_t *buf_size, void **buf) {
    void *out;
    size_t out_n = 0;
    if (flags & H5Z_FLAG_REVERSE) {
        out = decompress(*buf, nbytes, &out_n);
    } else {
        int level = cd_nelmts > 0 ? (int)cd_values[0] : IO_ZSTD_DEFAULT_LEVEL;
        size_t cap = ZSTD_compressBound(nbytes);
        out = H5allocate_memory(cap, 0);
        if (out) {
            out_n = io_zstd_compress(NULL, out, cap, *buf, nbytes, level);
            if (!out_n) { H5free_memory(out); out = NULL; }
        }
    }
    if (!out) return 0;
    H5free_memory(*buf);
    *buf = out;
    *buf_size = out_n;
    return out_n;
}
