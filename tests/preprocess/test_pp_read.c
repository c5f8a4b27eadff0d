/* Tests for the readers: CSV, JSON Lines, text with boundaries, .zst, format
 * detection and every per-file error, on small fixtures written here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "pp_clean.h"
#include "pp_read.h"
#include "pp_test_util.h"

static char *dir;
static void setup(void) { dir = ppt_tmpdir(); }
static void teardown(void) {
    ppt_rm_rf(dir);
    free(dir);
}
TestSuite(read, .init = setup, .fini = teardown);

static const pp_read_opts DEF = {0};
static const pp_read_opts *or_def(const pp_read_opts *o) { return o ? o : &DEF; }

#define ASSERT_ERR(rc, e, ...)                                                              \
    do {                                                                                    \
        cr_assert_eq((rc), -1, "expected an error, got %d", (rc));                          \
        const char *subs_[] = {__VA_ARGS__};                                                \
        for (size_t k_ = 0; k_ < sizeof subs_ / sizeof subs_[0]; k_++)                      \
            cr_assert(strstr((e).msg, subs_[k_]), "error \"%s\" lacks \"%s\"", (e).msg, subs_[k_]); \
    } while (0)

/* Writes data to <tmp>/name, reads it with o (NULL: defaults), asserts success
 * and n records; the caller frees the records. */
static ppt_recs read_ok(const char *name, const char *data, size_t len, const pp_read_opts *o, size_t n) {
    char *p = ppt_file(dir, name, data, len);
    ppt_recs r = {0};
    lm_err e;
    cr_assert_eq(ppt_read(p, or_def(o), &r, &e), 0, "%s: %s", name, e.msg);
    cr_assert_eq(r.n, n, "%s: %zu records, want %zu", name, r.n, n);
    free(p);
    return r;
}
#define READ_OK(name, str, o, n) read_ok((name), (str), sizeof(str) - 1, (o), (n))

/* Writes data to <tmp>/name, reads it and asserts an error that names the
 * file and contains every further string. */
#define READ_ERR(name, str, o, ...)                                                         \
    do {                                                                                    \
        char *p_ = PPT_FILE(dir, (name), str);                                              \
        ppt_recs r_ = {0};                                                                  \
        lm_err e_;                                                                          \
        ASSERT_ERR(ppt_read(p_, or_def(o), &r_, &e_), e_, p_, __VA_ARGS__);                 \
        ppt_recs_free(&r_);                                                                 \
        free(p_);                                                                           \
    } while (0)

/* ---- CSV ---------------------------------------------------------------- */

Test(read, csv_multiline_quoted_fields) {
    ppt_recs r = READ_OK("a.csv", "Lyrics,Genre\n"
                              "\"line one\nline \"\"two\"\", with comma\n\nstanza\",Pop\n"
                              "plain,['Hip-Hop/Rap']\n"
                              "\n"
                              "\"last\",\n", NULL, 3);
    cr_assert_str_eq(r.v[0].text, "line one\nline \"two\", with comma\n\nstanza");
    cr_assert_str_eq(r.v[0].genre, "Pop");
    cr_assert_eq(r.v[0].line, 2);
    cr_assert_null(r.v[0].artist);
    cr_assert_str_eq(r.v[1].text, "plain");
    cr_assert_str_eq(r.v[1].genre, "['Hip-Hop/Rap']");
    cr_assert_eq(r.v[1].line, 6);
    cr_assert_str_eq(r.v[2].text, "last");
    cr_assert_null(r.v[2].genre, "an empty label is NULL");
    cr_assert_eq(r.v[2].line, 8, "blank lines count");
    ppt_recs_free(&r);
}

Test(read, csv_extra_index_column) {
    ppt_recs r = READ_OK("idx.csv", ",Lyrics,Genre\n0,\"a\nb\",Rock\n1,c,Pop\n", NULL, 2);
    cr_assert_str_eq(r.v[0].text, "a\nb");
    cr_assert_str_eq(r.v[0].genre, "Rock");
    cr_assert_str_eq(r.v[1].text, "c");
    cr_assert_eq(r.v[1].line, 4);
    ppt_recs_free(&r);
}

Test(read, csv_header_case_insensitive_with_all_roles) {
    ppt_recs r = READ_OK("h.csv", "TITLE, Artist ,LYRICS,tag\nSong A,Band,words here,rock\n", NULL, 1);
    cr_assert_str_eq(r.v[0].text, "words here");
    cr_assert_str_eq(r.v[0].genre, "rock");
    cr_assert_str_eq(r.v[0].artist, "Band");
    cr_assert_str_eq(r.v[0].title, "Song A");
    ppt_recs_free(&r);
}

Test(read, csv_custom_fields) {
    const char csv[] = "id,Body,Style,lyrics\n1,the body,jazz,not this\n";
    pp_read_opts o = {.text_field = "body", .genre_field = "STYLE"};
    ppt_recs r = READ_OK("c.csv", csv, &o, 1);
    cr_assert_str_eq(r.v[0].text, "the body");
    cr_assert_str_eq(r.v[0].genre, "jazz");
    ppt_recs_free(&r);
    pp_read_opts bad = {.text_field = "verses"}, badg = {.genre_field = "mood"};
    READ_ERR("c.csv", csv, &bad, "no column 'verses'");
    READ_ERR("c.csv", csv, &badg, "no column 'mood'");
}

Test(read, csv_crlf_and_bom) {
    ppt_recs r = READ_OK("w.csv", "\xEF\xBB\xBFLyrics,Genre\r\n\"a\r\nb\",Pop\r\nc,Rock\r\n", NULL, 2);
    cr_assert_str_eq(r.v[0].text, "a\r\nb");
    cr_assert_str_eq(r.v[0].genre, "Pop");
    cr_assert_str_eq(r.v[1].genre, "Rock");
    cr_assert_eq(r.v[1].line, 4);
    ppt_recs_free(&r);
}

Test(read, csv_errors_name_file_and_line) {
    READ_ERR("bad.csv", "Lyrics,Genre\n\"x\ny\",Pop\nz,Rock,extra\n", NULL, ":4:", "3 fields",
             "header has 2");
    READ_ERR("open.csv", "Lyrics,Genre\nfine,Pop\n\"never\nclosed,Rock\n", NULL, ":3:", "unterminated");
    READ_ERR("q.csv", "Lyrics,Genre\nok,Pop\n\"a\nb\"c,Rock\n", NULL, ":4:", "malformed CSV");
    READ_ERR("nt.csv", "Title,Genre\nx,Pop\n", NULL, "no text column");
    READ_ERR("blank.csv", "\n \n", NULL, "no CSV header");
}

Test(read, csv_records_before_a_bad_row_are_delivered) {
    char *p = PPT_FILE(dir, "bad.csv", "Lyrics,Genre\n\"x\ny\",Pop\nz,Rock,extra\n");
    ppt_recs r = {0};
    lm_err e;
    ASSERT_ERR(ppt_read(p, &DEF, &r, &e), e, "wrong column count");
    cr_assert_eq(r.n, 1);
    ppt_recs_free(&r);
    free(p);
}

Test(read, csv_header_only_has_no_records) {
    ppt_recs r = READ_OK("ho.csv", "Lyrics,Genre\n", NULL, 0);
    ppt_recs_free(&r);
}

/* ---- files and sources ---------------------------------------------------- */

Test(read, empty_file) {
    READ_ERR("empty.csv", "", NULL, "empty file");
    READ_ERR("bom.txt", "\xEF\xBB\xBF", NULL, "empty file");
}

Test(read, missing_file_and_directory) {
    ppt_recs r = {0};
    lm_err e;
    char path[512];
    snprintf(path, sizeof path, "%s/nope.csv", dir);
    ASSERT_ERR(ppt_read(path, &DEF, &r, &e), e, path, "No such file or directory");
    char *d = PPT_FILE(dir, "x", "");
    *strrchr(d, '/') = 0;
    ASSERT_ERR(ppt_read(d, &DEF, &r, &e), e, d, "Is a directory");
    free(d);
}

Test(read, callback_stop_value_is_returned) {
    char *p = PPT_FILE(dir, "s.csv", "Lyrics\na\nb\nc\n");
    ppt_recs r = {.stop_after = 2};
    lm_err e;
    cr_assert_eq(ppt_read(p, &DEF, &r, &e), 7);
    cr_assert_eq(r.n, 2);
    ppt_recs_free(&r);
    free(p);
}

/* ---- JSON Lines ----------------------------------------------------------- */

Test(read, jsonl_records_and_skips) {
    const char jl[] = "{\"lyrics\": \"one\\ntwo\", \"genre\": \"Pop\", \"artist\": \"A\", \"title\": \"T\"}\n"
                      "\n"
                      "   \r\n"
                      "{\"Text\": \"three\", \"tags\": [\"rock\", \"pop\"]}\r\n"
                      "{\"title\": \"no text\"}\n"
                      "{\"lyrics\": 42, \"genre\": \"Pop\"}\n"
                      "{\"content\": \"nul\\u0000inside\"}";
    ppt_recs r = READ_OK("s.jsonl", jl, NULL, 5);
    cr_assert_str_eq(r.v[0].text, "one\ntwo");
    cr_assert_str_eq(r.v[0].genre, "Pop");
    cr_assert_str_eq(r.v[0].artist, "A");
    cr_assert_str_eq(r.v[0].title, "T");
    cr_assert_eq(r.v[0].line, 1);
    cr_assert_eq(r.v[0].skip, PP_SKIP_NONE);
    cr_assert_str_eq(r.v[1].text, "three");
    cr_assert_str_eq(r.v[1].genre, "rock");
    cr_assert_eq(r.v[1].line, 4);
    cr_assert_eq(r.v[2].skip, PP_SKIP_MISSING_TEXT);
    cr_assert_eq(r.v[2].line, 5);
    cr_assert_eq(r.v[3].skip, PP_SKIP_MISSING_TEXT, "a non-string text is missing");
    cr_assert_eq(r.v[4].text_len, 10);
    ppt_recs_free(&r);
    pp_read_opts o = {.text_field = "TITLE"};
    r = READ_OK("s.jsonl", jl, &o, 5);
    cr_assert_str_eq(r.v[0].text, "T");
    cr_assert_str_eq(r.v[2].text, "no text");
    ppt_recs_free(&r);
}

Test(read, jsonl_invalid_line) {
    READ_ERR("bad.jsonl", "{\"lyrics\": \"ok\"}\n\n{\"lyrics\": \"unclosed}\n", NULL, ":3:", "invalid JSON");
    READ_ERR("arr.json", "{\"lyrics\": \"ok\"}\n[1, 2]\n", NULL, ":2:", "not a JSON object");
}

Test(read, jsonl_invalid_utf8_goes_to_the_cleaner) {
    ppt_recs r = READ_OK("u.jsonl", "{\"lyrics\": \"ab\xFF\"}\n{\"lyrics\": \"fine\"}\n", NULL, 2);
    pp_words w = {0};
    size_t bad = 0;
    cr_assert_eq(pp_clean_song(r.v[0].text, r.v[0].text_len, &w, &bad), PP_CLEAN_BAD_UTF8);
    cr_assert_eq(bad, 14);
    cr_assert_str_eq(r.v[1].text, "fine");
    pp_words_free(&w);
    ppt_recs_free(&r);
}

/* ---- text with boundaries ----------------------------------------------- */

Test(read, text_boundaries_and_genre_from_name) {
    ppt_recs r = READ_OK("rap.txt", "first song\nline two\n\n<SONG_BOUNDARY>\n"
                                "\n\nsecond\r\n<SONG_BOUNDARY>  \r\n"
                                "  <SONG_BOUNDARY> is not a boundary\n"
                                "<SONG_BOUNDARY>\n\n \n<SONG_BOUNDARY>\n<SONG_BOUNDARY>\n\n",
                     NULL, 3); /* blank chunks are not songs */
    cr_assert_str_eq(r.v[0].text, "first song\nline two\n\n");
    cr_assert_str_eq(r.v[0].genre, "rap");
    cr_assert_eq(r.v[0].line, 1);
    cr_assert_str_eq(r.v[1].text, "second\n");
    cr_assert_eq(r.v[1].line, 7);
    cr_assert_str_eq(r.v[2].text, "  <SONG_BOUNDARY> is not a boundary\n");
    cr_assert_eq(r.v[2].line, 9);
    ppt_recs_free(&r);
    pp_read_opts o = {.boundary = "=====", .text_genre = "Folk"};
    r = READ_OK("songs.lyrics.txt", "a\n=====\nb\n", &o, 2);
    cr_assert_str_eq(r.v[1].genre, "Folk");
    ppt_recs_free(&r);
    r = READ_OK("songs.lyrics.txt", "a\n=====\nb\n", NULL, 1);
    cr_assert_str_eq(r.v[0].genre, "songs.lyrics");
    ppt_recs_free(&r);
}

/* ---- format detection ----------------------------------------------------- */

Test(read, detect_format) {
    cr_assert_eq(pp_detect_format("x/a.CSV", NULL, 0), PP_FMT_CSV);
    cr_assert_eq(pp_detect_format("a.csv.zst", NULL, 0), PP_FMT_CSV);
    cr_assert_eq(pp_detect_format("a.jsonl", NULL, 0), PP_FMT_JSONL);
    cr_assert_eq(pp_detect_format("a.ndjson.zst", NULL, 0), PP_FMT_JSONL);
    cr_assert_eq(pp_detect_format("rap.txt.zst", NULL, 0), PP_FMT_TEXT);
    cr_assert_eq(pp_detect_format("data", NULL, 0), PP_FMT_AUTO);
    cr_assert_eq(pp_detect_format("data", " {\"a\":1}", 8), PP_FMT_JSONL);
    const char *h = "\xEF\xBB\xBF" "id,\"Lyrics\",x\n1,2,3";
    cr_assert_eq(pp_detect_format("data.zst", h, strlen(h)), PP_FMT_CSV);
    cr_assert_eq(pp_detect_format("data", "One, two, three\n", 16), PP_FMT_TEXT);
    pp_format f;
    cr_assert_eq(pp_format_parse("JSONL", &f), 0);
    cr_assert_eq(f, PP_FMT_JSONL);
    cr_assert_eq(pp_format_parse("yaml", &f), -1);
    cr_assert_str_eq(pp_format_name(PP_FMT_TEXT), "text");
}

Test(read, auto_detects_by_content) {
    ppt_recs r = READ_OK("nosuffix", "lyrics,genre\nx,Pop\n", NULL, 1);
    cr_assert_str_eq(r.v[0].text, "x");
    ppt_recs_free(&r);
    r = READ_OK("nosuffix2", "{\"lyrics\": \"y\"}\n", NULL, 1);
    cr_assert_str_eq(r.v[0].text, "y");
    ppt_recs_free(&r);
}

/* ---- .zst and multi-block files ------------------------------------------- */

/* A synthetic corpus of n songs in the given format, several MiB so that
 * records and lines straddle the 1 MiB read blocks. */
static char *make_corpus(const char *fmt, int n, size_t *len) {
    size_t cap = (size_t)n * 400 + 64, o = 0;
    char *b = malloc(cap);
    if (!strcmp(fmt, "csv")) o += (size_t)sprintf(b + o, "Lyrics,Genre\n");
    for (int i = 0; i < n; i++) {
        char song[320];
        int k = 0;
        for (int l = 0; l < 4 + i % 5; l++)
            k += sprintf(song + k, "%sword%d line %d of song %d", l ? "\n" : "", (i * 7 + l) % 97, l, i);
        if (!strcmp(fmt, "csv")) o += (size_t)sprintf(b + o, "\"%s\",G%d\n", song, i % 3);
        else if (!strcmp(fmt, "jsonl")) {
            for (char *s = song; (s = strchr(s, '\n')); ) *s = ' '; /* keep JSON simple */
            o += (size_t)sprintf(b + o, "{\"lyrics\": \"%s\", \"genre\": \"G%d\"}\n", song, i % 3);
        } else o += (size_t)sprintf(b + o, "%s\n<SONG_BOUNDARY>\n", song);
    }
    *len = o;
    return b;
}

static char *zst(const char *data, size_t len, size_t *zlen) {
    size_t cap = ZSTD_compressBound(len);
    char *z = malloc(cap);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    *zlen = ZSTD_compress2(c, z, cap, data, len);
    cr_assert(!ZSTD_isError(*zlen));
    ZSTD_freeCCtx(c);
    return z;
}

Test(read, zst_round_trip_multi_block) {
    const char *fmts[] = {"csv", "jsonl", "txt"};
    for (int f = 0; f < 3; f++) {
        size_t len, zlen;
        int n = 30000;
        char *data = make_corpus(fmts[f], n, &len);
        cr_assert_gt(len, (size_t)2 << 20, "fixture must span several blocks");
        char *z = zst(data, len, &zlen);
        char name[32], zname[32];
        sprintf(name, "g.%s", fmts[f]);
        sprintf(zname, "g.%s.zst", fmts[f]);
        ppt_recs a = read_ok(name, data, len, NULL, (size_t)n), b = read_ok(zname, z, zlen, NULL, (size_t)n);
        for (size_t i = 0; i < a.n; i++) {
            cr_assert_str_eq(a.v[i].text, b.v[i].text);
            cr_assert_eq(a.v[i].line, b.v[i].line);
            cr_assert_str_eq(a.v[i].genre, b.v[i].genre);
        }
        cr_assert_str_eq(b.v[n - 1].genre, f == 2 ? "g" : "G2");
        ppt_recs_free(&a);
        ppt_recs_free(&b);
        free(data);
        free(z);
    }
}

Test(read, zst_corrupt_truncated_and_empty) {
    size_t len, zlen;
    char *data = make_corpus("txt", 20000, &len);
    char *z = zst(data, len, &zlen);
    ppt_recs r = {0};
    lm_err e;
    z[zlen / 2] ^= 0x55;
    char *p = ppt_file(dir, "c.txt.zst", z, zlen);
    ASSERT_ERR(ppt_read(p, &DEF, &r, &e), e, p, "corrupt zstd data at byte");
    ppt_recs_free(&r);
    z[zlen / 2] ^= 0x55;
    char *q = ppt_file(dir, "t.txt.zst", z, zlen / 2);
    ASSERT_ERR(ppt_read(q, &DEF, &r, &e), e, q, "truncated zstd");
    ppt_recs_free(&r);
    READ_ERR("g.csv.zst", "this is not zstd at all", NULL, "corrupt zstd data at byte 0");
    READ_ERR("m.csv.zst", "", NULL, "empty file");
    size_t elen;
    char *ez = zst("", 0, &elen);
    char *n = ppt_file(dir, "n.jsonl.zst", ez, elen);
    ASSERT_ERR(ppt_read(n, &DEF, &r, &e), e, n, "empty file");
    free(data), free(z), free(ez);
    free(p), free(q), free(n);
}

Test(read, zst_text_genre_drops_both_extensions) {
    size_t zlen;
    char *z = zst("a song\n", 7, &zlen);
    ppt_recs r = read_ok("rap.txt.zst", z, zlen, NULL, 1);
    cr_assert_str_eq(r.v[0].genre, "rap");
    ppt_recs_free(&r);
    free(z);
}
