/* io_classifier: the genre classifier file (see io_classifier.h).
 * Invariants: the counts are read only after every attribute and shape is
 * checked, so a damaged file never sizes an allocation by itself beyond
 * 65536 x 65536; the checksum covers exactly the bytes of both datasets. */
#include "io_classifier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_h5.h"

int io_classifier_alloc(io_classifier *c, int G, uint32_t V, int32_t first_word, uint64_t vocab_hash,
                        lm_err *e) {
    memset(c, 0, sizeof *c);
    if (G < 1 || first_word < 0 || (uint32_t)first_word >= V)
        return lm_err_set(e, "classifier: need at least one genre and one word (G=%d, V=%u)", G, V);
    c->G = G, c->V = V, c->first_word = first_word, c->alpha = 1.0, c->vocab_hash = vocab_hash;
    c->word_counts = calloc((size_t)G * V, sizeof(double));
    c->song_counts = calloc((size_t)G, sizeof(double));
    if (!c->word_counts || !c->song_counts) {
        io_classifier_free(c);
        return lm_err_set(e, "classifier: out of memory (%d genres x %u words)", G, V);
    }
    return 0;
}

void io_classifier_free(io_classifier *c) {
    free(c->word_counts), free(c->song_counts);
    memset(c, 0, sizeof *c);
}

uint64_t io_classifier_checksum(const io_classifier *c) {
    uint64_t h = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, c->word_counts, (size_t)c->G * c->V * sizeof(double));
    return lm_sys_fnv1a64(h, c->song_counts, (size_t)c->G * sizeof(double));
}

uint64_t io_classifier_corpus_hash(const io_corpus_split *sp) {
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

static int fill(hid_t f, const void *ctx, const char *path, lm_err *e) {
    const io_classifier *c = ctx;
    uint64_t dims[2] = {(uint64_t)c->G, c->V};
    if (io_h5_attr_put_str(f, "kind", IO_KIND_CLASSIFIER) ||
        io_h5_attr_put_u64(f, "format_version", IO_CLASSIFIER_FORMAT_VERSION) ||
        io_h5_attr_put_str(f, "model", IO_CLASSIFIER_MODEL) ||
        io_h5_attr_put_u64(f, "vocab_hash", c->vocab_hash) || io_h5_attr_put_u64(f, "vocab_size", c->V) ||
        io_h5_attr_put_u64(f, "corpus_hash", c->corpus_hash) ||
        io_h5_attr_put_i64(f, "first_word", c->first_word) || io_h5_attr_put_f64(f, "alpha", c->alpha) ||
        io_h5_attr_put_u64(f, "checksum", io_classifier_checksum(c)))
        return io_h5_fail(e, path, "cannot write classifier attributes");
    if (io_h5_write(f, "word_counts", IO_H5_F64, 2, dims, c->word_counts, path, e) ||
        io_h5_write(f, "song_counts", IO_H5_F64, 1, dims, c->song_counts, path, e))
        return -1;
    return 0;
}

int io_classifier_save(const io_classifier *c, const char *path, lm_err *e) {
    return io_h5_save_atomic(path, fill, c, e);
}

/* The root attributes, in the order of the file's contract. */
typedef struct clf_attrs {
    uint64_t version, vocab_hash, vocab_size, corpus_hash, checksum;
    int64_t first_word;
    double alpha;
} clf_attrs;

static int read_attrs(hid_t f, clf_attrs *a, const char *path, lm_err *e) {
    if (io_h5_attr_get_u64(f, "format_version", &a->version, path, e)) return -1;
    if (a->version != IO_CLASSIFIER_FORMAT_VERSION)
        return lm_err_set(e, "%s: classifier format version %llu, expected %d", path,
                          (unsigned long long)a->version, IO_CLASSIFIER_FORMAT_VERSION);
    if (io_h5_attr_get_u64(f, "vocab_hash", &a->vocab_hash, path, e) ||
        io_h5_attr_get_u64(f, "corpus_hash", &a->corpus_hash, path, e) ||
        io_h5_attr_get_u64(f, "vocab_size", &a->vocab_size, path, e) ||
        io_h5_attr_get_i64(f, "first_word", &a->first_word, path, e) ||
        io_h5_attr_get_f64(f, "alpha", &a->alpha, path, e) ||
        io_h5_attr_get_u64(f, "checksum", &a->checksum, path, e))
        return -1;
    return 0;
}

static int check_expect(const clf_attrs *a, const io_classifier_expect *want, const char *path, lm_err *e) {
    if (a->vocab_hash != want->vocab_hash || a->vocab_size != want->vocab_size)
        return lm_err_set(e, "%s: classifier was trained with another vocabulary (hash %016llx, V=%llu)",
                          path, (unsigned long long)a->vocab_hash, (unsigned long long)a->vocab_size);
    if (a->corpus_hash != want->corpus_hash)
        return lm_err_set(e, "%s: classifier was trained on other data (corpus hash %016llx, this corpus "
                             "%016llx)", path, (unsigned long long)a->corpus_hash,
                          (unsigned long long)want->corpus_hash);
    return 0;
}

/* Shapes and settings, then the counts, their checksum and their values. */
static int read_counts(hid_t f, io_classifier *c, const clf_attrs *a, const char *path, lm_err *e) {
    uint64_t dims[2], V = a->vocab_size;
    hid_t d = io_h5_open_dataset(f, "word_counts", IO_H5_F64, 2, dims, path, e);
    if (d < 0) return -1;
    H5Dclose(d);
    if (dims[0] < 1 || dims[0] > 65536 || dims[1] != V || V > 65536 || !(a->alpha > 0) || a->first_word < 0 ||
        a->first_word >= (int64_t)V)
        return lm_err_set(e, "%s: classifier shape or settings invalid", path);
    if (io_classifier_alloc(c, (int)dims[0], (uint32_t)V, (int32_t)a->first_word, a->vocab_hash, e)) return -1;
    c->alpha = a->alpha, c->corpus_hash = a->corpus_hash;
    if (io_h5_read(f, "word_counts", IO_H5_F64, 2, dims, c->word_counts, path, e) ||
        io_h5_read(f, "song_counts", IO_H5_F64, 1, dims, c->song_counts, path, e))
        return -1;
    if (io_classifier_checksum(c) != a->checksum)
        return lm_err_set(e, "%s: classifier checksum mismatch (corrupt file)", path);
    for (size_t i = 0; i < (size_t)c->G * c->V; i++)
        if (!(c->word_counts[i] >= 0 && isfinite(c->word_counts[i])))
            return lm_err_set(e, "%s: classifier count %zu invalid", path, i);
    return 0;
}

int io_classifier_load(io_classifier *c, const char *path, const io_classifier_expect *want,
                       lm_err *e) {
    memset(c, 0, sizeof *c);
    io_h5_quiet q = io_h5_quiet_begin();
    hid_t f = io_h5_open(path, IO_KIND_CLASSIFIER, NULL, e);
    clf_attrs a;
    int rc = -1;
    if (f >= 0) {
        rc = read_attrs(f, &a, path, e) || (want && check_expect(&a, want, path, e)) ||
                     read_counts(f, c, &a, path, e)
                 ? -1
                 : 0;
        H5Fclose(f);
    }
    io_h5_quiet_end(q);
    if (rc) io_classifier_free(c);
    return rc;
}

int io_classifier_validate(const char *path, io_classifier_summary *s, lm_err *e) {
    io_classifier c;
    memset(s, 0, sizeof *s);
    if (io_classifier_load(&c, path, NULL, e)) return -1;
    s->format_version = IO_CLASSIFIER_FORMAT_VERSION;
    s->G = c.G, s->V = c.V, s->first_word = c.first_word, s->alpha = c.alpha;
    s->vocab_hash = c.vocab_hash, s->corpus_hash = c.corpus_hash, s->checksum = io_classifier_checksum(&c);
    for (int g = 0; g < c.G; g++) s->songs += c.song_counts[g];
    io_classifier_free(&c);
    return 0;
}
