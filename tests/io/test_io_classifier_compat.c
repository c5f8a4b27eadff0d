/* test_io_classifier_compat: io_classifier (io/) against the writer, reader
 * and corpus hash that jobs/eval/eval_genre.c has had since the format began
 * (eval_nb_save, eval_nb_load, eval_nb_corpus_hash): the same classifier
 * gives byte-identical files, both readers give the same one-line message
 * for each damaged or foreign file, and both corpus hashes agree. Also
 * checks that the reference dump data/classifier.h5dump (which
 * test_io_classifier holds the io/ writer to) is that of eval_nb_save's
 * file. Once eval_genre.c calls io_classifier itself this test compares the
 * code with itself and can go; the reference dump stays. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "eval_genre.h"
#include "io_classifier.h"
#include "io_test_cr.h"

#define NG 2
#define CV 6
#define VHASH 0x42ULL
#define CHASH 0x7ULL

TestSuite(compat, .init = iot_setup, .fini = iot_teardown);

/* The fixture of test_io_classifier, built both ways. */
static void make_both(eval_nb *old, io_classifier *c, double bad) {
    lm_err e;
    cr_assert_eq(eval_nb_init(old, NG, CV, 2, VHASH, &e), 0, "%s", e.msg);
    cr_assert_eq(io_classifier_alloc(c, NG, CV, 2, VHASH, &e), 0, "%s", e.msg);
    for (size_t i = 0; i < (size_t)NG * CV; i++) old->word_counts[i] = c->word_counts[i] = (double)(i * i) / 2;
    old->word_counts[3] = c->word_counts[3] = bad == 0 ? 4.5 : bad;
    old->song_counts[0] = c->song_counts[0] = 3;
    old->song_counts[1] = c->song_counts[1] = 5;
    old->corpus_hash = c->corpus_hash = CHASH;
}

/* Saves the fixture with both writers: iot_dir/old.h5 and new.h5. */
static void save_both(double bad, char **po, char **pn) {
    eval_nb old;
    io_classifier c;
    make_both(&old, &c, bad);
    *po = iot_path(iot_dir, "old.h5"), *pn = iot_path(iot_dir, "new.h5");
    lm_err e;
    cr_assert_eq(eval_nb_save(&old, *po, &e), 0, "%s", e.msg);
    cr_assert_eq(io_classifier_save(&c, *pn, &e), 0, "%s", e.msg);
    eval_nb_free(&old);
    io_classifier_free(&c);
}

Test(compat, byte_identical_files_and_the_reference_dump) {
    char *po, *pn;
    save_both(0, &po, &pn);
    cr_assert_eq(iot_system("cmp '%s' '%s' >&2", po, pn), 0, "io_classifier_save's bytes differ");
    char *out = iot_path(iot_dir, "old.h5dump");
    cr_assert_eq(iot_system("cd '%s' && cp old.h5 clf.h5 && h5dump -H -p clf.h5 > '%s'", iot_dir, out), 0);
    cr_assert_eq(iot_system("diff -u '%s/tests/io/data/classifier.h5dump' '%s' >&2", LM_TEST_SOURCE_DIR, out),
                 0, "the reference dump is not that of eval_nb_save's file");
    free(out), free(po), free(pn);
}

/* Both readers on the same (damaged) file: the same result and message. */
static void same_verdict(const char *p, uint64_t vhash, uint32_t V, uint64_t chash) {
    eval_nb old;
    io_classifier c;
    io_classifier_expect w = {vhash, V, chash};
    lm_err eo = {{0}}, en = {{0}};
    int ro = eval_nb_load(&old, p, vhash, V, chash, &eo);
    int rn = io_classifier_load(&c, p, &w, &en);
    cr_assert_eq(rn, ro, "old %d (%s), new %d (%s)", ro, eo.msg, rn, en.msg);
    cr_assert_str_eq(en.msg, eo.msg);
    if (ro == 0) {
        cr_assert_eq(memcmp(old.word_counts, c.word_counts, sizeof(double) * NG * CV), 0);
        eval_nb_free(&old);
        io_classifier_free(&c);
    }
}

Test(compat, same_messages_for_good_stale_and_damaged_files) {
    char *po, *pn;
    save_both(0, &po, &pn);
    same_verdict(pn, VHASH, CV, CHASH);
    same_verdict(pn, VHASH ^ 1, CV, CHASH);
    same_verdict(pn, VHASH, CV + 1, CHASH);
    same_verdict(pn, VHASH, CV, CHASH + 1);
    uint64_t one = 1;
    double zero = 0;
    int64_t fw = CV;
    cr_assert_eq(iot_system("cp '%s' '%s/v1.h5' && cp '%s' '%s/a0.h5' && cp '%s' '%s/fw.h5' && cp '%s' '%s/flip.h5'",
                            pn, iot_dir, pn, iot_dir, pn, iot_dir, pn, iot_dir), 0);
    char *v1 = iot_path(iot_dir, "v1.h5"), *a0 = iot_path(iot_dir, "a0.h5");
    char *fwp = iot_path(iot_dir, "fw.h5"), *flip = iot_path(iot_dir, "flip.h5");
    iot_set_attr(v1, "format_version", H5T_NATIVE_UINT64, &one);
    iot_set_attr(a0, "alpha", H5T_NATIVE_DOUBLE, &zero);
    iot_set_attr(fwp, "first_word", H5T_NATIVE_INT64, &fw);
    iot_corrupt(flip, iot_dataset_offset(flip, "word_counts") + 9, 1);
    const char *bad[] = {v1, a0, fwp, flip};
    for (int i = 0; i < 4; i++) same_verdict(bad[i], VHASH, CV, CHASH);
    iot_truncate(pn, iot_file_size(pn) / 2);
    same_verdict(pn, VHASH, CV, CHASH);
    free(v1), free(a0), free(fwp), free(flip), free(po), free(pn);
}

Test(compat, same_message_for_an_invalid_count) {
    char *po, *pn;
    save_both(-1, &po, &pn);
    same_verdict(pn, VHASH, CV, CHASH);
    free(po), free(pn);
}

Test(compat, same_corpus_hash) {
    char *p = iot_path(iot_dir, "train-00000.h5"), *q = iot_path(iot_dir, "train-00001.h5");
    cr_assert_eq(iot_write_shard(p, 4, 16, 1, 0, NULL), 0);
    cr_assert_eq(iot_write_shard(q, 9, 16, 1, 0, NULL), 0);
    io_shard sh[2];
    lm_err e;
    cr_assert_eq(io_shard_open(&sh[0], p, &e), 0, "%s", e.msg);
    cr_assert_eq(io_shard_open(&sh[1], q, &e), 0, "%s", e.msg);
    uint64_t base[3] = {0, 4, 13};
    train_split old = {2, sh, 13, sh[0].n_tokens + sh[1].n_tokens, base};
    io_corpus_split sp = {2, sh, 13, sh[0].n_tokens + sh[1].n_tokens, base};
    cr_assert_eq(io_classifier_corpus_hash(&sp), eval_nb_corpus_hash(&old));
    io_shard_close(&sh[0]), io_shard_close(&sh[1]);
    free(p), free(q);
}
