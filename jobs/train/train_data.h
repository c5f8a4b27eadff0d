/* train_data: the training corpus as G parallel token streams (DESIGN.md,
 * "Training loop", step 1).
 *
 * carry mode: each epoch the training songs are shuffled (seeded by seed and
 * epoch) and concatenated; the stream of N tokens is cut into G contiguous
 * parts of L = N / G tokens; step k gives stream g the inputs
 * stream[gL + kT .. gL + kT + T) and the targets shifted by one, so there are
 * (L - 1) / T steps per epoch and state carries from step k to k+1.
 * reset mode: the unshuffled stream is cut into W = (N - 1) / T windows of
 * T+1 tokens (stride T); an epoch-seeded permutation of the windows is dealt G
 * per step. Either way the tokens of stream g at step k depend only on the
 * corpus, seed, epoch, G and T: never on the number of ranks, so a rank owning
 * streams [first, first+B) reads exactly its part, lazily, song by song.
 * Validation uses the same carry layout over the unshuffled validation songs.
 * The corpus directory itself (listing, opening, the vocabulary check) is
 * io_corpus.h's; this module plans and reads an open io_corpus. */
#ifndef TRAIN_DATA_H
#define TRAIN_DATA_H

#include <stdint.h>

#include "io_corpus.h"
#include "lm_err.h"

/* What a checkpoint remembers of the corpus it was trained on. hash: FNV-1a
 * 64 over the vocabulary hash, then for the train and the val shards in name
 * order: the shard's file name (with its NUL), then n_tokens, n_songs and its
 * index checksum (FNV-1a 64 of song_offsets and song_genre, the shard's
 * index_checksum attribute) as little-endian uint64. counts: per split
 * (0 train, 1 val) shards, songs, tokens, for the message when they differ. */
typedef struct train_corpus_id {
    uint64_t hash;
    int64_t counts[2][3];
} train_corpus_id;
void train_corpus_fingerprint(const io_corpus *c, train_corpus_id *id);
/* One line (into msg) saying how corpus a (this run's --data) differs from b
 * (the checkpoint's). */
void train_corpus_id_diff(const train_corpus_id *a, const train_corpus_id *b, char *msg, size_t n);

typedef enum { TRAIN_STATE_CARRY = 0, TRAIN_STATE_RESET = 1 } train_state_mode;

/* One epoch's plan for a split. */
typedef struct train_plan {
    const io_corpus_split *split;
    train_state_mode mode;
    int G, T;
    uint32_t *order;   /* carry: song order [n_songs]; reset: unused (identity) */
    uint64_t *cum;     /* tokens before order[i] in the stream [n_songs+1] */
    uint64_t L;        /* carry: tokens per stream */
    uint32_t *windows; /* reset: permuted window ids [W] */
    uint64_t n_windows;
    long steps;        /* steps in this epoch */
    struct train_song_cache *caches; /* [G]: the song each stream is in */
} train_plan;

/* shuffle != 0: permute songs with (seed, epoch) (training); 0: corpus order. */
int train_plan_init(train_plan *p, const io_corpus_split *s, train_state_mode mode,
                    int G, int T, uint64_t seed, long epoch, int shuffle, lm_err *e);
void train_plan_free(train_plan *p);

/* Fills in/tgt [B,T] for streams first..first+B-1 at step k (0 <= k < steps). */
int train_plan_batch(train_plan *p, long k, int first, int B, int32_t *in,
                     int32_t *tgt, lm_err *e);

#endif
