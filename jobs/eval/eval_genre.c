/* eval_genre: multinomial naive Bayes genre classifier, its training on a
 * corpus split and its file, through io_classifier.h (see eval_genre.h).
 * Invariants: counts are exact integers held as float64; the log tables are
 * a pure function of the counts and alpha, so a loaded classifier predicts
 * exactly like the one that was saved. */
#include "eval_genre.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_data.h"
#include "io_classifier.h"

/* The log tables beside counts already in c->f; on failure c is freed. */
static int alloc_tables(eval_nb *c, lm_err *e) {
    const int G = c->f.G;
    const uint32_t V = c->f.V;
    c->log_lik = calloc((size_t)G * V, sizeof(double));
    c->log_prior = calloc((size_t)G, sizeof(double));
    if (c->log_lik && c->log_prior) return 0;
    eval_nb_free(c);
    return lm_err_set(e, "classifier: out of memory (%d genres x %u words)", G, V);
}

int eval_nb_init(eval_nb *c, int G, uint32_t V, int32_t first_word, uint64_t vocab_hash,
                 lm_err *e) {
    memset(c, 0, sizeof *c);
    if (io_classifier_alloc(&c->f, G, V, first_word, vocab_hash, e)) return -1;
    return alloc_tables(c, e);
}

void eval_nb_free(eval_nb *c) {
    io_classifier_free(&c->f);
    free(c->log_prior), free(c->log_lik);
    memset(c, 0, sizeof *c);
}

void eval_nb_add(eval_nb *c, int genre, const int32_t *ids, size_t n) {
    if (genre < 0 || genre >= c->f.G) return;
    double *row = c->f.word_counts + (size_t)genre * c->f.V;
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= c->f.first_word && (uint32_t)ids[i] < c->f.V) row[ids[i]] += 1.0;
    c->f.song_counts[genre] += 1.0;
}

void eval_nb_finish(eval_nb *c) {
    double songs = 0.0, W = (double)(c->f.V - (uint32_t)c->f.first_word);
    for (int g = 0; g < c->f.G; g++) songs += c->f.song_counts[g];
    for (int g = 0; g < c->f.G; g++) {
        const double *row = c->f.word_counts + (size_t)g * c->f.V;
        double *ll = c->log_lik + (size_t)g * c->f.V, total = 0.0;
        for (uint32_t w = (uint32_t)c->f.first_word; w < c->f.V; w++) total += row[w];
        double denom = log(total + c->f.alpha * W);
        for (uint32_t w = 0; w < c->f.V; w++)
            ll[w] = w < (uint32_t)c->f.first_word ? 0.0 : log(row[w] + c->f.alpha) - denom;
        /* a genre without training songs is never predicted */
        c->log_prior[g] = c->f.song_counts[g] > 0 ? log(c->f.song_counts[g] / songs) : -INFINITY;
    }
}

int eval_nb_predict(const eval_nb *c, const int32_t *ids, size_t n) {
    int best = 0;
    double best_s = -INFINITY;
    for (int g = 0; g < c->f.G; g++) {
        const double *ll = c->log_lik + (size_t)g * c->f.V;
        double s = c->log_prior[g];
        for (size_t i = 0; i < n; i++)
            if (ids[i] >= c->f.first_word && (uint32_t)ids[i] < c->f.V) s += ll[ids[i]];
        if (s > best_s) best_s = s, best = g;
    }
    return best;
}

typedef struct nb_train_ctx {
    eval_nb *c;
    progress *pr;
    double done;
} nb_train_ctx;

static int train_one(void *ctx, const int32_t *ids, size_t n, int genre) {
    nb_train_ctx *t = ctx;
    eval_nb_add(t->c, genre, ids, n);
    progress_update(t->pr, ++t->done);
    return 0;
}

int eval_nb_train(eval_nb *c, const io_corpus_split *sp, progress *pr, lm_err *e) {
    nb_train_ctx t = {c, pr, 0};
    progress_begin(pr, "genre judge training", (double)sp->n_songs, "songs");
    if (eval_split_foreach(sp, train_one, &t, e)) return -1;
    progress_end(pr);
    c->f.corpus_hash = io_classifier_corpus_hash(sp);
    eval_nb_finish(c);
    return 0;
}

/* ---- file (io_classifier.h) ------------------------------------------------------ */

int eval_nb_save(const eval_nb *c, const char *path, lm_err *e) { return io_classifier_save(&c->f, path, e); }

int eval_nb_load(eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, uint64_t corpus_hash,
                 lm_err *e) {
    memset(c, 0, sizeof *c);
    const io_classifier_expect want = {vocab_hash, V, corpus_hash};
    if (io_classifier_load(&c->f, path, &want, e) || alloc_tables(c, e)) return -1;
    eval_nb_finish(c);
    return 0;
}
