/* test_io_classifier: the genre classifier file (io_classifier.h) round-trips
 * exactly, keeps its layout (h5dump of the header against
 * data/classifier.h5dump, made from the file jobs/eval/eval_genre.c wrote before
 * the format moved to io/), is known to io_file, and every damaged, stale or
 * foreign file is refused with one line naming it. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_classifier.h"
#include "io_file.h"
#include "io_h5.h"
#include "io_test_cr.h"

#define NG 2
#define CV 6
#define VHASH 0x42ULL
#define CHASH 0x7ULL

TestSuite(io_classifier, .init = iot_setup, .fini = iot_teardown);

/* The fixture: 2 genres, 6 ids of which 2.. are words, counts i*i / 2. */
static void make_clf(io_classifier *c) {
    lm_err e;
    cr_assert_eq(io_classifier_alloc(c, NG, CV, 2, VHASH, &e), 0, "%s", e.msg);
    for (size_t i = 0; i < (size_t)NG * CV; i++) c->word_counts[i] = (double)(i * i) / 2;
    c->song_counts[0] = 3, c->song_counts[1] = 5;
    c->corpus_hash = CHASH;
}

static char *saved_clf(const char *name) {
    io_classifier c;
    make_clf(&c);
    char *p = iot_path(iot_dir, name);
    lm_err e;
    cr_assert_eq(io_classifier_save(&c, p, &e), 0, "%s", e.msg);
    io_classifier_free(&c);
    return p;
}

static const io_classifier_expect want = {VHASH, CV, CHASH};

static void assert_refused(const char *p, const io_classifier_expect *w, const char *what) {
    io_classifier c;
    lm_err e = {{0}};
    cr_assert_eq(io_classifier_load(&c, p, w, &e), -1, "accepted: want '%s'", what);
    iot_assert_one_line(&e, p, what);
    cr_assert_null(c.word_counts, "counts left allocated");
}

Test(io_classifier, round_trip_is_exact) {
    char *p = saved_clf("clf.h5");
    io_classifier a, b;
    make_clf(&a);
    lm_err e;
    cr_assert_eq(io_classifier_load(&b, p, &want, &e), 0, "%s", e.msg);
    cr_assert_eq(b.G, NG);
    cr_assert_eq(b.V, CV);
    cr_assert_eq(b.first_word, 2);
    cr_assert_eq(b.alpha, 1.0);
    cr_assert_eq(b.vocab_hash, VHASH);
    cr_assert_eq(b.corpus_hash, CHASH);
    cr_assert_eq(memcmp(a.word_counts, b.word_counts, sizeof(double) * NG * CV), 0);
    cr_assert_eq(memcmp(a.song_counts, b.song_counts, sizeof(double) * NG), 0);
    io_classifier_free(&b);
    io_classifier_free(&b); /* twice is safe */
    io_classifier_free(&a);
    free(p);
}

Test(io_classifier, same_classifier_same_bytes) {
    char *p = saved_clf("a.h5"), *q = saved_clf("b.h5");
    cr_assert_eq(iot_system("cmp -s '%s' '%s'", p, q), 0, "two saves differ");
    free(p), free(q);
}

/* The layout: types, shapes, attributes and their values, storage layout,
 * offsets and fill settings, as h5dump -H -p shows them, are those of the
 * file the jobs/ writer made. */
Test(io_classifier, layout_matches_the_reference_dump) {
    char *p = saved_clf("clf.h5");
    char *out = iot_path(iot_dir, "clf.h5dump");
    cr_assert_eq(iot_system("cd '%s' && h5dump -H -p clf.h5 > '%s'", iot_dir, out), 0);
    int rc = iot_system("diff -u '%s/tests/io/data/classifier.h5dump' '%s' >&2", LM_TEST_SOURCE_DIR, out);
    cr_assert_eq(rc, 0, "h5dump of the classifier differs from tests/io/data/classifier.h5dump");
    free(out), free(p);
}

Test(io_classifier, io_file_knows_the_kind_and_validate_summarises) {
    char *p = saved_clf("clf.h5");
    io_file_kind k;
    lm_err e;
    cr_assert_eq(io_file_detect(p, &k, &e), 0, "%s", e.msg);
    cr_assert_eq(k, IO_FILE_CLASSIFIER);
    cr_assert_str_eq(io_file_kind_name(k), "classifier");
    io_classifier_summary s;
    cr_assert_eq(io_classifier_validate(p, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.format_version, 2);
    cr_assert_eq(s.G, NG);
    cr_assert_eq(s.V, CV);
    cr_assert_eq(s.first_word, 2);
    cr_assert_eq(s.songs, 8.0);
    cr_assert_eq(s.vocab_hash, VHASH);
    cr_assert_eq(s.corpus_hash, CHASH);
    io_classifier c;
    make_clf(&c);
    cr_assert_eq(s.checksum, io_classifier_checksum(&c));
    io_classifier_free(&c);
    free(p);
}

Test(io_classifier, another_vocabulary_or_corpus) {
    char *p = saved_clf("clf.h5");
    io_classifier_expect w = want;
    w.vocab_hash ^= 1;
    assert_refused(p, &w, "classifier was trained with another vocabulary (hash 0000000000000042, V=6)");
    w = want;
    w.vocab_size = CV + 1;
    assert_refused(p, &w, "another vocabulary");
    w = want;
    w.corpus_hash = 8;
    assert_refused(p, &w, "classifier was trained on other data (corpus hash 0000000000000007, this corpus "
                          "0000000000000008)");
    free(p);
}

Test(io_classifier, version_1_is_refused) {
    char *p = saved_clf("clf.h5");
    uint64_t one = 1;
    iot_set_attr(p, "format_version", H5T_NATIVE_UINT64, &one);
    assert_refused(p, NULL, "classifier format version 1, expected 2");
    free(p);
}

Test(io_classifier, bad_settings_are_refused) {
    char *p = saved_clf("clf.h5");
    double zero = 0;
    iot_set_attr(p, "alpha", H5T_NATIVE_DOUBLE, &zero);
    assert_refused(p, &want, "classifier shape or settings invalid");
    free(p);
    p = saved_clf("fw.h5");
    int64_t fw = CV;
    iot_set_attr(p, "first_word", H5T_NATIVE_INT64, &fw);
    assert_refused(p, NULL, "classifier shape or settings invalid");
    free(p);
    p = saved_clf("v.h5");
    uint64_t v = CV + 1;
    iot_set_attr(p, "vocab_size", H5T_NATIVE_UINT64, &v);
    assert_refused(p, NULL, "classifier shape or settings invalid");
    free(p);
}

Test(io_classifier, missing_attribute_is_refused) {
    char *p = saved_clf("clf.h5");
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(H5Adelete(f, "checksum"), 0);
    H5Fclose(f);
    assert_refused(p, &want, "checksum");
    free(p);
}

Test(io_classifier, flipped_count_fails_the_checksum) {
    char *p = saved_clf("clf.h5");
    long at = iot_dataset_offset(p, "word_counts");
    cr_assert_geq(at, 0);
    iot_corrupt(p, at + 9, 1);
    assert_refused(p, &want, "classifier checksum mismatch (corrupt file)");
    free(p);
}

Test(io_classifier, negative_count_with_a_good_checksum_is_refused) {
    io_classifier c;
    make_clf(&c);
    c.word_counts[3] = -1;
    char *p = iot_path(iot_dir, "neg.h5");
    lm_err e;
    cr_assert_eq(io_classifier_save(&c, p, &e), 0, "%s", e.msg);
    assert_refused(p, &want, "classifier count 3 invalid");
    c.word_counts[3] = NAN;
    cr_assert_eq(io_classifier_save(&c, p, &e), 0, "%s", e.msg);
    assert_refused(p, &want, "classifier count 3 invalid");
    io_classifier_free(&c);
    free(p);
}

Test(io_classifier, foreign_truncated_and_missing_files) {
    io_vocab v;
    char *vp = iot_vocab_file("vocab.h5", &v);
    assert_refused(vp, &want, "is a LyricMind vocab file, expected a classifier");
    io_vocab_free(&v);
    free(vp);
    char *p = saved_clf("clf.h5");
    iot_truncate(p, iot_file_size(p) / 2);
    assert_refused(p, &want, "truncated");
    free(p);
    p = iot_path(iot_dir, "absent.h5");
    assert_refused(p, &want, "No such file");
    free(p);
    p = iot_path(iot_dir, "noise.h5");
    iot_random_file(p, 4096);
    assert_refused(p, &want, "not an HDF5 file");
    free(p);
}

Test(io_classifier, alloc_refuses_empty_shapes) {
    io_classifier c;
    lm_err e;
    cr_assert_eq(io_classifier_alloc(&c, 0, CV, 2, VHASH, &e), -1);
    cr_assert_str_eq(e.msg, "classifier: need at least one genre and one word (G=0, V=6)");
    cr_assert_eq(io_classifier_alloc(&c, NG, CV, CV, VHASH, &e), -1);
    cr_assert_null(c.word_counts);
}

/* The corpus hash is the one eval has always stored (a value fixed by the
 * fixture shard, computed here by hand from its index). */
Test(io_classifier, corpus_hash_covers_counts_offsets_and_genres) {
    char *p = iot_path(iot_dir, "train-00000.h5");
    cr_assert_eq(iot_write_shard(p, 4, 16, 1, 0, NULL), 0);
    io_corpus_split sp = {0};
    io_shard sh;
    lm_err e;
    cr_assert_eq(io_shard_open(&sh, p, &e), 0, "%s", e.msg);
    uint64_t base[2] = {0, 1};
    sp.n_shards = 1, sp.shards = &sh, sp.song_base = base, sp.n_songs = 4;
    uint64_t head[2] = {sh.n_tokens, sh.n_songs};
    uint64_t h = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, head, sizeof head);
    h = lm_sys_fnv1a64(h, sh.song_offsets, 5 * sizeof(uint64_t));
    h = lm_sys_fnv1a64(h, sh.song_genre, 4);
    cr_assert_eq(io_classifier_corpus_hash(&sp), h);
    sh.song_genre[2] ^= 1;
    cr_assert_neq(io_classifier_corpus_hash(&sp), h, "genres not covered");
    sh.song_genre[2] ^= 1;
    io_shard_close(&sh);
    free(p);
}
