/* test_pp_pipeline: pp_run end to end on fixtures the tests write: what the
 * corpus directory holds (vocabulary order, song token layout, genres,
 * counts), that outputs do not depend on the thread count or on reruns, that
 * the first copy of a duplicate in input order wins, that the train/val
 * split of a song does not change when the corpus grows, shard sizing, the
 * vocabulary limit and OOV accounting, and unknown-genre policies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pp_test_util.h"

static char *dir;
static void setup(void) { dir = ppt_tmpdir(); }
static void teardown(void) {
    ppt_rm_rf(dir);
    free(dir);
}
TestSuite(pp_pipeline, .init = setup, .fini = teardown, .timeout = 60);

typedef struct {
    char text[8192];
    int n;
} warnings;

static void collect(void *ctx, const char *msg) {
    warnings *w = ctx;
    size_t len = strlen(w->text);
    snprintf(w->text + len, sizeof w->text - len, "%s\n", msg);
    w->n++;
}

static void run_ok(pp_options *o, pp_summary *s) {
    lm_err e = {{0}};
    cr_assert_eq(pp_run(o, s, &e), 0, "pp_run: %s", e.msg);
}

static const char *SMALL_CSV =
    "lyrics,genre\n"
    "\"Hello world, hello you\nSecond line here\n\nNew stanza now\",['Pop']\n"
    "\"HELLO world; hello you!\nSecond line here\n\n\nNew stanza now\",rock\n" /* same after cleaning */
    "\"short one\",Pop\n"
    "\"\",Rock\n"
    "\"Rap line one two three four five\",['Hip-Hop/Rap']\n"
    "\"Jazz tune one two three four five\",Jazz\n"
    "\"bad \xff byte in this song text\",Pop\n";

Test(pp_pipeline, small_corpus_counts_vocab_and_token_layout) {
    char *csv = ppt_path(dir, "a.csv"), *jl = ppt_path(dir, "b.jsonl"), *txt = ppt_path(dir, "folk.txt");
    char *out = ppt_path(dir, "out");
    ppt_writes(csv, SMALL_CSV);
    ppt_writes(jl, "{\"text\": \"Country roads take me home now\", \"genre\": \"country\"}\n"
                   "{\"genre\": \"pop\"}\n");
    ppt_writes(txt, "Folk song number one here\n<SONG_BOUNDARY>\nFolk song number two there\n");
    const char *in[] = {csv, jl, txt};
    pp_options o;
    ppt_options(&o, out, in, 3);
    o.min_count = 1;
    o.val_fraction = 0;
    warnings w = {{0}, 0};
    o.warn = collect;
    o.warn_ctx = &w;
    pp_summary s;
    run_ok(&o, &s);

    cr_assert_eq(s.files, 3);
    cr_assert_eq(s.songs_read, 11);
    cr_assert_eq(s.songs_kept, 6);
    cr_assert_eq(s.duplicates, 1);
    cr_assert_eq(s.skipped[PP_REASON_EMPTY], 1);
    cr_assert_eq(s.skipped[PP_REASON_TOO_SHORT], 1);
    cr_assert_eq(s.skipped[PP_REASON_BAD_UTF8], 1);
    cr_assert_eq(s.skipped[PP_REASON_MISSING_TEXT], 1);
    cr_assert_eq(w.n, 1);
    cr_assert(strstr(w.text, csv) && strstr(w.text, "invalid UTF-8 at byte 4"), "%s", w.text);
    /* canonical genres in canonical order, then others by name */
    const char *genres[] = {"Pop", "Hip-Hop", "Country", "Folk", "Jazz"};
    cr_assert_eq(s.n_genres, 5);
    for (int g = 0; g < 5; g++) cr_assert_str_eq(s.genres[g], genres[g]);
    cr_assert_eq(s.genre_songs[0], 1); /* the first copy (Pop), not the Rock duplicate */
    cr_assert_eq(s.genre_songs[3], 2);

    ppt_corpus c;
    ppt_load(out, &c);
    cr_assert_eq(c.vocab.size, s.vocab_size);
    const char *head[] = {"<pad>", "<unk>", "<bos>", "<eos>", "<nl>", "<sep>", "<genre:Pop>",
                          "<genre:Hip-Hop>", "<genre:Country>", "<genre:Folk>", "<genre:Jazz>"};
    for (int i = 0; i < 11; i++) cr_assert_str_eq(c.vocab.tokens[i], head[i]);
    for (uint32_t i = 12; i < c.vocab.size; i++) { /* count desc, then bytes */
        cr_assert_geq(c.vocab.counts[i - 1], c.vocab.counts[i]);
        if (c.vocab.counts[i - 1] == c.vocab.counts[i]) cr_assert_lt(strcmp(c.vocab.tokens[i - 1], c.vocab.tokens[i]), 0);
    }
    cr_assert_eq(c.vocab.counts[2], 6); /* <bos> once per kept song */
    cr_assert_eq(c.train.n_songs, 6);
    cr_assert_eq(c.val.n_songs, 0);
    char *first = ppt_song_text(&c, &c.train, 0);
    cr_assert_str_eq(first, "<bos> <genre:Pop> hello world hello you <nl> second line here <sep> new stanza now <eos>");
    free(first);
    for (uint64_t i = 0; i < c.train.n_songs; i++) {
        uint64_t a = c.train.offsets[i], b = c.train.offsets[i + 1];
        cr_assert_eq(c.train.tokens[a], IO_TOK_BOS);
        cr_assert_eq(c.train.tokens[a + 1], IO_TOK_FIRST_GENRE + c.train.genres[i]);
        cr_assert_eq(c.train.tokens[b - 1], IO_TOK_EOS);
    }
    char *last = ppt_song_text(&c, &c.train, 5);
    cr_assert_str_eq(last, "<bos> <genre:Folk> folk song number two there <eos>");
    free(last);
    cr_assert_eq(s.train_tokens, c.train.n_tokens);
    ppt_free(&c);
    char *man = ppt_path(out, "manifest.json"), *tmp = ppt_path(dir, "out.tmp");
    cr_assert(ppt_exists(man));
    cr_assert(!ppt_exists(tmp), "OUT.tmp must be gone");
    free(man), free(tmp), free(csv), free(jl), free(txt), free(out);
}

/* A corpus of n synthetic songs (some repeated, several genres) as CSV. */
static void write_corpus(const char *path, int first, int n, unsigned seed) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fputs("lyrics,genre\n", f);
    static const char *G[] = {"pop", "rock", "rap", "['Country']", "metal", "indie", "folk", "r&b"};
    unsigned x = seed;
    for (int i = first; i < first + n; i++) {
        int song = (i % 10 == 9) ? i / 3 : i; /* every tenth song repeats an earlier one */
        unsigned y = (unsigned)song * 2654435761u + 12345u;
        int words = 6 + (int)(y % 40);
        fputc('"', f);
        for (int k = 0; k < words; k++) {
            y = y * 1103515245u + 12345u;
            fprintf(f, "%sw%u", k == 0 ? "" : (k % 7 == 0 ? "\n" : " "), (y >> 16) % 600);
        }
        x = x * 1664525u + 1013904223u;
        fprintf(f, "\",%s\n", G[(song + (int)(x >> 30) * (i % 10 == 9)) % 8]);
    }
    fclose(f);
}

static void expect_same_split(const ppt_split *a, const ppt_split *b) {
    cr_assert_eq(a->n_songs, b->n_songs);
    cr_assert_eq(a->n_tokens, b->n_tokens);
    cr_assert_eq(memcmp(a->tokens, b->tokens, a->n_tokens * 2), 0);
    cr_assert_eq(memcmp(a->offsets, b->offsets, (a->n_songs + 1) * 8), 0);
    cr_assert_eq(memcmp(a->genres, b->genres, a->n_songs), 0);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

Test(pp_pipeline, same_output_for_any_thread_count_and_rerun) {
    /* 15000 songs: several reader batches, so threads really interleave */
    char *csv = ppt_path(dir, "big.csv");
    write_corpus(csv, 0, 15000, 7);
    const char *in[] = {csv};
    const int threads[] = {1, 2, 4, 2};
    ppt_corpus c[4];
    char *man[4];
    pp_summary s0;
    for (int r = 0; r < 4; r++) {
        char name[32];
        snprintf(name, sizeof name, "out%d", r);
        char *out = ppt_path(dir, name);
        pp_options o;
        ppt_options(&o, out, in, 1);
        o.threads = threads[r];
        o.vocab_size = 300;
        pp_summary s;
        run_ok(&o, &s);
        if (r == 0) s0 = s;
        cr_assert_eq(s.songs_kept, s0.songs_kept);
        cr_assert_eq(s.duplicates, s0.duplicates);
        cr_assert_eq(s.oov_tokens, s0.oov_tokens);
        ppt_load(out, &c[r]);
        char *mp = ppt_path(out, "manifest.json");
        man[r] = slurp(mp);
        free(mp);
        free(out);
    }
    cr_assert_geq(s0.duplicates, 900);
    cr_assert_gt(c[0].val.n_songs, 0);
    for (int r = 1; r < 4; r++) {
        cr_assert_eq(c[r].vocab.hash, c[0].vocab.hash);
        for (uint32_t i = 0; i < c[0].vocab.size; i++) cr_assert_eq(c[r].vocab.counts[i], c[0].vocab.counts[i]);
        expect_same_split(&c[r].train, &c[0].train);
        expect_same_split(&c[r].val, &c[0].val);
        cr_assert_str_eq(man[r], man[0]);
    }
    for (int r = 0; r < 4; r++) ppt_free(&c[r]), free(man[r]);
    free(csv);
}

Test(pp_pipeline, first_copy_in_sorted_input_order_wins) {
    /* created in reverse order; the directory walk sorts, so a.csv is first */
    char *sub = ppt_path(dir, "in"), *a, *b, *out = ppt_path(dir, "out");
    cr_assert_eq(mkdir(sub, 0777), 0);
    a = ppt_path(sub, "a.csv");
    b = ppt_path(sub, "b.csv");
    ppt_writes(b, "lyrics,genre\n\"one two three four five six\",Pop\n\"seven eight nine ten eleven\",Pop\n");
    ppt_writes(a, "lyrics,genre\n\"One, two, three four five six!\",Metal\n");
    const char *in[] = {sub};
    for (int t = 1; t <= 3; t += 2) {
        pp_options o;
        ppt_options(&o, out, in, 1);
        o.threads = t;
        o.force = 1;
        o.val_fraction = 0;
        o.min_count = 1;
        pp_summary s;
        run_ok(&o, &s);
        cr_assert_eq(s.duplicates, 1);
        cr_assert_eq(s.n_genres, 2);
        cr_assert_str_eq(s.genres[0], "Pop");
        cr_assert_str_eq(s.genres[1], "Metal");
        ppt_corpus c;
        ppt_load(out, &c);
        char *t0 = ppt_song_text(&c, &c.train, 0);
        cr_assert_str_eq(t0, "<bos> <genre:Metal> one two three four five six <eos>");
        free(t0);
        ppt_free(&c);
    }
    free(sub), free(a), free(b), free(out);
}

/* Collects the text of every val song (without its <bos>/<genre> prefix). */
static int in_val(const ppt_corpus *c, const char *body) {
    for (uint64_t i = 0; i < c->val.n_songs; i++) {
        char *t = ppt_song_text(c, &c->val, i);
        int hit = strstr(t, body) != NULL;
        free(t);
        if (hit) return 1;
    }
    return 0;
}

Test(pp_pipeline, split_of_a_song_is_stable_as_the_corpus_grows) {
    char *small = ppt_path(dir, "small.csv"), *more = ppt_path(dir, "more.csv");
    write_corpus(small, 0, 1500, 1);
    write_corpus(more, 100000, 1500, 2);
    char *o1 = ppt_path(dir, "o1"), *o2 = ppt_path(dir, "o2");
    const char *in1[] = {small}, *in2[] = {more, small};
    pp_options o;
    pp_summary s1, s2;
    ppt_options(&o, o1, in1, 1);
    o.val_fraction = 0.1;
    o.min_count = 1;
    run_ok(&o, &s1);
    ppt_options(&o, o2, in2, 2);
    o.val_fraction = 0.1;
    o.min_count = 1;
    run_ok(&o, &s2);
    cr_assert_gt(s1.val_songs, s1.songs_kept / 20); /* about 10%: 5% .. 15% */
    cr_assert_lt(s1.val_songs, s1.songs_kept * 3 / 20);
    ppt_corpus c1, c2;
    ppt_load(o1, &c1);
    ppt_load(o2, &c2);
    /* every song of the small corpus lands on the same side in the big one */
    for (int side = 0; side < 2; side++) {
        const ppt_split *sp = side ? &c1.val : &c1.train;
        for (uint64_t i = 0; i < sp->n_songs; i += 5) {
            char *t = ppt_song_text(&c1, sp, i);
            char *body = strchr(strchr(t, ' ') + 1, ' '); /* after <bos> <genre:..> */
            cr_assert_eq(in_val(&c2, body), side, "song %llu moved", (unsigned long long)i);
            free(t);
        }
    }
    ppt_free(&c1), ppt_free(&c2);
    free(small), free(more), free(o1), free(o2);
}

Test(pp_pipeline, shards_hold_whole_songs_up_to_shard_tokens) {
    char *csv = ppt_path(dir, "c.csv"), *out = ppt_path(dir, "out");
    write_corpus(csv, 0, 800, 3);
    const char *in[] = {csv};
    pp_options o;
    ppt_options(&o, out, in, 1);
    o.shard_tokens = 500;
    pp_summary s;
    run_ok(&o, &s);
    ppt_corpus c;
    ppt_load(out, &c);
    cr_assert_gt(c.train.n_shards, 10);
    cr_assert_eq(c.train.n_shards, s.train_shards);
    cr_assert_eq(c.val.n_shards, s.val_shards);
    cr_assert_leq(c.train.max_shard_tokens, 500);
    cr_assert_eq(c.train.n_tokens, s.train_tokens);
    cr_assert_eq(c.val.n_tokens, s.val_tokens);
    cr_assert_eq(c.train.n_songs + c.val.n_songs, s.songs_kept);
    char *man = ppt_path(out, "manifest.json");
    char *m = slurp(man);
    cr_assert(strstr(m, "\"train-00010.h5\""), "manifest lists the shards");
    cr_assert(strstr(m, "\"xxh64\""));
    free(m), free(man);
    /* a song longer than the limit gets a shard of its own */
    ppt_free(&c);
    o.shard_tokens = 5;
    o.force = 1;
    run_ok(&o, &s);
    ppt_load(out, &c);
    cr_assert_eq(c.train.n_shards, c.train.n_songs);
    ppt_free(&c);
    free(csv), free(out);
}

/* manifest.json's input checksums are XXH64 (seed 0) of the bytes as stored:
 * the digests below were written by the hand-made XXH64 that libxxhash
 * replaced, for a 1.7 MB file (two 1 MiB reads) and a 34-byte one, so they
 * also show that manifests stay byte-identical across that change. */
Test(pp_pipeline, manifest_input_checksums_are_xxh64_of_the_bytes) {
    char *csv = ppt_path(dir, "ck.csv"), *txt = ppt_path(dir, "ck2.txt"), *out = ppt_path(dir, "out");
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("lyrics,genre\n", f);
    for (int i = 0; i < 50000; i++)
        fprintf(f, "\"la%d di%d da%d do%d re%d mi%d\",Pop\n", i % 97, i % 89, i % 83, i % 79, i % 73, i % 71);
    cr_assert_eq(fclose(f), 0);
    ppt_writes(txt, "one two three four five six seven\n");
    const char *in[] = {csv, txt};
    pp_options o;
    ppt_options(&o, out, in, 2);
    pp_summary s;
    run_ok(&o, &s);
    char *man = ppt_path(out, "manifest.json");
    char *m = slurp(man);
    cr_expect(strstr(m, "\"bytes\": 1762973,\n      \"xxh64\": \"bdfff4408bf1528a\""), "%s", m);
    cr_expect(strstr(m, "\"bytes\": 34,\n      \"xxh64\": \"6ed9faa1e42e290c\""), "%s", m);
    free(m), free(man), free(csv), free(txt), free(out);
}

Test(pp_pipeline, vocab_size_is_exact_and_oov_is_counted) {
    char *csv = ppt_path(dir, "c.csv"), *out = ppt_path(dir, "out");
    write_corpus(csv, 0, 2000, 4);
    const char *in[] = {csv};
    pp_options o;
    ppt_options(&o, out, in, 1);
    o.vocab_size = 6 + 8 + 50;
    pp_summary s;
    run_ok(&o, &s);
    cr_assert_eq(s.vocab_size, 64);
    cr_assert_eq(s.n_genres, 8);
    ppt_corpus c;
    ppt_load(out, &c);
    cr_assert_eq(c.vocab.size, 64);
    uint64_t unk = 0, words = 0;
    const ppt_split *sp[2] = {&c.train, &c.val};
    for (int k = 0; k < 2; k++)
        for (uint64_t i = 0; i < sp[k]->n_tokens; i++) {
            uint16_t t = sp[k]->tokens[i];
            unk += t == IO_TOK_UNK;
            words += t == IO_TOK_UNK || t >= 6 + 8;
        }
    cr_assert_eq(unk, s.oov_tokens);
    cr_assert_eq(words, s.word_tokens);
    cr_assert_eq(c.vocab.counts[IO_TOK_UNK], unk);
    cr_assert_float_eq(s.oov_rate, (double)unk / (double)words, 1e-12);
    cr_assert_gt(s.oov_rate, 0.5); /* 600 word types, 50 kept */
    ppt_free(&c);
    /* too small for the specials and genres: refused, nothing left behind */
    o.vocab_size = 6 + 8;
    o.force = 1;
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, "--vocab-size"), "%s", e.msg);
    free(csv), free(out);
}

Test(pp_pipeline, unknown_genres_keep_skip_or_map) {
    char *csv = ppt_path(dir, "c.csv"), *out = ppt_path(dir, "out"), *map = ppt_path(dir, "map.txt");
    ppt_writes(csv, "lyrics,genre\n\"a b c d e f\",Polka\n\"g h i j k l\",pop\n\"m n o p q r\",\n"
                    "\"s t u v w x\",Zydeco\n");
    const char *in[] = {csv};
    pp_options o;
    pp_summary s;
    ppt_options(&o, out, in, 1);
    run_ok(&o, &s); /* keep: own genres, "Unknown" for a missing label */
    cr_assert_eq(s.n_genres, 4);
    cr_assert_str_eq(s.genres[0], "Pop");
    cr_assert_str_eq(s.genres[1], "Polka");
    cr_assert_str_eq(s.genres[2], "Unknown");
    cr_assert_str_eq(s.genres[3], "Zydeco");
    o.force = 1;
    o.unknown_genre = "skip";
    run_ok(&o, &s);
    cr_assert_eq(s.n_genres, 1);
    cr_assert_eq(s.skipped[PP_REASON_UNKNOWN_GENRE], 3);
    o.unknown_genre = "Other";
    run_ok(&o, &s);
    cr_assert_eq(s.n_genres, 2);
    cr_assert_str_eq(s.genres[1], "Other");
    cr_assert_eq(s.genre_songs[1], 3);
    ppt_writes(map, "polka\tFolk\nzydeco=Country\n");
    o.genre_map = map;
    o.unknown_genre = "skip";
    run_ok(&o, &s);
    cr_assert_eq(s.n_genres, 3);
    cr_assert_str_eq(s.genres[1], "Country");
    cr_assert_str_eq(s.genres[2], "Folk");
    cr_assert_eq(s.skipped[PP_REASON_UNKNOWN_GENRE], 1);
    free(csv), free(out), free(map);
}

Test(pp_pipeline, force_replaces_a_corpus_but_never_a_foreign_directory) {
    char *csv = ppt_path(dir, "c.csv"), *out = ppt_path(dir, "out");
    write_corpus(csv, 0, 300, 5);
    const char *in[] = {csv};
    pp_options o;
    pp_summary s;
    ppt_options(&o, out, in, 1);
    run_ok(&o, &s);
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, out) && strstr(e.msg, "already exists"), "%s", e.msg);
    o.force = 1;
    o.shard_tokens = 1000; /* more shards than before: old ones must not linger */
    run_ok(&o, &s);
    ppt_corpus c;
    ppt_load(out, &c);
    cr_assert_eq(c.train.n_shards, s.train_shards);
    ppt_free(&c);
    o.shard_tokens = 1 << 20;
    run_ok(&o, &s);
    char *stale = ppt_path(out, "train-00001.h5");
    cr_assert(!ppt_exists(stale), "shards of the replaced corpus are removed");
    free(stale);
    /* a directory with anything else in it is never replaced */
    char *other = ppt_path(dir, "home"), *note = ppt_path(other, "notes.txt");
    cr_assert_eq(mkdir(other, 0777), 0);
    ppt_writes(note, "mine");
    o.out_dir = other;
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, "notes.txt"), "%s", e.msg);
    cr_assert(ppt_exists(note));
    free(other), free(note), free(csv), free(out);
}

Test(pp_pipeline, word_ids_beyond_16_bits_in_one_dictionary_round_trip) {
    /* one thread sees 70,000 distinct words before the last ten become
     * frequent: their provisional ids need the pass-1 file's escape code */
    char *csv = ppt_path(dir, "wide.csv"), *out = ppt_path(dir, "out");
    FILE *f = fopen(csv, "wb");
    fputs("lyrics,genre\n", f);
    for (int s = 0; s < 1000; s++) {
        fputc('"', f);
        for (int k = 0; k < 70; k++) fprintf(f, "u%d ", s * 70 + k);
        fputs("\",Pop\n", f);
    }
    for (int s = 0; s < 50; s++) {
        fputc('"', f);
        for (int k = 69990; k < 70000; k++) fprintf(f, "u%d ", k);
        fprintf(f, "v%d\",Rock\n", s); /* distinct songs, not duplicates */
    }
    fclose(f);
    const char *in[] = {csv};
    pp_options o;
    ppt_options(&o, out, in, 1);
    o.threads = 1;
    o.val_fraction = 0;
    o.vocab_size = 100;
    pp_summary s;
    run_ok(&o, &s);
    cr_assert_eq(s.word_types, 70050);
    ppt_corpus c;
    ppt_load(out, &c);
    char *t = ppt_song_text(&c, &c.train, 1000);
    cr_assert_str_eq(t, "<bos> <genre:Rock> u69990 u69991 u69992 u69993 u69994 u69995 u69996 u69997 "
                        "u69998 u69999 <unk> <eos>");
    free(t);
    ppt_free(&c);
    free(csv), free(out);
}

Test(pp_pipeline, parts_preprocessed_apart_share_a_given_vocabulary) {
    /* the multi-node recipe: one vocabulary, each part mapped onto it */
    char *a = ppt_path(dir, "a.csv"), *b = ppt_path(dir, "b.csv");
    char *oa = ppt_path(dir, "oa"), *ob = ppt_path(dir, "ob"), *va = ppt_path(oa, "vocab.h5");
    write_corpus(a, 0, 1500, 1);
    write_corpus(b, 50000, 500, 2);
    const char *ina[] = {a}, *inb[] = {b};
    pp_options o;
    pp_summary sa, sb;
    ppt_options(&o, oa, ina, 1);
    o.vocab_size = 200;
    run_ok(&o, &sa);
    ppt_options(&o, ob, inb, 1);
    o.vocab_file = va;
    run_ok(&o, &sb);
    cr_assert_eq(sb.vocab_hash, sa.vocab_hash);
    cr_assert_eq(sb.vocab_size, 200);
    cr_assert_eq(sb.n_genres, sa.n_genres);
    ppt_corpus ca, cb;
    ppt_load(oa, &ca);
    ppt_load(ob, &cb); /* validates every shard against b's vocab.h5 */
    cr_assert_eq(cb.vocab.hash, ca.vocab.hash);
    uint64_t unk = 0;
    for (uint64_t i = 0; i < cb.train.n_tokens; i++) unk += cb.train.tokens[i] == IO_TOK_UNK;
    for (uint64_t i = 0; i < cb.val.n_tokens; i++) unk += cb.val.tokens[i] == IO_TOK_UNK;
    cr_assert_eq(unk, sb.oov_tokens);
    cr_assert_gt(sb.oov_tokens, 0);
    ppt_free(&ca), ppt_free(&cb);
    /* a genre the vocabulary lacks is refused, naming the file and the genre */
    char *c = ppt_path(dir, "c.csv"), *oc = ppt_path(dir, "oc");
    ppt_writes(c, "lyrics,genre\n\"one two three four five six\",Polka\n");
    const char *inc[] = {c};
    ppt_options(&o, oc, inc, 1);
    o.vocab_file = va;
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, &sb, &e), -1);
    cr_assert(strstr(e.msg, "vocab.h5") && strstr(e.msg, "Polka"), "%s", e.msg);
    free(a), free(b), free(oa), free(ob), free(va), free(c), free(oc);
}

Test(pp_pipeline, text_files_take_genre_and_boundary_options) {
    char *txt = ppt_path(dir, "mixtape.txt"), *out = ppt_path(dir, "out");
    ppt_writes(txt, "first song has six words here\n===\nsecond song also has six words\n");
    const char *in[] = {txt};
    pp_options o;
    pp_summary s;
    ppt_options(&o, out, in, 1);
    o.read.boundary = "===";
    o.read.text_genre = "['Hip-Hop/Rap']";
    run_ok(&o, &s);
    cr_assert_eq(s.songs_kept, 2);
    cr_assert_eq(s.n_genres, 1);
    cr_assert_str_eq(s.genres[0], "Hip-Hop");
    o.force = 1;
    o.read.text_genre = NULL; /* the base name, an unknown label kept as its own genre */
    run_ok(&o, &s);
    cr_assert_str_eq(s.genres[0], "mixtape");
    free(txt), free(out);
}
