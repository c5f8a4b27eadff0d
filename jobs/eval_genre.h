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
 * vocab_size, first_word, alpha, checksum (FNV-1a 64 of both datasets'
 * bytes). Written atomically (temp file, fsync, rename). */
#ifndef EVAL_GENRE_H
#define EVAL_GENRE_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "train_data.h"

#define EVAL_NB_FORMAT_VERSION 1
#define EVAL_NB_FILE "genre-classifier.h5"

typedef struct eval_nb {
    int G;
    uint32_t V;
    int32_t first_word;
    double alpha;
    uint64_t vocab_hash;
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

/* Trains on every song of a split (e.g. the corpus's training split). */
int eval_nb_train(eval_nb *c, const train_split *sp, lm_err *e);
int eval_nb_save(const eval_nb *c, const char *path, lm_err *e);
/* Loads and validates (kind, version, checksum, shapes, counts finite and
 * >= 0); then checks the vocabulary hash and size against the expected
 * ones. Finishes the classifier. */
int eval_nb_load(eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, lm_err *e);

#endif
