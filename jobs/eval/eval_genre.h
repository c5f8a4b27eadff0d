/* eval_genre: the genre judge of `eval`, a multinomial naive Bayes
 * classifier over word counts (docs/evaluation.md, "Genre accuracy").
 *
 *   score(g | song) = log P(g) + sum over words w of the song of
 *                     count(w) * log P(w | g)
 *   P(g)     = songs of genre g / songs
 *   P(w | g) = (n(g, w) + alpha) / (n(g) + alpha * W)
 * n(g, w): occurrences of word w in training songs of genre g; W: the words
 * of the vocabulary (ids >= first_word; <unk>, line breaks and specials are
 * not features); alpha = 1 (Laplace). The prediction is the argmax (lowest
 * genre index on ties).
 *
 * Stored as HDF5 (kind "classifier"): /word_counts float64 [G,V],
 * /song_counts float64 [G]; attributes format_version, vocab_hash,
 * vocab_size, corpus_hash (eval_nb_corpus_hash of the split it was trained
 * on), first_word, alpha, checksum (FNV-1a 64 of both datasets' bytes).
 * Written atomically (temp file, fsync, rename). Format version 2 added
 * corpus_hash; a version-1 file is refused (and so retrained by eval). */
#ifndef EVAL_GENRE_H
#define EVAL_GENRE_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "progress.h"
#include "train_data.h"

#define EVAL_NB_FORMAT_VERSION 2
#define EVAL_NB_FILE_PREFIX "genre-classifier-" /* + 16 hex digits of the corpus hash + ".h5" */

typedef struct eval_nb {
    int G;
    uint32_t V;
    int32_t first_word;
    double alpha;
    uint64_t vocab_hash, corpus_hash;
    double *word_counts; /* [G,V] */
    double *song_counts; /* [G] */
    double *log_prior;   /* [G], by eval_nb_finish */
    double *log_lik;     /* [G,V], by eval_nb_finish */
} eval_nb;

int eval_nb_init(eval_nb *c, int G, uint32_t V, int32_t first_word, uint64_t vocab_hash,
                 lm_err *e);
void eval_nb_free(eval_nb *c);
/* Counts one training song (genre in [0,G)). */
void eval_nb_add(eval_nb *c, int genre, const int32_t *ids, size_t n);
/* Computes the log-probabilities from the counts (after the last add). */
void eval_nb_finish(eval_nb *c);
int eval_nb_predict(const eval_nb *c, const int32_t *ids, size_t n);

/* Identifies the songs a classifier is trained on: FNV-1a 64 over each
 * shard's token and song counts, song offsets and genre ids, in shard
 * order. Re-preprocessed or other data gives another hash (the same
 * vocabulary alone does not). */
uint64_t eval_nb_corpus_hash(const train_split *sp);
/* Trains on every song of a split (e.g. the corpus's training split) and
 * records its eval_nb_corpus_hash; pr (may be NULL) shows it as a phase. */
int eval_nb_train(eval_nb *c, const train_split *sp, progress *pr, lm_err *e);
int eval_nb_save(const eval_nb *c, const char *path, lm_err *e);
/* Loads and validates (kind, version, checksum, shapes, counts finite and
 * >= 0); then checks the vocabulary hash and size and the corpus hash
 * against the expected ones (a stale or foreign file is an error naming
 * it). Finishes the classifier. */
int eval_nb_load(eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, uint64_t corpus_hash,
                 lm_err *e);

#endif
