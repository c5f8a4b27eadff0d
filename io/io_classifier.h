/* io_classifier: the genre classifier file of `eval` (HDF5, kind
 * "classifier"; docs/formats.md, "Genre classifier"), the counts of a
 * multinomial naive Bayes judge (the model itself is jobs/ eval_genre.h).
 *
 * Layout: /word_counts float64 [G,V] (occurrences of word w in the training
 * songs of genre g), /song_counts float64 [G]; root attributes, in this
 * order: kind, format_version (2), model (a description), vocab_hash,
 * vocab_size, corpus_hash (io_classifier_corpus_hash of the split it was
 * trained on), first_word (the first id that is a word feature), alpha
 * (smoothing), checksum (io_classifier_checksum). Version 2 added
 * corpus_hash; a version-1 file is refused.
 *
 * Contract:
 * - io_classifier_save writes atomically (temp file, fsync, rename); the
 *   same classifier always gives the same bytes.
 * - io_classifier_load checks, stopping at the first problem with one line
 *   naming the file: kind, format version, attributes present and typed,
 *   then (when the caller expects a vocabulary and corpus) vocabulary hash
 *   and size, corpus hash, then shapes and settings (1 <= G <= 65536,
 *   /word_counts [G,V], alpha > 0, 0 <= first_word < V), the checksum, and
 *   every word count finite and >= 0.
 * - Nothing is printed; on failure nothing stays allocated. */
#ifndef IO_CLASSIFIER_H
#define IO_CLASSIFIER_H

#include <stdint.h>

#include "io_corpus.h"
#include "lm_err.h"

#define IO_CLASSIFIER_FORMAT_VERSION 2
#define IO_CLASSIFIER_FILE_PREFIX "genre-classifier-" /* + 16 hex digits of the corpus hash + ".h5" */
#define IO_CLASSIFIER_MODEL "multinomial naive Bayes over word counts"

typedef struct io_classifier {
    int G;              /* genres */
    uint32_t V;         /* vocabulary size */
    int32_t first_word; /* ids below are not features */
    double alpha;
    uint64_t vocab_hash, corpus_hash;
    double *word_counts; /* [G,V] */
    double *song_counts; /* [G] */
} io_classifier;

/* What the caller's vocabulary and training split are; a file made for
 * others is an error naming it ("trained with another vocabulary", "trained
 * on other data"). */
typedef struct io_classifier_expect {
    uint64_t vocab_hash;
    uint32_t vocab_size;
    uint64_t corpus_hash;
} io_classifier_expect;

/* Allocates zeroed counts for G genres and V words and sets the settings
 * (alpha 1, corpus_hash 0); "classifier: out of memory (G genres x V
 * words)" when it cannot. */
int io_classifier_alloc(io_classifier *c, int G, uint32_t V, int32_t first_word, uint64_t vocab_hash,
                        lm_err *e);
/* Frees the counts; safe on a zeroed or freed classifier. */
void io_classifier_free(io_classifier *c);

/* FNV-1a 64 over the bytes of word_counts then song_counts (attribute
 * checksum). */
uint64_t io_classifier_checksum(const io_classifier *c);
/* Identifies the songs a classifier is trained on: FNV-1a 64 over each
 * shard's n_tokens and n_songs (uint64), song offsets and genre ids, in
 * shard order. Re-preprocessed or other data gives another hash (the same
 * vocabulary alone does not). */
uint64_t io_classifier_corpus_hash(const io_corpus_split *sp);

int io_classifier_save(const io_classifier *c, const char *path, lm_err *e);
/* Reads and checks path (see the contract); want NULL: no expectation (the
 * file's own vocabulary and corpus are taken). Allocates c's counts. */
int io_classifier_load(io_classifier *c, const char *path, const io_classifier_expect *want,
                       lm_err *e);

/* What `inspect` shows of a valid classifier file. */
typedef struct io_classifier_summary {
    int format_version, G;
    uint32_t V;
    int32_t first_word;
    double alpha, songs; /* songs: the sum of song_counts */
    uint64_t vocab_hash, corpus_hash, checksum;
} io_classifier_summary;

/* Full validation (io_classifier_load without expectations) and summary. */
int io_classifier_validate(const char *path, io_classifier_summary *s, lm_err *e);

#endif
