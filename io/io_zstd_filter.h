/* io_zstd_filter: the zstd HDF5 filter (registered id 32015), shared by the
 * in-process registration (io_zstd_register in io_shard.c) and the loadable
 * plugin (io/plugin/h5z_zstd_plugin.c), so both run exactly this code.
 *
 * Wire format, as the HDF5 community zstd plugin's: each chunk is ONE zstd
 * frame with its content size in the header (ours also carries zstd's
 * content checksum, verified on decode); cd_values[0] (optional) is the
 * compression level used when writing. Depends on HDF5 and libzstd only
 * (no lm_* symbols), so it can be linked into the plugin shared library. */
#ifndef IO_ZSTD_FILTER_H
#define IO_ZSTD_FILTER_H

#include <stddef.h>

#include <hdf5.h>

#define IO_ZSTD_FILTER_ID 32015
#define IO_ZSTD_DEFAULT_LEVEL 3

/* The filter class to pass to H5Zregister (version 2 of H5Z_class_t). */
extern const H5Z_class2_t io_zstd_filter_class;

/* H5Z_func_t: compresses (flags without H5Z_FLAG_REVERSE) or decompresses
 * *buf in place of its nbytes; returns the new size, or 0 on failure. */
size_t io_zstd_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                      size_t nbytes, size_t *buf_size, void **buf);

/* Compresses src[0..n) into one frame in dst (capacity cap, at least
 * ZSTD_compressBound(n)) with `level`, clamped to zstd's range. cctx may be
 * NULL (a context is made for the call) or a ZSTD_CCtx* reused by a writer.
 * Returns the frame size, or 0 on failure. This is the filter's encoder. */
size_t io_zstd_compress(void *cctx, void *dst, size_t cap, const void *src, size_t n, int level);

#endif
