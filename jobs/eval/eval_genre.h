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
 * Stored as the genre classifier file of io/ (io_classifier.h; kind
 * "classifier", docs/formats.md): the counts, the vocabulary and the corpus
 * hash (io_classifier_corpus_hash) of the split it was trained on, a
 * checksum; written atomically. A version-1 file (no corpus hash) is refused,
 * and so retrained by eval. */
#ifndef EVAL_GENRE_H
#define EVAL_GENRE_H

#include <stddef.h>
#include <stdint.h>

#include "io_classifier.h"
#include "io_corpus.h"
#include "lm_err.h"
#include "progress.h"

typedef struct eval_nb {
    io_classifier f;   /* the counts and settings, as saved (io_classifier.h) */
    double *log_prior; /* [G], by eval_nb_finish */
    double *log_lik;   /* [G,V], by eval_nb_finish */
} eval_nb;

int eval_nb_init(eval_nb *c, int G, uint32_t V, int32_t first_word, uint64_t vocab_hash,
                 lm_err *e);
void eval_nb_free(eval_nb *c);
/* Counts one training song (genre in [0,G)). */
void eval_nb_add(eval_nb *c, int genre, const int32_t *ids, size_t n);
/* Computes the log-probabilities from the counts (after the last add). */
void eval_nb_finish(eval_nb *c);
int eval_nb_predict(const eval_nb *c, const int32_t *ids, size_t n);

/* Trains on every song of a split (e.g. the corpus's training split) and
 * records its io_classifier_corpus_hash; pr (may be NULL) shows it as a phase. */
int eval_nb_train(eval_nb *c, const io_corpus_split *sp, progress *pr, lm_err *e);
int eval_nb_save(const eval_nb *c, const char *path, lm_err *e);
/* Loads and validates with io_classifier_load, expecting this vocabulary
 * hash and size and this corpus hash (a stale or foreign file is an error
 * naming it), and finishes the classifier. */
int eval_nb_load(eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, uint64_t corpus_hash,
                 lm_err *e);

#endif
