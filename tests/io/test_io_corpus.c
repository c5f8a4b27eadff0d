/* test_io_corpus: the corpus directory (io_corpus.h): shard listing and
 * order, global song numbering, and the one-line errors for a missing or
 * wrong directory, missing shards, foreign or truncated files and another
 * vocabulary. The directory messages are matched whole: they are the text
 * train and eval print, which tests/train/run_case.sh matches too. */
#include "io_corpus.h"

#include <stdio.h>

#include "io_test_cr.h"

#define V 16

TestSuite(io_corpus, .init = iot_setup, .fini = iot_teardown);

static char *corpus_dir(void) { return iot_path(iot_dir, "corpus"); }

/* iot_dir/corpus with vocab.h5 and shards train-00000 (5 songs), train-00001
 * (3 songs; written first, so name order is not creation order) and val-00000
 * (2 songs), plus names that are not shards. Returns the directory. */
static char *make_corpus(io_vocab *v) {
    char *dir = corpus_dir();
    cr_assert_eq(iot_system("mkdir -p '%s'", dir), 0);
    iot_make_vocab(v);
    char *vp = iot_path(dir, "vocab.h5");
    lm_err e;
    cr_assert_eq(io_vocab_write(vp, v, &e), 0, "%s", e.msg);
    free(vp);
    static const struct { const char *name; uint64_t songs; } shards[] = {
        {"train-00001.h5", 3}, {"train-00000.h5", 5}, {"val-00000.h5", 2}};
    for (int i = 0; i < 3; i++) {
        char *p = iot_path(dir, shards[i].name);
        cr_assert_eq(iot_write_shard(p, shards[i].songs, V, v->hash, 0, NULL), 0);
        free(p);
    }
    cr_assert_eq(iot_system("cd '%s' && touch train-.h5 train.h5 trainx-0.h5 val-0.txt train-0.h5.tmp",
                            dir), 0);
    return dir;
}

static void expect_msg(const lm_err *e, const char *want) {
    cr_assert_str_eq(e->msg, want);
}

Test(io_corpus, lists_shards_in_name_order_and_skips_other_names) {
    io_vocab v;
    char *dir = make_corpus(&v);
    char **p;
    int n;
    lm_err e;
    cr_assert_eq(io_corpus_list(dir, IO_CORPUS_TRAIN, &p, &n, &e), 0, "%s", e.msg);
    cr_assert_eq(n, 2);
    char want[2][4096];
    snprintf(want[0], sizeof want[0], "%s/train-00000.h5", dir);
    snprintf(want[1], sizeof want[1], "%s/train-00001.h5", dir);
    cr_assert_str_eq(p[0], want[0]);
    cr_assert_str_eq(p[1], want[1]);
    io_corpus_list_free(p, n);
    cr_assert_eq(io_corpus_list(dir, IO_CORPUS_VAL, &p, &n, &e), 0, "%s", e.msg);
    cr_assert_eq(n, 1);
    io_corpus_list_free(p, n);
    io_vocab_free(&v);
    free(dir);
}

Test(io_corpus, opens_both_splits_with_global_song_numbers) {
    io_vocab v;
    char *dir = make_corpus(&v);
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), 0, "%s", e.msg);
    cr_assert_str_eq(c.dir, dir);
    cr_assert_eq(c.vocab.hash, v.hash);
    cr_assert_eq(c.train.n_shards, 2);
    cr_assert_eq(c.val.n_shards, 1);
    cr_assert_eq(c.train.n_songs, 8);
    cr_assert_eq(c.val.n_songs, 2);
    cr_assert_eq(c.train.song_base[1], 5);
    cr_assert_eq(c.train.song_base[2], 8);
    cr_assert(strstr(c.train.shards[1].path, "train-00001.h5"));
    cr_assert_eq(c.train.n_tokens, c.train.shards[0].n_tokens + c.train.shards[1].n_tokens);
    /* song 5 is the first of the second shard, song 4 the last of the first */
    int sh;
    uint64_t start, len;
    io_corpus_song_locate(&c.train, 5, &sh, &start, &len);
    cr_assert_eq(sh, 1);
    cr_assert_eq(start, 0);
    cr_assert_eq(len, iot_song_len(0));
    io_corpus_song_locate(&c.train, 4, &sh, &start, &len);
    cr_assert_eq(sh, 0);
    cr_assert_eq(start, c.train.shards[0].song_offsets[4]);
    cr_assert_eq(len, iot_song_len(4));
    io_corpus_close(&c);
    io_corpus_close(&c); /* twice is safe */
    io_vocab_free(&v);
    free(dir);
}

Test(io_corpus, missing_directory) {
    char *dir = corpus_dir();
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    char want[8192];
    snprintf(want, sizeof want, "%s: No such file or directory (--data takes a corpus directory made by "
             "'lyricmind preprocess --out %s ...')", dir, dir);
    expect_msg(&e, want);
    io_corpus_close(&c);
    free(dir);
}

Test(io_corpus, a_file_is_not_a_directory) {
    char *dir = corpus_dir();
    cr_assert_eq(iot_system("echo lyrics > '%s'", dir), 0);
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    char want[8192];
    snprintf(want, sizeof want, "%s is not a directory (--data takes a corpus directory made by "
             "'lyricmind preprocess --out DIR ...')", dir);
    expect_msg(&e, want);
    free(dir);
}

Test(io_corpus, raw_lyrics_without_vocab) {
    char *dir = corpus_dir();
    cr_assert_eq(iot_system("mkdir '%s' && echo la > '%s/country.txt'", dir, dir), 0);
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    char want[8192];
    snprintf(want, sizeof want, "%s is not a corpus directory (no vocab.h5): run 'lyricmind preprocess "
             "--out CORPUS %s' first, then pass --data CORPUS", dir, dir);
    expect_msg(&e, want);
    free(dir);
}

Test(io_corpus, no_train_shards_and_no_val_shards) {
    io_vocab v;
    char *dir = make_corpus(&v);
    cr_assert_eq(iot_system("cd '%s' && mv val-00000.h5 keep.h5 && mkdir -p ../tr && mv train-0000*.h5 ../tr",
                            dir), 0);
    io_corpus c;
    lm_err e;
    char want[8192];
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    snprintf(want, sizeof want, "%s: no train-*.h5 shards (is this a 'lyricmind preprocess' output?)", dir);
    expect_msg(&e, want);
    cr_assert_eq(iot_system("cd '%s' && mv ../tr/* .", dir), 0);
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    snprintf(want, sizeof want, "%s: no val-*.h5 shards (is this a 'lyricmind preprocess' output?)", dir);
    expect_msg(&e, want);
    cr_assert_eq(c.train.n_shards, 0, "the train split was left open");
    io_vocab_free(&v);
    free(dir);
}

Test(io_corpus, split_of_a_directory_that_cannot_be_listed) {
    io_corpus_split sp;
    char *dir = corpus_dir();
    io_vocab v;
    iot_make_vocab(&v);
    lm_err e;
    cr_assert_eq(io_corpus_split_open(&sp, dir, IO_CORPUS_TRAIN, &v, "vocab.h5", &e), -1);
    char want[8192];
    snprintf(want, sizeof want, "%s: cannot open data directory", dir);
    expect_msg(&e, want);
    io_corpus_split_close(&sp);
    io_vocab_free(&v);
    free(dir);
}

/* Replaces shard `name` of a fresh corpus by what cmd (run in the corpus
 * directory) makes of it; io_corpus_open must fail naming that shard with
 * `what`. */
static void expect_bad_shard(const char *name, const char *cmd, const char *what) {
    io_vocab v;
    char *dir = make_corpus(&v);
    cr_assert_eq(iot_system("cd '%s' && %s", dir, cmd), 0);
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1, "bad %s accepted", name);
    char *p = iot_path(dir, name);
    iot_assert_one_line(&e, p, what);
    io_corpus_close(&c);
    io_vocab_free(&v);
    free(p);
    free(dir);
}

Test(io_corpus, foreign_hdf5_as_a_shard) {
    expect_bad_shard("val-00000.h5", "cp vocab.h5 val-00000.h5", "is a LyricMind vocab file, expected a shard");
}

Test(io_corpus, truncated_shard) {
    expect_bad_shard("train-00001.h5", "head -c 3000 train-00000.h5 > train-00001.h5",
                     "cannot open HDF5 file (truncated or corrupt)");
}

Test(io_corpus, not_hdf5_shard) {
    expect_bad_shard("train-00000.h5", "echo 'some lyrics' > train-00000.h5", "not an HDF5 file");
}

Test(io_corpus, shard_of_another_vocabulary) {
    io_vocab v;
    char *dir = make_corpus(&v);
    char *p = iot_path(dir, "train-00001.h5");
    cr_assert_eq(iot_write_shard(p, 3, V, v.hash ^ 1, 0, NULL), 0);
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    char want[8192];
    snprintf(want, sizeof want, "%s: built with another vocabulary (hash %016llx, size %u) than %s/vocab.h5 "
             "(hash %016llx, size %u)", p, (unsigned long long)(v.hash ^ 1), V, dir,
             (unsigned long long)v.hash, V);
    expect_msg(&e, want);
    cr_assert_eq(c.train.n_shards, 0, "shards left open");
    io_vocab_free(&v);
    free(p);
    free(dir);
}

Test(io_corpus, bad_vocab_file) {
    io_vocab v;
    char *dir = make_corpus(&v);
    cr_assert_eq(iot_system("cd '%s' && head -c 100 vocab.h5 > v && mv v vocab.h5", dir), 0);
    io_corpus c;
    lm_err e;
    cr_assert_eq(io_corpus_open(&c, dir, &e), -1);
    char *p = iot_path(dir, "vocab.h5");
    iot_assert_one_line(&e, p, "truncated");
    io_vocab_free(&v);
    free(p);
    free(dir);
}
