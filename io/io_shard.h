/* io_shard: token shards (train-NNNNN.h5 / val-NNNNN.h5), see docs/formats.md.
 *
 * A shard holds whole songs: /tokens uint16 [N] (chunked, zstd filter 32015),
 * /song_offsets uint64 [S+1] (song s is tokens[off[s], off[s+1]), off[0]=0,
 * off[S]=N), /song_genre uint8 [S]; attributes kind="shard", format_version,
 * vocab_hash (uint64), vocab_size, n_tokens, n_songs, index_checksum
 * (FNV-1a 64 of song_offsets then song_genre bytes). Integrity: every token
 * chunk is a checksummed zstd frame, the index has index_checksum, and the
 * HDF5 1.8 object headers holding the attributes are checksummed by HDF5.
 * The writer streams: memory stays bounded by one chunk of tokens plus the
 * per-song arrays. It writes to the exact path it is given (the caller owns
 * atomicity: preprocess builds the whole directory as DIR.tmp and renames). */
#ifndef IO_SHARD_H
#define IO_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"

#define IO_SHARD_FORMAT_VERSION 1

typedef struct io_shard_writer io_shard_writer;

#define IO_SHARD_CHUNK_TOKENS (64 * 1024) /* 128 KiB of uint16 per chunk */
/* Level 1: on lyrics tokens it compresses as well as level 3 (~2.15x) at
 * about twice the speed (docs/formats.md). */
#define IO_SHARD_ZSTD_LEVEL 1
#define IO_SHARD_CACHE_BYTES (2u << 20) /* decompressed-chunk cache per open shard */

/* Writer settings; zero fields take the defaults above. */
typedef struct io_shard_opts {
    size_t chunk_tokens; /* tokens per HDF5 chunk (= per zstd frame) */
    int zstd_level;      /* zstd level (negative: faster levels) */
} io_shard_opts;

/* Creates path (truncating it). Token ids must be < vocab_size <= 65536. */
io_shard_writer *io_shard_writer_open(const char *path, uint64_t vocab_hash,
                                      uint32_t vocab_size, lm_err *e);
/* Same with explicit settings (o may be NULL). */
io_shard_writer *io_shard_writer_open_opts(const char *path, uint64_t vocab_hash,
                                           uint32_t vocab_size, const io_shard_opts *o,
                                           lm_err *e);
/* Appends one song (tokens already contain <bos> <genre:..> ... <eos>).
 * Chunks are compressed by the caller's thread outside HDF5's library lock,
 * so writers of different shards in different threads compress in parallel.
 * An id >= vocab_size is refused (nothing of the song is written). */
int io_shard_writer_add(io_shard_writer *w, const uint16_t *tokens, size_t n,
                        uint8_t genre, lm_err *e);
uint64_t io_shard_writer_tokens(const io_shard_writer *w);
/* Writes offsets, genres and attributes, closes and fsyncs; frees w. */
int io_shard_writer_close(io_shard_writer *w, lm_err *e);
/* Frees w and removes the partial file (error paths). */
void io_shard_writer_abort(io_shard_writer *w);

typedef struct io_shard {
    char path[4096];
    uint64_t n_tokens, n_songs, vocab_hash;
    uint32_t vocab_size;
    uint64_t *song_offsets; /* n_songs + 1, loaded at open (small) */
    uint8_t *song_genre;    /* n_songs */
    int64_t h5file, h5tokens; /* hid_t, kept open for lazy token reads */
} io_shard;

/* Opens and validates structure (datasets, shapes, attributes, offsets
 * monotone and ending at n_tokens). Tokens are read lazily. */
int io_shard_open(io_shard *s, const char *path, lm_err *e);
/* Reads tokens [start, start+count) into out. */
int io_shard_read(io_shard *s, uint64_t start, uint64_t count, uint16_t *out, lm_err *e);
/* Full validation: also reads every token and checks id < vocab_size. */
int io_shard_validate(io_shard *s, lm_err *e);
/* Checks the shard was built with the vocabulary (hash, size) of vocab_path
 * (only used in the message). One-line error on mismatch. */
int io_shard_check_vocab(const io_shard *s, uint64_t vocab_hash, uint32_t vocab_size,
                         const char *vocab_path, lm_err *e);
/* Bytes /tokens occupies in the file (compressed), for ratios. */
uint64_t io_shard_stored_bytes(const io_shard *s);
/* Closes; safe after a failed io_shard_open and twice. */
void io_shard_close(io_shard *s);

/* Registers the zstd filter (id 32015) with the HDF5 library in this process
 * (idempotent). Called by the functions above; exposed for tests. */
int io_zstd_register(lm_err *e);

#endif
