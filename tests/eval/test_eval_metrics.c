/* test_eval_metrics: every text metric of `eval` on tiny hand-made inputs
 * whose answers are worked out by hand in the comments: BLEU-4 (identical,
 * disjoint, partial, smoothed, clipped, corpus sums), self-BLEU, distinct-n,
 * lines, rhyme keys and pairs with the real CMU dictionary, and the naive
 * Bayes genre classifier (separable toy corpus, shuffled labels, file). */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval_bleu.h"
#include "eval_genre.h"
#include "eval_rhyme.h"
#include "eval_text.h"
#include "io_vocab.h"
#include "lm_rng.h"

#define DOC(...) ((eval_doc){(const int32_t[]){__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}) / sizeof(int32_t)})

static double bleu1(eval_doc h, eval_doc r) {
    eval_bleu b;
    memset(&b, 0, sizeof b);
    cr_assert_eq(eval_bleu_add(&b, &h, &r, 1), 0);
    return eval_bleu_score(&b, NULL, NULL);
}

Test(bleu, identical_is_one) {
    cr_assert_float_eq(bleu1(DOC(7, 8, 9, 10, 11, 12), DOC(7, 8, 9, 10, 11, 12)), 1.0, 1e-12);
}

Test(bleu, disjoint_is_zero) {
    cr_assert_eq(bleu1(DOC(1, 2, 3, 4, 5), DOC(6, 7, 8, 9, 10)), 0.0);
}

Test(bleu, empty_hypothesis_is_zero) {
    eval_doc empty = {NULL, 0};
    cr_assert_eq(bleu1(empty, DOC(1, 2, 3, 4)), 0.0);
}

Test(bleu, partial_by_hand) {
    /* hyp 1 2 3 4 5 6, ref 1 2 3 4 7 8 9:
     * p1 = 4/6, p2 = 3/5, p3 = 2/4, p4 = 1/3; c = 6 < r = 7: BP = exp(1 - 7/6)
     * BLEU = exp(-1/6) * (4/6 * 3/5 * 2/4 * 1/3)^(1/4) = 0.430125... */
    eval_bleu b;
    memset(&b, 0, sizeof b);
    eval_doc h = DOC(1, 2, 3, 4, 5, 6), r = DOC(1, 2, 3, 4, 7, 8, 9);
    cr_assert_eq(eval_bleu_add(&b, &h, &r, 1), 0);
    double p[4], bp;
    double s = eval_bleu_score(&b, p, &bp);
    cr_assert_float_eq(p[0], 4.0 / 6, 1e-12);
    cr_assert_float_eq(p[1], 3.0 / 5, 1e-12);
    cr_assert_float_eq(p[2], 2.0 / 4, 1e-12);
    cr_assert_float_eq(p[3], 1.0 / 3, 1e-12);
    cr_assert_float_eq(bp, exp(-1.0 / 6), 1e-12);
    cr_assert_float_eq(s, exp(-1.0 / 6) * pow(4.0 / 6 * 3.0 / 5 * 2.0 / 4 * 1.0 / 3, 0.25), 1e-12);
    cr_assert_float_eq(s, 0.430125, 1e-6);
}

Test(bleu, smoothing_method1) {
    /* hyp 1 2 3 9, ref 1 2 7 8: p1 = 2/4, p2 = 1/3, no 3- or 4-gram matches:
     * p3 = 0.1/2, p4 = 0.1/1 (epsilon 0.1); BP = 1 (c = r = 4)
     * BLEU = (1/2 * 1/3 * 0.05 * 0.1)^(1/4) = 0.169904... */
    cr_assert_float_eq(bleu1(DOC(1, 2, 3, 9), DOC(1, 2, 7, 8)), pow(0.5 / 3 * 0.05 * 0.1, 0.25), 1e-12);
    cr_assert_float_eq(bleu1(DOC(1, 2, 3, 9), DOC(1, 2, 7, 8)), 0.169904, 1e-6);
}

Test(bleu, clipping_counts_each_reference_ngram_once) {
    /* hyp 5 5 5 5 vs ref 5 1 2 3: only one 5 may match -> p1 = 1/4 */
    eval_bleu b;
    memset(&b, 0, sizeof b);
    eval_doc h = DOC(5, 5, 5, 5), r = DOC(5, 1, 2, 3);
    eval_bleu_add(&b, &h, &r, 1);
    cr_assert_eq(b.match[0], 1.0);
    cr_assert_eq(b.total[0], 4.0);
}

Test(bleu, corpus_level_sums_counts) {
    /* identical (4 words) + disjoint (4 words): p_n = (4-n+1)/(2*(4-n+1)) = 1/2
     * for every n, BP = 1 -> BLEU = 1/2 (an average of sentence scores would
     * give (1 + 0) / 2 only by accident; the counts are what is summed) */
    eval_bleu b;
    memset(&b, 0, sizeof b);
    eval_doc h1 = DOC(1, 2, 3, 4), h2 = DOC(5, 6, 7, 8), r2 = DOC(9, 10, 11, 12);
    eval_bleu_add(&b, &h1, &h1, 1);
    eval_bleu_add(&b, &h2, &r2, 1);
    cr_assert_float_eq(eval_bleu_score(&b, NULL, NULL), 0.5, 1e-12);
    /* brevity: hyp 1 2 vs ref 1 2 3 4: p1 = 1, p2 = 1, p3 = 0.1/1, p4 = 0.1/1
     * (short hypotheses count max(1, 0) n-grams), BP = exp(1 - 4/2) */
    cr_assert_float_eq(bleu1(DOC(1, 2), DOC(1, 2, 3, 4)), exp(-1.0) * pow(0.1 * 0.1, 0.25), 1e-12);
}

Test(bleu, closest_reference_length) {
    /* refs of length 3 and 5 for a hypothesis of 4: both 1 away, the shorter
     * (3) is taken, so c > r and BP = 1 */
    eval_bleu b;
    memset(&b, 0, sizeof b);
    eval_doc h = DOC(1, 2, 3, 4), refs[2] = {DOC(1, 2, 3), DOC(1, 2, 3, 4, 5)};
    eval_bleu_add(&b, &h, refs, 2);
    cr_assert_eq(b.ref_len, 3.0);
    cr_assert_eq(b.match[3], 1.0); /* 1 2 3 4 found in the second reference */
}

Test(bleu, self_bleu) {
    eval_doc same[3] = {DOC(1, 2, 3, 4, 5), DOC(1, 2, 3, 4, 5), DOC(1, 2, 3, 4, 5)};
    cr_assert_float_eq(eval_self_bleu(same, 3), 1.0, 1e-12);
    eval_doc apart[3] = {DOC(1, 2, 3, 4), DOC(5, 6, 7, 8), DOC(9, 10, 11, 12)};
    cr_assert_eq(eval_self_bleu(apart, 3), 0.0);
    /* two songs: the mean of each one's BLEU against the other */
    eval_doc mix[2] = {DOC(1, 2, 3, 4, 5, 6), DOC(1, 2, 3, 4, 7, 8, 9)};
    double a = bleu1(mix[0], mix[1]), b = bleu1(mix[1], mix[0]);
    cr_assert_float_eq(eval_self_bleu(mix, 2), (a + b) / 2, 1e-12);
    cr_assert_eq(eval_self_bleu(mix, 1), 0.0);
}

/* ---- words, lines, distinct-n ---------------------------------------------- */

enum { FW = IO_TOK_FIRST_GENRE + 2 }; /* two genres: words start at 8 */

Test(text, lines_and_words) {
    /* <bos> <genre> a b <nl> c <sep> <sep> d e f <nl> <nl> <eos> */
    int32_t ids[] = {IO_TOK_BOS, 6, 10, 11, IO_TOK_NL, 12, IO_TOK_SEP, IO_TOK_SEP, 13, 14, IO_TOK_UNK,
                     IO_TOK_NL, IO_TOK_NL, IO_TOK_EOS};
    size_t n = sizeof ids / sizeof *ids;
    int32_t w[16];
    cr_assert_eq(eval_words(ids, n, FW, w), 6); /* <unk> is a word */
    eval_line ln[16];
    cr_assert_eq(eval_lines(ids, n, FW, ln), 3);
    cr_assert_eq(ln[0].words, 2);
    cr_assert_eq(ln[1].words, 1);
    cr_assert_eq(ln[2].words, 3);
    cr_assert(ln[0].new_stanza && !ln[1].new_stanza && ln[2].new_stanza);
    cr_assert_eq(ids[ln[2].last], IO_TOK_UNK);
}

Test(text, distinct_and_line_length_by_hand) {
    /* song 1: "a b <nl> a b" (words a b a b), song 2: "a c"
     * unigrams: 6 total, {a,b,c} unique -> distinct-1 = 3/6
     * bigrams (within songs): ab ba ab | ac -> 4 total, 3 unique -> 3/4
     * lines: 3, words 6 -> mean line length 2; mean song length 3 */
    int32_t s1[] = {IO_TOK_BOS, 6, 20, 21, IO_TOK_NL, 20, 21, IO_TOK_EOS}, s2[] = {20, 22};
    eval_doc d[2] = {{s1, 8}, {s2, 2}};
    eval_surface s;
    cr_assert_eq(eval_surface_of(d, 2, FW, &s), 0);
    cr_assert_eq(s.ngrams[0], 6);
    cr_assert_eq(s.unique[0], 3);
    cr_assert_float_eq(s.distinct[0], 0.5, 1e-12);
    cr_assert_eq(s.ngrams[1], 4);
    cr_assert_float_eq(s.distinct[1], 0.75, 1e-12);
    cr_assert_eq(s.lines, 3);
    cr_assert_float_eq(s.mean_line_words, 2.0, 1e-12);
    cr_assert_float_eq(s.mean_song_words, 3.0, 1e-12);
}

Test(text, ngram_keys_are_exact) {
    int32_t w[] = {65535, 1, 1, 65535};
    uint64_t k[4];
    cr_assert_eq(eval_ngrams(w, 4, 2, k), 3);
    cr_assert_neq(k[0], k[2]); /* (65535,1) vs (1,65535) */
    cr_assert_eq(eval_ngrams(w, 4, 4, k), 1);
    cr_assert_eq(eval_ngrams(w, 2, 3, k), 0);
}

/* ---- rhyme ------------------------------------------------------------------- */

static void part_is(const char *phones, const char *want) {
    char out[128];
    eval_rhyme_part(phones, out, sizeof out);
    cr_assert_str_eq(out, want, "%s -> %s, want %s", phones, out, want);
}

Test(rhyme, part_from_last_stressed_vowel) {
    part_is("N AY T", "AY T");
    part_is("L AH V", "AH V");
    part_is("AH B AH V", "AH V");          /* final AH before V: stressed */
    part_is("W AO T ER", "AO T ER");       /* final ER: weak */
    part_is("B EY B IY", "EY B IY");       /* final IY: weak */
    part_is("T EY B AH L", "EY B AH L");   /* AH L: weak */
    part_is("S IH NG IH NG", "IH NG IH NG");
    part_is("AH W EY", "EY");
    part_is("HH ER", "ER");                /* one vowel: itself */
    part_is("HH M", "HH M");               /* no vowel: everything */
    part_is("N AY1 T", "AY T");            /* stress digits, if a dictionary has them */
}

Test(rhyme, spelling_fallback) {
    char out[64];
    eval_rhyme_spelling("light", out, sizeof out);
    cr_assert_str_eq(out, "ight");
    eval_rhyme_spelling("nite", out, sizeof out);
    cr_assert_str_eq(out, "it");
    eval_rhyme_spelling("cry", out, sizeof out);
    cr_assert_str_eq(out, "y");
    eval_rhyme_spelling("brrr", out, sizeof out);
    cr_assert_str_eq(out, "brrr");
}

static const char *WORDS[] = {"<pad>", "<unk>", "<bos>", "<eos>", "<nl>", "<sep>", "<genre:Pop>", "<genre:Rock>",
                              "night", "light", "love", "above", "today", "away", "baby", "maybe", "happy",
                              "sorry", "table", "little", "water", "daughter", "fire", "desire", "glorbight",
                              "zzlight", "the"};
enum { N_WORDS = sizeof WORDS / sizeof *WORDS };

static int32_t wid(const char *w) {
    for (int i = 0; i < N_WORDS; i++)
        if (!strcmp(WORDS[i], w)) return i;
    cr_assert_fail("no word %s", w);
    return -1;
}

static eval_rhymer *open_rhymer(void) {
    lm_err e;
    eval_rhymer *r = eval_rhymer_open(EVAL_RHYME_DICT, (char *const *)WORDS, N_WORDS, &e);
    cr_assert_not_null(r, "%s (is pocketsphinx-en-us installed?)", e.msg);
    return r;
}

Test(rhyme, known_pairs_with_the_cmu_dictionary) {
    eval_rhymer *r = open_rhymer();
    const char *yes[][2] = {{"night", "light"}, {"love", "above"}, {"today", "away"}, {"baby", "maybe"},
                            {"water", "daughter"}, {"fire", "desire"}, {"night", "night"}};
    const char *no[][2] = {{"night", "love"}, {"happy", "sorry"}, {"table", "little"}, {"love", "light"},
                           {"today", "baby"}, {"water", "fire"}};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        int sp = -1;
        cr_assert_eq(eval_rhymer_rhymes(r, wid(yes[i][0]), wid(yes[i][1]), &sp), 1, "%s/%s", yes[i][0], yes[i][1]);
        cr_assert_eq(sp, 0);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert_eq(eval_rhymer_rhymes(r, wid(no[i][0]), wid(no[i][1]), NULL), 0, "%s/%s", no[i][0], no[i][1]);
    /* not in the dictionary: compared by spelling ("ight" both) */
    int sp = 0;
    cr_assert_eq(eval_rhymer_rhymes(r, wid("glorbight"), wid("light"), &sp), 1);
    cr_assert_eq(sp, 1);
    cr_assert_eq(eval_rhymer_rhymes(r, wid("glorbight"), wid("love"), &sp), 0);
    cr_assert_eq(eval_rhymer_known(r), N_WORDS - 8 - 2); /* all but specials and the two made-up words */
    eval_rhymer_free(r);
}

Test(rhyme, song_pairs_within_stanzas) {
    eval_rhymer *r = open_rhymer();
    int32_t the = wid("the");
    /* the night <nl> the light <sep> the love <nl> the above <nl> the table
     * <nl> the table <nl> the <unk>: pairs night/light (rhyme), love/above
     * (rhyme), above/table (no), table/table (rhyme, identical),
     * table/<unk> (not judged); light/love spans a <sep>: not a pair */
    int32_t ids[] = {IO_TOK_BOS, 6, the, wid("night"), IO_TOK_NL, the, wid("light"), IO_TOK_SEP,
                     the, wid("love"), IO_TOK_NL, the, wid("above"), IO_TOK_NL, the, wid("table"),
                     IO_TOK_NL, the, wid("table"), IO_TOK_NL, the, IO_TOK_UNK, IO_TOK_EOS};
    eval_rhyme_stats st = {0};
    cr_assert_eq(eval_rhyme_song(r, ids, sizeof ids / sizeof *ids, FW, &st), 0);
    cr_assert_eq(st.pairs, 4);
    cr_assert_eq(st.rhymes, 3);
    cr_assert_eq(st.identical, 1);
    cr_assert_eq(st.unjudged, 1);
    cr_assert_eq(st.spelled, 0);
    eval_rhymer_free(r);
}

Test(rhyme, missing_dictionary_is_one_line_error) {
    lm_err e = {{0}};
    cr_assert_null(eval_rhymer_open("/nonexistent/cmudict.dict", (char *const *)WORDS, N_WORDS, &e));
    cr_assert(strstr(e.msg, "/nonexistent/cmudict.dict") && !strchr(e.msg, '\n'), "%s", e.msg);
}

/* ---- genre classifier ------------------------------------------------------------ */

enum { CV = 100, CFW = 8 };

/* A song of 20 words drawn from genre g's own words (g*40+10 .. g*40+39),
 * so the two genres share no word. */
static void toy_song(lm_rng *r, int g, int32_t *ids) {
    for (int i = 0; i < 20; i++) ids[i] = CFW + 2 + g * 40 + (int32_t)lm_rng_below(r, 30);
}

/* Trains on 200 toy songs and tests on 400 more. shuffle = 0: labels are
 * the songs' genres. shuffle = 1: every label (training and test) is a coin
 * flip independent of the song, so no classifier can beat chance (1/2). */
static double toy_accuracy(int shuffle, eval_nb *out) {
    lm_err e;
    eval_nb nb;
    cr_assert_eq(eval_nb_init(&nb, 2, CV, CFW, 42, &e), 0, "%s", e.msg);
    lm_rng r, lab;
    lm_rng_seed(&r, 7);
    lm_rng_seed(&lab, 99);
    int32_t ids[20];
    for (int s = 0; s < 200; s++) {
        int g = s % 2;
        toy_song(&r, g, ids);
        eval_nb_add(&nb, shuffle ? (int)lm_rng_below(&lab, 2) : g, ids, 20);
    }
    eval_nb_finish(&nb);
    int right = 0;
    for (int s = 0; s < 400; s++) {
        int g = (int)lm_rng_below(&r, 2);
        toy_song(&r, g, ids);
        int label = shuffle ? (int)lm_rng_below(&lab, 2) : g;
        right += eval_nb_predict(&nb, ids, 20) == label;
    }
    if (out) *out = nb;
    else eval_nb_free(&nb);
    return right / 400.0;
}

Test(genre, separable_toy_corpus_is_learned) {
    cr_assert_eq(toy_accuracy(0, NULL), 1.0);
}

Test(genre, shuffled_labels_give_chance) {
    double a = toy_accuracy(1, NULL);
    cr_assert(a > 0.35 && a < 0.65, "accuracy %.3f with random labels", a);
}

Test(genre, specials_and_unk_are_not_features) {
    lm_err e;
    eval_nb nb;
    cr_assert_eq(eval_nb_init(&nb, 2, CV, CFW, 1, &e), 0);
    int32_t a[] = {IO_TOK_UNK, IO_TOK_NL, 6, 50}, b[] = {IO_TOK_UNK, IO_TOK_NL, 7, 60};
    eval_nb_add(&nb, 0, a, 4);
    eval_nb_add(&nb, 1, b, 4);
    cr_assert_eq(nb.f.word_counts[IO_TOK_UNK], 0.0);
    cr_assert_eq(nb.f.word_counts[50], 1.0);
    eval_nb_free(&nb);
}

static char *tmp_file(const char *name) {
    static char dir[256];
    snprintf(dir, sizeof dir, "/tmp/lm-eval-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char *p = malloc(512);
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

Test(genre, file_round_trip_and_damage) {
    eval_nb nb, back;
    toy_accuracy(0, &nb);
    char *path = tmp_file("genre-classifier.h5");
    lm_err e = {{0}};
    nb.f.corpus_hash = 7;
    cr_assert_eq(eval_nb_save(&nb, path, &e), 0, "%s", e.msg);
    cr_assert_eq(eval_nb_load(&back, path, 42, CV, 7, &e), 0, "%s", e.msg);
    cr_assert_eq(back.f.corpus_hash, 7);
    cr_assert_eq(memcmp(back.log_lik, nb.log_lik, sizeof(double) * 2 * CV), 0);
    cr_assert_eq(memcmp(back.log_prior, nb.log_prior, sizeof(double) * 2), 0);
    eval_nb_free(&back);
    /* another vocabulary */
    cr_assert_eq(eval_nb_load(&back, path, 43, CV, 7, &e), -1);
    cr_assert(strstr(e.msg, "another vocabulary"), "%s", e.msg);
    /* same vocabulary, other training data: stale or foreign */
    cr_assert_eq(eval_nb_load(&back, path, 42, CV, 8, &e), -1);
    cr_assert(strstr(e.msg, "trained on other data") && strstr(e.msg, path), "%s", e.msg);
    /* flipped bytes inside /word_counts: only the checksum can notice */
    hid_t h5 = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(h5, "word_counts", H5P_DEFAULT);
    haddr_t at = H5Dget_offset(ds);
    H5Dclose(ds);
    H5Fclose(h5);
    cr_assert_neq(at, HADDR_UNDEF);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    unsigned char buf[8];
    fseek(f, (long)at + 8 * 60, SEEK_SET); /* genre 0, word 60 */
    cr_assert_eq(fread(buf, 1, 8, f), 8);
    buf[7] ^= 0x01;
    fseek(f, (long)at + 8 * 60, SEEK_SET);
    fwrite(buf, 1, 8, f);
    fclose(f);
    cr_assert_eq(eval_nb_load(&back, path, 42, CV, 7, &e), -1);
    cr_assert(strstr(e.msg, "checksum") && !strchr(e.msg, '\n'), "%s", e.msg);
    /* not an HDF5 file */
    f = fopen(path, "wb");
    fputs("not a classifier", f);
    fclose(f);
    cr_assert_eq(eval_nb_load(&back, path, 42, CV, 7, &e), -1);
    cr_assert(strstr(e.msg, path), "%s", e.msg);
    eval_nb_free(&nb);
    cr_assert_eq(unlink(path), 0);
    *strrchr(path, '/') = '\0';
    cr_assert_eq(rmdir(path), 0, "%s", path); /* tmp_file's directory */
    free(path);
}
