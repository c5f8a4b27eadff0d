/* test_pp_units: the preprocess building blocks that need no files: hashes
 * (bit-exact with the references), the word dictionary, vocabulary selection
 * (order, limits, independence from how words were spread over threads), the
 * dedup set (one claimant per hash, first commit wins, also under threads)
 * and genre aliases (the shared corpora's labels, user maps). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "pp_dedup.h"
#include "pp_genre.h"
#include "pp_hash.h"
#include "pp_test_util.h"
#include "pp_vocab.h"

/* ---- hashes ------------------------------------------------------------------- */

Test(pp_hash, xxh64_matches_reference_vectors) {
    /* values from the reference libxxhash 0.8.1, which pp_inputs.c calls */
    cr_assert_eq(XXH64("", 0, 0), 0xef46db3751d8e999ULL);
    cr_assert_eq(XXH64("a", 1, 0), 0xd24ec4f1a98c6e5bULL);
    cr_assert_eq(XXH64("abc", 3, 0), 0x44bc2cf5ad770999ULL);
    const char *q = "The quick brown fox jumps over the lazy dog";
    cr_assert_eq(XXH64(q, strlen(q), 0), 0x0b242d361fda71bcULL);
    cr_assert_eq(XXH64(q, strlen(q), 7), 0x73229526fb86a735ULL);
    const char *l = "0123456789abcdef0123456789abcdef0123456789";
    cr_assert_eq(XXH64(l, strlen(l), 0), 0xa76190c3acf08a1cULL);
}

Test(pp_hash, xxh64_streaming_equals_one_shot_for_any_split) {
    char buf[300];
    for (int i = 0; i < 300; i++) buf[i] = (char)(i * 7 + 3);
    for (size_t len = 0; len <= 300; len += 37) {
        uint64_t want = XXH64(buf, len, 42);
        for (size_t cut = 0; cut <= len; cut += 5) {
            XXH64_state_t *s = XXH64_createState();
            cr_assert_not_null(s);
            XXH64_reset(s, 42);
            XXH64_update(s, buf, cut);
            for (size_t i = cut; i < len; i++) XXH64_update(s, buf + i, 1);
            cr_assert_eq(XXH64_digest(s), want, "len %zu cut %zu", len, cut);
            XXH64_freeState(s);
        }
    }
}

Test(pp_hash, murmur3_x64_128_matches_reference) {
    const char *q = "The quick brown fox jumps over the lazy dog";
    pp_h128 h = pp_hash128(q, strlen(q), 0);
    cr_assert_eq(h.lo, 0xe34bbc7bbc071b6cULL);
    cr_assert_eq(h.hi, 0x7a433ca9c49a9347ULL);
    h = pp_hash128("", 0, 0);
    cr_assert_eq(h.lo, 0);
    cr_assert_eq(h.hi, 0);
    /* every tail length gives distinct hashes for distinct inputs */
    pp_h128 prev = {0, 0};
    for (size_t n = 1; n < 40; n++) {
        pp_h128 x = pp_hash128(q, n, 0);
        cr_assert(x.lo != prev.lo || x.hi != prev.hi);
        prev = x;
    }
}

/* ---- dictionary ----------------------------------------------------------------- */

static void word_of(int i, char *buf) { snprintf(buf, 32, i % 3 ? "w%d" : "longer-word-%d", i); }

Test(pp_dict, ids_are_dense_in_first_seen_order_and_survive_growth) {
    pp_dict d;
    cr_assert_eq(pp_dict_init(&d), 0);
    char w[32];
    for (int i = 0; i < 20000; i++) {
        word_of(i, w);
        cr_assert_eq(pp_dict_add(&d, w, strlen(w), (uint64_t)i), i);
    }
    cr_assert_eq(d.n, 20000);
    for (int i = 0; i < 20000; i += 7) {
        word_of(i, w);
        cr_assert_eq(pp_dict_add(&d, w, strlen(w), 1), i);
        cr_assert_eq(pp_dict_find(&d, w, strlen(w)), i);
        cr_assert_str_eq(pp_dict_word(&d, (uint32_t)i), w);
    }
    cr_assert_eq(pp_dict_find(&d, "absent", 6), -1);
    /* prefixes and words sharing their first 8 bytes are different words */
    int64_t a = pp_dict_intern(&d, "abcdefghX", 9), b = pp_dict_intern(&d, "abcdefghY", 9);
    int64_t c = pp_dict_intern(&d, "abcdefgh", 8), z = pp_dict_intern(&d, "a\0b", 3);
    cr_assert(a != b && a != c && b != c && z >= 0 && z != pp_dict_intern(&d, "a", 1));
    uint64_t *counts = malloc(d.n * sizeof *counts);
    pp_dict_counts(&d, counts);
    cr_assert_eq(counts[0], 1); /* i = 0 added with 0, then 1 */
    cr_assert_eq(counts[7], 8);
    cr_assert_eq(counts[8], 8);
    free(counts);
    pp_dict_free(&d);
}

Test(pp_dict, masked_and_composed_keys_agree_for_every_length) {
    /* workers use the masked 8-byte load where the buffer allows and the
     * composed loads near its end: both must give the same key */
    char buf[64];
    for (size_t len = 1; len <= 24; len++)
        for (int v = 0; v < 50; v++) {
            for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)('a' + (i * 7 + (size_t)v * 13 + len) % 26);
            buf[len] = 0; /* bytes after the NUL are junk the mask must drop */
            pp_dict_key a = pp_dict_key_of(buf, len), b = pp_dict_key_of8(buf, len);
            cr_assert_eq(a.w8, b.w8, "len %zu", len);
            cr_assert_eq(a.hash, b.hash, "len %zu", len);
        }
}

/* ---- vocabulary selection ----------------------------------------------------------- */

Test(pp_vocab, order_is_count_desc_then_bytes_with_min_count_and_limit) {
    pp_dict d;
    pp_dict_init(&d);
    const char *w[] = {"b", "a", "ab", "c", "rare", "zz", "Z"};
    uint64_t n[] = {5, 5, 5, 9, 1, 2, 5};
    for (int i = 0; i < 7; i++) pp_dict_add(&d, w[i], strlen(w[i]), n[i]);
    pp_dict *dp = &d;
    pp_vocab_pick pk;
    lm_err e;
    cr_assert_eq(pp_vocab_select(&dp, 1, 2, 100, &pk, &e), 0);
    const char *want[] = {"c", "Z", "a", "ab", "b", "zz"}; /* 'Z' < 'a' bytewise; "a" < "ab" */
    cr_assert_eq(pk.n_words, 6);
    for (int i = 0; i < 6; i++) cr_assert_str_eq(pk.words[i], want[i]);
    cr_assert_eq(pk.total_count, 32);
    cr_assert_eq(pk.oov_count, 1);
    cr_assert_eq(pk.map[0][4], UINT32_MAX); /* "rare" */
    cr_assert_eq(pk.map[0][3], 0);          /* "c" */
    pp_vocab_pick_free(&pk, 1);
    cr_assert_eq(pp_vocab_select(&dp, 1, 1, 3, &pk, &e), 0);
    cr_assert_eq(pk.n_words, 3);
    cr_assert_str_eq(pk.words[2], "a");
    cr_assert_eq(pk.oov_count, 32 - 9 - 5 - 5);
    pp_vocab_pick_free(&pk, 1);
    pp_dict_free(&d);
}

Test(pp_vocab, result_does_not_depend_on_how_words_were_split_over_dicts) {
    /* the same multiset of (word, count) spread over 1 dict or 3 dicts in
     * different orders must give the same words, counts and mapping */
    enum { W = 3000 };
    pp_dict one, three[3];
    pp_dict_init(&one);
    for (int k = 0; k < 3; k++) pp_dict_init(&three[k]);
    char w[32];
    for (int i = 0; i < W; i++) {
        word_of(i, w);
        uint64_t c = (uint64_t)(i * 7919 % 50);
        pp_dict_add(&one, w, strlen(w), c);
        /* split the count over the dicts, inserting in a scrambled order */
        int j = (i * 1543) % W;
        word_of(j, w);
        uint64_t cj = (uint64_t)(j * 7919 % 50);
        pp_dict_add(&three[j % 3], w, strlen(w), cj / 2);
        pp_dict_add(&three[(j + 1) % 3], w, strlen(w), cj - cj / 2);
    }
    pp_dict *p1 = &one, *p3[3] = {&three[0], &three[1], &three[2]};
    pp_vocab_pick a, b;
    lm_err e;
    cr_assert_eq(pp_vocab_select(&p1, 1, 3, 1000, &a, &e), 0);
    cr_assert_eq(pp_vocab_select(p3, 3, 3, 1000, &b, &e), 0);
    cr_assert_eq(a.n_words, b.n_words);
    cr_assert_eq(a.total_count, b.total_count);
    cr_assert_eq(a.oov_count, b.oov_count);
    cr_assert_eq(a.n_types, b.n_types);
    for (uint32_t r = 0; r < a.n_words; r++) {
        cr_assert_str_eq(a.words[r], b.words[r]);
        cr_assert_eq(a.counts[r], b.counts[r]);
    }
    for (int k = 0; k < 3; k++)
        for (uint32_t id = 0; id < three[k].n; id++) {
            const char *word = pp_dict_word(&three[k], id);
            uint32_t ra = a.map[0][pp_dict_find(&one, word, strlen(word))];
            cr_assert_eq(b.map[k][id], ra, "%s", word);
        }
    pp_vocab_pick_free(&a, 1);
    pp_vocab_pick_free(&b, 3);
    pp_dict_free(&one);
    for (int k = 0; k < 3; k++) pp_dict_free(&three[k]);
}

/* ---- dedup ---------------------------------------------------------------------------- */

Test(pp_dedup, claim_once_and_commit_once) {
    pp_dedup *d = pp_dedup_new();
    pp_h128 a = {1, 2}, b = {1, 3}, c = {0, 0};
    cr_assert_eq(pp_dedup_claim(d, a), 1);
    cr_assert_eq(pp_dedup_claim(d, a), 0);
    cr_assert_eq(pp_dedup_claim(d, b), 1);
    cr_assert_eq(pp_dedup_commit(d, b), 1);
    cr_assert_eq(pp_dedup_commit(d, b), 0);
    cr_assert_eq(pp_dedup_commit(d, a), 1);
    cr_assert_eq(pp_dedup_claim(d, a), 0);
    cr_assert_eq(pp_dedup_commit(d, c), 1); /* never claimed: inserted and kept */
    cr_assert_eq(pp_dedup_count(d), 3);
    pp_dedup_free(d);
}

typedef struct {
    pp_dedup *d;
    int wins;
} claimer;

static void *claim_all(void *arg) {
    claimer *c = arg;
    for (uint64_t i = 0; i < 50000; i++)
        c->wins += pp_dedup_claim(c->d, pp_hash128(&i, sizeof i, 0)) == 1;
    return NULL;
}

Test(pp_dedup, concurrent_claims_have_exactly_one_winner_per_hash) {
    pp_dedup *d = pp_dedup_new();
    claimer c[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        c[t] = (claimer){d, 0};
        pthread_create(&th[t], NULL, claim_all, &c[t]);
    }
    int total = 0;
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL), total += c[t].wins;
    cr_assert_eq(total, 50000);
    cr_assert_eq(pp_dedup_count(d), 50000);
    pp_dedup_free(d);
}

/* ---- genres ----------------------------------------------------------------------------- */

Test(pp_genre, shared_corpus_labels_map_to_the_eight_canonical_genres) {
    const char *labels[][2] = {
        {"['Pop']", "Pop"},       {"['Rock']", "Rock"},     {"['Hip-Hop/Rap']", "Hip-Hop"},
        {"['Country']", "Country"}, {"['R&B/Soul']", "R&B"}, {"['Metal']", "Metal"},
        {"['Alternative/Indie']", "Indie"}, {"['Folk']", "Folk"}, {"Hip-Hop", "Hip-Hop"},
        {"Indie", "Indie"},       {"R&B", "R&B"},           {"rap", "Hip-Hop"},
        {"country", "Country"},   {"pop", "Pop"},           {"rock", "Rock"},
        {" ['Pop', 'Rock'] ", "Pop"}, {"\"METAL\"", "Metal"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        const char *g = pp_genre_map_lookup(NULL, labels[i][0]);
        cr_assert(g, "%s", labels[i][0]);
        cr_assert_str_eq(g, labels[i][1], "%s", labels[i][0]);
    }
    cr_assert_null(pp_genre_builtin("jazz"));
    cr_assert_null(pp_genre_builtin("['']"));
    for (int i = 0; i < PP_N_CANONICAL; i++) cr_assert_eq(pp_genre_canonical_index(pp_genre_canonical(i)), i);
}

Test(pp_genre, user_map_file_wins_over_builtin_and_reports_bad_lines) {
    char *dir = ppt_tmpdir(), *p = ppt_path(dir, "map.tsv");
    ppt_writes(p, "# comment\n\njazz\tJazz\nrap=Spoken\n['Trip Hop']=hip-hop\r\n");
    pp_genre_map *m = pp_genre_map_new();
    lm_err e;
    cr_assert_eq(pp_genre_map_load(m, p, &e), 0, "%s", e.msg);
    cr_assert_str_eq(pp_genre_map_lookup(m, "JAZZ"), "Jazz");
    cr_assert_str_eq(pp_genre_map_lookup(m, "['rap']"), "Spoken");
    cr_assert_str_eq(pp_genre_map_lookup(m, "trip hop"), "Hip-Hop"); /* canonical spelling */
    cr_assert_str_eq(pp_genre_map_lookup(m, "Pop"), "Pop");
    cr_assert_null(pp_genre_map_lookup(m, "polka"));
    pp_genre_map_free(m);

    ppt_writes(p, "jazz\tJazz\nno separator here\n");
    m = pp_genre_map_new();
    cr_assert_eq(pp_genre_map_load(m, p, &e), -1);
    cr_assert(strstr(e.msg, "map.tsv:2:"), "%s", e.msg);
    pp_genre_map_free(m);
    ppt_writes(p, "x=<bad>\n");
    m = pp_genre_map_new();
    cr_assert_eq(pp_genre_map_load(m, p, &e), -1);
    cr_assert(strstr(e.msg, "map.tsv:1") && strstr(e.msg, "bad genre name"), "%s", e.msg);
    pp_genre_map_free(m);
    free(p);
    ppt_rm_rf(dir);
    free(dir);
}
