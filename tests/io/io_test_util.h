/* io_test_util: fixtures for the io tests, made fresh in a temp dir: a
 * deterministic multi-chunk shard, a small UTF-8 vocabulary, and helpers to
 * damage files (truncate, overwrite bytes, edit attributes/datasets). */
#ifndef IO_TEST_UTIL_H
#define IO_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "io_shard.h"
#include "io_ckpt.h"
#include "io_vocab.h"

/* mkdtemp under $TMPDIR or /tmp; returns a static-lifetime malloc'd path. */
char *iot_tmpdir(void);
/* Joins dir/name into a malloc'd path. */
char *iot_path(const char *dir, const char *name);
/* Token i of song s in the fixture shards (deterministic, < V). */
uint16_t iot_token(uint64_t s, uint64_t i, uint32_t V);
/* Length of song s (between 3 and ~600). */
size_t iot_song_len(uint64_t s);
/* Writes a shard of n_songs fixture songs; chunk_tokens 0 = default. */
int iot_write_shard(const char *path, uint64_t n_songs, uint32_t V, uint64_t hash,
                    size_t chunk_tokens, uint64_t *n_tokens_out);
/* A small valid vocabulary with UTF-8 words (2 genres); free with io_vocab_free. */
void iot_make_vocab(io_vocab *v);
/* Truncates file to `keep` bytes. */
void iot_truncate(const char *path, long keep);
/* Overwrites bytes [at, at+n) with x ^ 0x5a. */
void iot_corrupt(const char *path, long at, long n);
long iot_file_size(const char *path);
/* File offset of a contiguous dataset's first byte, or -1. */
long iot_dataset_offset(const char *path, const char *name);
/* Writes n pseudo-random bytes to path. */
void iot_random_file(const char *path, size_t n);
/* Runs a shell command and returns its exit status. */
int iot_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A checkpoint fixture: model, Adam moments, vocabulary (iot_make_vocab, so
 * V must be 16) and state arrays with awkward values. */
typedef struct iot_ckpt {
    lm_model model;
    float *m, *v;
    lm_adam adam;
    io_vocab vocab;
    int64_t epoch;
    uint64_t rng[4];
    double lr;
    float best;
    int G;
    float *hc; /* [G,H] */
} iot_ckpt;
void iot_fill(float *x, size_t n, uint32_t seed);
void iot_ckpt_make(iot_ckpt *c, lm_dims d, uint32_t seed);
void iot_ckpt_free(iot_ckpt *c);
/* Saves with state arrays epoch, rng.train, lr, sched.best, carry.h. */
int iot_ckpt_save(const char *path, const iot_ckpt *c, int64_t step, lm_err *e);

#endif
