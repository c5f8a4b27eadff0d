/* Reads the real shared corpora (LM_SHARED_DATA/lyrics, never copied into
 * the repository) and checks plausible record counts, labels and that every
 * song cleans without an invalid-UTF-8 skip. Counts only, no lyric text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pp_clean.h"
#include "pp_read.h"

typedef struct tally {
    size_t songs, with_genre, skipped, bad_utf8, words;
    const char *want_genre;
    pp_words w;
} tally;

static int count(const pp_record *r, void *ctx) {
    tally *t = ctx;
    t->songs++;
    if (r->genre && *r->genre) t->with_genre++;
    if (t->want_genre) cr_assert_str_eq(r->genre, t->want_genre);
    if (r->skip) t->skipped++;
    size_t bad;
    int rc = pp_clean_song(r->text, r->text_len, &t->w, &bad);
    cr_assert_neq(rc, PP_CLEAN_NOMEM);
    if (rc == PP_CLEAN_BAD_UTF8) t->bad_utf8++;
    t->words += t->w.n_words;
    return 0;
}

static tally read_one(const char *rel, const char *want_genre) {
    char path[1024];
    snprintf(path, sizeof path, "%s/lyrics/%s", LM_SHARED_DATA, rel);
    tally t = {.want_genre = want_genre};
    lm_err e;
    cr_assert_eq(pp_read_file(path, NULL, count, &t, &e), 0, "%s", e.msg);
    pp_words_free(&t.w);
    return t;
}

Test(corpus, genius_csv_files) {
    static const char *files[] = {
        "a-resample1-test.csv", "a-resample1-validation.csv", "a-test-v0.csv",
        "a-test-v1-indexed.csv", "a-test.csv", "a-validation.csv", "b-test.csv", "b-validation.csv",
    };
    size_t words = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "genius-8genre/%s", files[i]);
        tally t = read_one(rel, NULL);
        cr_assert_gt(t.songs, 1000, "%s: %zu songs", files[i], t.songs);
        cr_assert_lt(t.songs, 5000, "%s: %zu songs", files[i], t.songs);
        cr_assert_eq(t.with_genre, t.songs, "%s: every song has a genre", files[i]);
        cr_assert_eq(t.skipped, 0);
        cr_assert_eq(t.bad_utf8, 0, "%s", files[i]);
        cr_assert_gt(t.words, 100 * t.songs, "%s: %zu words", files[i], t.words);
        words += t.words;
    }
    cr_assert_gt(words, 3000000);
}

Test(corpus, nltk_text_files) {
    static const char *genres[] = {"country", "pop", "rap", "rock"};
    for (size_t i = 0; i < 4; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "nltk-4genre/%s.txt", genres[i]);
        tally t = read_one(rel, genres[i]);
        cr_assert_gt(t.songs, 500, "%s: %zu songs", genres[i], t.songs);
        cr_assert_lt(t.songs, 2000, "%s: %zu songs", genres[i], t.songs);
        cr_assert_eq(t.bad_utf8, 0);
        cr_assert_gt(t.words, 50 * t.songs);
    }
}
