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

int eval_nb_init(eval_nb *c, int G, uint32_t V, int32_t first_word, uint64_t vocab_hash,
                 lm_err *e) {
    memset(c, 0, sizeof *c);
    if (G < 1 || first_word < 0 || (uint32_t)first_word >= V)
        return lm_err_set(e, "classifier: need at least one genre and one word (G=%d, V=%u)", G, V);
    c->G = G, c->V = V, c->first_word = first_word, c->alpha = 1.0, c->vocab_hash = vocab_hash;
    size_t gv = (size_t)G * V;
    c->word_counts = calloc(gv, sizeof(double));
    c->log_lik = calloc(gv, sizeof(double));
    c->song_counts = calloc((size_t)G, sizeof(double));
    c->log_prior = calloc((size_t)G, sizeof(double));
    if (!c->word_counts || !c->log_lik || !c->song_counts || !c->log_prior) {
        eval_nb_free(c);
        return lm_err_set(e, "classifier: out of memory (%d genres x %u words)", G, V);
    }
    return 0;
}

void eval_nb_free(eval_nb *c) {
    free(c->word_counts), free(c->song_counts), free(c->log_prior), free(c->log_lik);
    memset(c, 0, sizeof *c);
}

void eval_nb_add(eval_nb *c, int genre, const int32_t *ids, size_t n) {
    if (genre < 0 || genre >= c->G) return;
    double *row = c->word_counts + (size_t)genre * c->V;
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= c->first_word && (uint32_t)ids[i] < c->V) row[ids[i]] += 1.0;
    c->song_counts[genre] += 1.0;
}

void eval_nb_finish(eval_nb *c) {
    double songs = 0.0, W = (double)(c->V - (uint32_t)c->first_word);
    for (int g = 0; g < c->G; g++) songs += c->song_counts[g];
    for (int g = 0; g < c->G; g++) {
        const double *row = c->word_counts + (size_t)g * c->V;
        double *ll = c->log_lik + (size_t)g * c->V, total = 0.0;
        for (uint32_t w = (uint32_t)c->first_word; w < c->V; w++) total += row[w];
        double denom = log(total + c->alpha * W);
        for (uint32_t w = 0; w < c->V; w++)
            ll[w] = w < (uint32_t)c->first_word ? 0.0 : log(row[w] + c->alpha) - denom;
        /* a genre without training songs is never predicted */
        c->log_prior[g] = c->song_counts[g] > 0 ? log(c->song_counts[g] / songs) : -INFINITY;
    }
}

int eval_nb_predict(const eval_nb *c, const int32_t *ids, size_t n) {
    int best = 0;
    double best_s = -INFINITY;
    for (int g = 0; g < c->G; g++) {
        const double *ll = c->log_lik + (size_t)g * c->V;
        double s = c->log_prior[g];
        for (size_t i = 0; i < n; i++)
            if (ids[i] >= c->first_word && (uint32_t)ids[i] < c->V) s += ll[ids[i]];
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
    c->corpus_hash = io_classifier_corpus_hash(sp);
    eval_nb_finish(c);
    return 0;
}

/* ---- file (io_classifier.h) ------------------------------------------------------ */

int eval_nb_save(const eval_nb *c, const char *path, lm_err *e) {
    const io_classifier f = {.G = c->G, .V = c->V, .first_word = c->first_word, .alpha = c->alpha,
                             .vocab_hash = c->vocab_hash, .corpus_hash = c->corpus_hash,
                             .word_counts = c->word_counts, .song_counts = c->song_counts};
    return io_classifier_save(&f, path, e);
}

int eval_nb_load(eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, uint64_t corpus_hash,
                 lm_err *e) {
    memset(c, 0, sizeof *c);
    const io_classifier_expect want = {vocab_hash, V, corpus_hash};
    io_classifier f;
    if (io_classifier_load(&f, path, &want, e)) return -1;
    int rc = eval_nb_init(c, f.G, f.V, f.first_word, f.vocab_hash, e);
    if (rc == 0) {
        c->alpha = f.alpha, c->corpus_hash = f.corpus_hash;
        memcpy(c->word_counts, f.word_counts, (size_t)f.G * f.V * sizeof *f.word_counts);
        memcpy(c->song_counts, f.song_counts, (size_t)f.G * sizeof *f.song_counts);
        eval_nb_finish(c);
    }
    io_classifier_free(&f);
    return rc;
}
