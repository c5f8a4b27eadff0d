/* eval_genre: multinomial naive Bayes genre classifier, its training on a
 * corpus split and its HDF5 file (see eval_genre.h).
 * Invariants: counts are exact integers held as float64; the log tables are
 * a pure function of the counts and alpha, so a loaded classifier predicts
 * exactly like the one that was saved. */
#include "eval_genre.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_data.h"
#include "io_h5.h"

#define NB_KIND "classifier"

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

uint64_t eval_nb_corpus_hash(const train_split *sp) {
    uint64_t h = LM_SYS_FNV_OFFSET;
    for (int s = 0; s < sp->n_shards; s++) {
        const io_shard *sh = &sp->shards[s];
        uint64_t head[2] = {sh->n_tokens, sh->n_songs};
        h = lm_sys_fnv1a64(h, head, sizeof head);
        h = lm_sys_fnv1a64(h, sh->song_offsets, (size_t)(sh->n_songs + 1) * sizeof *sh->song_offsets);
        h = lm_sys_fnv1a64(h, sh->song_genre, (size_t)sh->n_songs);
    }
    return h;
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

int eval_nb_train(eval_nb *c, const train_split *sp, progress *pr, lm_err *e) {
    nb_train_ctx t = {c, pr, 0};
    progress_begin(pr, "genre judge training", (double)sp->n_songs, "songs");
    if (eval_split_foreach(sp, train_one, &t, e)) return -1;
    progress_end(pr);
    c->corpus_hash = eval_nb_corpus_hash(sp);
    eval_nb_finish(c);
    return 0;
}

/* ---- file ---------------------------------------------------------------------- */

static uint64_t nb_checksum(const eval_nb *c) {
    uint64_t h = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, c->word_counts, (size_t)c->G * c->V * sizeof(double));
    return lm_sys_fnv1a64(h, c->song_counts, (size_t)c->G * sizeof(double));
}

static int nb_write(hid_t f, const void *ctx, const char *path, lm_err *e) {
    const eval_nb *c = ctx;
    uint64_t dims[2] = {(uint64_t)c->G, c->V};
    if (io_h5_attr_put_str(f, "kind", NB_KIND) ||
        io_h5_attr_put_u64(f, "format_version", EVAL_NB_FORMAT_VERSION) ||
        io_h5_attr_put_str(f, "model", "multinomial naive Bayes over word counts") ||
        io_h5_attr_put_u64(f, "vocab_hash", c->vocab_hash) || io_h5_attr_put_u64(f, "vocab_size", c->V) ||
        io_h5_attr_put_u64(f, "corpus_hash", c->corpus_hash) ||
        io_h5_attr_put_i64(f, "first_word", c->first_word) || io_h5_attr_put_f64(f, "alpha", c->alpha) ||
        io_h5_attr_put_u64(f, "checksum", nb_checksum(c)))
        return io_h5_fail(e, path, "cannot write classifier attributes");
    if (io_h5_write(f, "word_counts", IO_H5_F64, 2, dims, c->word_counts, path, e) ||
        io_h5_write(f, "song_counts", IO_H5_F64, 1, dims, c->song_counts, path, e))
        return -1;
    return 0;
}

int eval_nb_save(const eval_nb *c, const char *path, lm_err *e) {
    return io_h5_save_atomic(path, nb_write, c, e);
}

static int nb_read(hid_t f, eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, uint64_t corpus,
                   lm_err *e) {
    uint64_t ver, hash, vsize, sum, chash;
    int64_t fw;
    double alpha;
    if (io_h5_attr_get_u64(f, "format_version", &ver, path, e)) return -1;
    if (ver != EVAL_NB_FORMAT_VERSION)
        return lm_err_set(e, "%s: classifier format version %llu, expected %d", path,
                          (unsigned long long)ver, EVAL_NB_FORMAT_VERSION);
    if (io_h5_attr_get_u64(f, "vocab_hash", &hash, path, e) ||
        io_h5_attr_get_u64(f, "corpus_hash", &chash, path, e) ||
        io_h5_attr_get_u64(f, "vocab_size", &vsize, path, e) ||
        io_h5_attr_get_i64(f, "first_word", &fw, path, e) || io_h5_attr_get_f64(f, "alpha", &alpha, path, e) ||
        io_h5_attr_get_u64(f, "checksum", &sum, path, e))
        return -1;
    if (hash != vocab_hash || vsize != V)
        return lm_err_set(e, "%s: classifier was trained with another vocabulary (hash %016llx, V=%llu)",
                          path, (unsigned long long)hash, (unsigned long long)vsize);
    if (chash != corpus)
        return lm_err_set(e, "%s: classifier was trained on other data (corpus hash %016llx, this corpus "
                             "%016llx)", path, (unsigned long long)chash, (unsigned long long)corpus);
    uint64_t dims[2];
    hid_t d = io_h5_open_dataset(f, "word_counts", IO_H5_F64, 2, dims, path, e);
    if (d < 0) return -1;
    H5Dclose(d);
    if (dims[0] < 1 || dims[0] > 65536 || dims[1] != V || !(alpha > 0) || fw < 0 || fw >= (int64_t)V)
        return lm_err_set(e, "%s: classifier shape or settings invalid", path);
    if (eval_nb_init(c, (int)dims[0], V, (int32_t)fw, hash, e)) return -1;
    c->alpha = alpha, c->corpus_hash = chash;
    if (io_h5_read(f, "word_counts", IO_H5_F64, 2, dims, c->word_counts, path, e) ||
        io_h5_read(f, "song_counts", IO_H5_F64, 1, dims, c->song_counts, path, e))
        return -1;
    if (nb_checksum(c) != sum) return lm_err_set(e, "%s: classifier checksum mismatch (corrupt file)", path);
    for (size_t i = 0; i < (size_t)c->G * V; i++)
        if (!(c->word_counts[i] >= 0 && isfinite(c->word_counts[i])))
            return lm_err_set(e, "%s: classifier count %zu invalid", path, i);
    eval_nb_finish(c);
    return 0;
}

int eval_nb_load(eval_nb *c, const char *path, uint64_t vocab_hash, uint32_t V, uint64_t corpus_hash,
                 lm_err *e) {
    memset(c, 0, sizeof *c);
    io_h5_quiet q = io_h5_quiet_begin();
    hid_t f = io_h5_open(path, NB_KIND, NULL, e);
    int rc = -1;
    if (f >= 0) {
        rc = nb_read(f, c, path, vocab_hash, V, corpus_hash, e);
        H5Fclose(f);
    }
    io_h5_quiet_end(q);
    if (rc) eval_nb_free(c);
    return rc;
}
