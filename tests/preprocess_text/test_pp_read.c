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

static void setup(void) { tu_tmpdir(); }
static void teardown(void) { tu_rmdir(); }
TestSuite(read, .init = setup, .fini = teardown);

static const pp_read_opts DEF = {0};

#define ASSERT_ERR(rc, e, ...)                                                              \
    do {                                                                                    \
        cr_assert_eq((rc), -1, "expected an error, got %d", (rc));                          \
        const char *subs_[] = {__VA_ARGS__};                                                \
        for (size_t k_ = 0; k_ < sizeof subs_ / sizeof subs_[0]; k_++)                      \
            cr_assert(strstr((e).msg, subs_[k_]), "error \"%s\" lacks \"%s\"", (e).msg, subs_[k_]); \
    } while (0)

/* ---- CSV ---------------------------------------------------------------- */

Test(read, csv_multiline_quoted_fields) {
    char *p = TU_WRITE("a.csv", "Lyrics,Genre\n"
                                "\"line one\nline \"\"two\"\", with comma\n\nstanza\",Pop\n"
                                "plain,['Hip-Hop/Rap']\n"
                                "\n"
                                "\"last\",\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 3);
    cr_assert_str_eq(r.v[0].text, "line one\nline \"two\", with comma\n\nstanza");
    cr_assert_str_eq(r.v[0].genre, "Pop");
    cr_assert_eq(r.v[0].line, 2);
    cr_assert_str_eq(r.v[1].text, "plain");
    cr_assert_str_eq(r.v[1].genre, "['Hip-Hop/Rap']");
    cr_assert_eq(r.v[1].line, 6);
    cr_assert_str_eq(r.v[2].text, "last");
    cr_assert_null(r.v[2].genre, "an empty label is NULL");
    cr_assert_eq(r.v[2].line, 8, "blank lines count");
    cr_assert_null(r.v[0].artist);
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_extra_index_column) {
    char *p = TU_WRITE("idx.csv", ",Lyrics,Genre\n0,\"a\nb\",Rock\n1,c,Pop\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.v[0].text, "a\nb");
    cr_assert_str_eq(r.v[0].genre, "Rock");
    cr_assert_str_eq(r.v[1].text, "c");
    cr_assert_eq(r.v[1].line, 4);
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_header_case_insensitive_with_all_roles) {
    char *p = TU_WRITE("h.csv", "TITLE, Artist ,LYRICS,tag\nSong A,Band,words here,rock\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.v[0].text, "words here");
    cr_assert_str_eq(r.v[0].genre, "rock");
    cr_assert_str_eq(r.v[0].artist, "Band");
    cr_assert_str_eq(r.v[0].title, "Song A");
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_custom_fields) {
    char *p = TU_WRITE("c.csv", "id,Body,Style,lyrics\n1,the body,jazz,not this\n");
    pp_read_opts o = {.text_field = "body", .genre_field = "STYLE"};
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &o, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.v[0].text, "the body");
    cr_assert_str_eq(r.v[0].genre, "jazz");
    tu_recs_free(&r);
    pp_read_opts bad = {.text_field = "verses"};
    ASSERT_ERR(tu_read(p, &bad, &r, &e), e, p, "no column 'verses'");
    pp_read_opts badg = {.genre_field = "mood"};
    ASSERT_ERR(tu_read(p, &badg, &r, &e), e, "no column 'mood'");
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_crlf_and_bom) {
    char *p = TU_WRITE("w.csv", "\xEF\xBB\xBFLyrics,Genre\r\n\"a\r\nb\",Pop\r\nc,Rock\r\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.v[0].text, "a\r\nb");
    cr_assert_str_eq(r.v[0].genre, "Pop");
    cr_assert_str_eq(r.v[1].genre, "Rock");
    cr_assert_eq(r.v[1].line, 4);
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_wrong_column_count_names_line) {
    char *p = TU_WRITE("bad.csv", "Lyrics,Genre\n\"x\ny\",Pop\nz,Rock,extra\n");
    recs r = {0};
    lm_err e;
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, ":4:", "3 fields", "header has 2");
    cr_assert_eq(r.n, 1, "records before the bad row were delivered");
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_unterminated_quote) {
    char *p = TU_WRITE("open.csv", "Lyrics,Genre\nfine,Pop\n\"never\nclosed,Rock\n");
    recs r = {0};
    lm_err e;
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, ":3:", "unterminated");
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_stray_quote_is_malformed) {
    char *p = TU_WRITE("q.csv", "Lyrics,Genre\nok,Pop\n\"a\nb\"c,Rock\n");
    recs r = {0};
    lm_err e;
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, ":4:", "malformed CSV");
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_missing_text_column) {
    char *p = TU_WRITE("nt.csv", "Title,Genre\nx,Pop\n");
    recs r = {0};
    lm_err e;
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, "no text column");
    cr_assert_eq(r.n, 0);
    tu_recs_free(&r);
    free(p);
}

Test(read, csv_header_only_has_no_records) {
    char *p = TU_WRITE("ho.csv", "Lyrics,Genre\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 0);
    free(p);
}

/* ---- files and sources ---------------------------------------------------- */

Test(read, empty_file) {
    char *p = TU_WRITE("empty.csv", "");
    char *q = TU_WRITE("bom.txt", "\xEF\xBB\xBF");
    recs r = {0};
    lm_err e;
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, "empty file");
    ASSERT_ERR(tu_read(q, &DEF, &r, &e), e, q, "empty file");
    free(p);
    free(q);
}

Test(read, missing_file_and_directory) {
    recs r = {0};
    lm_err e;
    char path[512];
    snprintf(path, sizeof path, "%s/nope.csv", tu_tmpdir());
    ASSERT_ERR(tu_read(path, &DEF, &r, &e), e, path, "No such file or directory");
    char *d = TU_WRITE("x", "");
    *strrchr(d, '/') = 0;
    ASSERT_ERR(tu_read(d, &DEF, &r, &e), e, d, "Is a directory");
    free(d);
}

Test(read, callback_stop_value_is_returned) {
    char *p = TU_WRITE("s.csv", "Lyrics\na\nb\nc\n");
    recs r = {.stop_after = 2};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 7);
    cr_assert_eq(r.n, 2);
    tu_recs_free(&r);
    free(p);
}

/* ---- JSON Lines ----------------------------------------------------------- */

Test(read, jsonl_records_and_skips) {
    char *p = TU_WRITE("s.jsonl",
                       "{\"lyrics\": \"one\\ntwo\", \"genre\": \"Pop\", \"artist\": \"A\", \"title\": \"T\"}\n"
                       "\n"
                       "   \r\n"
                       "{\"Text\": \"three\", \"tags\": [\"rock\", \"pop\"]}\r\n"
                       "{\"title\": \"no text\"}\n"
                       "{\"lyrics\": 42, \"genre\": \"Pop\"}\n"
                       "{\"content\": \"nul\\u0000inside\"}");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 5);
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
    tu_recs_free(&r);
    pp_read_opts o = {.text_field = "TITLE"};
    cr_assert_eq(tu_read(p, &o, &r, &e), 0, "%s", e.msg);
    cr_assert_str_eq(r.v[0].text, "T");
    cr_assert_str_eq(r.v[2].text, "no text");
    tu_recs_free(&r);
    free(p);
}

Test(read, jsonl_invalid_line) {
    char *p = TU_WRITE("bad.jsonl", "{\"lyrics\": \"ok\"}\n\n{\"lyrics\": \"unclosed}\n");
    char *q = TU_WRITE("arr.json", "{\"lyrics\": \"ok\"}\n[1, 2]\n");
    recs r = {0};
    lm_err e;
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, ":3:", "invalid JSON");
    cr_assert_eq(r.n, 1);
    ASSERT_ERR(tu_read(q, &DEF, &r, &e), e, q, ":2:", "not a JSON object");
    tu_recs_free(&r);
    free(p);
    free(q);
}

Test(read, jsonl_invalid_utf8_goes_to_the_cleaner) {
    char *p = TU_WRITE("u.jsonl", "{\"lyrics\": \"ab\xFF\"}\n{\"lyrics\": \"fine\"}\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 2);
    pp_words w = {0};
    size_t bad = 0;
    cr_assert_eq(pp_clean_song(r.v[0].text, r.v[0].text_len, &w, &bad), PP_CLEAN_BAD_UTF8);
    cr_assert_eq(bad, 14);
    cr_assert_str_eq(r.v[1].text, "fine");
    pp_words_free(&w);
    tu_recs_free(&r);
    free(p);
}

/* ---- text with boundaries ----------------------------------------------- */

Test(read, text_boundaries_and_genre_from_name) {
    char *p = TU_WRITE("rap.txt", "first song\nline two\n\n<SONG_BOUNDARY>\n"
                                  "\n\nsecond\r\n<SONG_BOUNDARY>  \r\n"
                                  "  <SONG_BOUNDARY> is not a boundary\n"
                                  "<SONG_BOUNDARY>\n\n \n<SONG_BOUNDARY>\n<SONG_BOUNDARY>\n\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 3, "blank chunks are not songs");
    cr_assert_str_eq(r.v[0].text, "first song\nline two\n\n");
    cr_assert_str_eq(r.v[0].genre, "rap");
    cr_assert_eq(r.v[0].line, 1);
    cr_assert_str_eq(r.v[1].text, "second\n");
    cr_assert_eq(r.v[1].line, 7);
    cr_assert_str_eq(r.v[2].text, "  <SONG_BOUNDARY> is not a boundary\n");
    cr_assert_eq(r.v[2].line, 9);
    tu_recs_free(&r);
    pp_read_opts o = {.boundary = "=====", .text_genre = "Folk"};
    char *q = TU_WRITE("songs.lyrics.txt", "a\n=====\nb\n");
    cr_assert_eq(tu_read(q, &o, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.v[1].genre, "Folk");
    tu_recs_free(&r);
    cr_assert_eq(tu_read(q, &DEF, &r, &e), 0);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.v[0].genre, "songs.lyrics");
    tu_recs_free(&r);
    free(p);
    free(q);
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
    char *p = TU_WRITE("nosuffix", "lyrics,genre\nx,Pop\n");
    char *q = TU_WRITE("nosuffix2", "{\"lyrics\": \"y\"}\n");
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(tu_read(q, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.v[0].text, "x");
    cr_assert_str_eq(r.v[1].text, "y");
    tu_recs_free(&r);
    free(p);
    free(q);
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
        char *p = tu_write(name, data, len), *q = tu_write(zname, z, zlen);
        recs a = {0}, b = {0};
        lm_err e;
        cr_assert_eq(tu_read(p, &DEF, &a, &e), 0, "%s", e.msg);
        cr_assert_eq(tu_read(q, &DEF, &b, &e), 0, "%s", e.msg);
        cr_assert_eq(a.n, (size_t)n, "%s: %zu records", fmts[f], a.n);
        cr_assert_eq(b.n, a.n);
        for (size_t i = 0; i < a.n; i++) {
            cr_assert_str_eq(a.v[i].text, b.v[i].text);
            cr_assert_eq(a.v[i].line, b.v[i].line);
            cr_assert_str_eq(a.v[i].genre, b.v[i].genre);
        }
        cr_assert_str_eq(b.v[n - 1].genre, f == 2 ? "g" : "G2");
        tu_recs_free(&a);
        tu_recs_free(&b);
        free(data);
        free(z);
        free(p);
        free(q);
    }
}

Test(read, zst_corrupt_truncated_and_empty) {
    size_t len, zlen;
    char *data = make_corpus("txt", 20000, &len);
    char *z = zst(data, len, &zlen);
    recs r = {0};
    lm_err e;
    z[zlen / 2] ^= 0x55;
    char *p = tu_write("c.txt.zst", z, zlen);
    ASSERT_ERR(tu_read(p, &DEF, &r, &e), e, p, "corrupt zstd data at byte");
    tu_recs_free(&r);
    z[zlen / 2] ^= 0x55;
    char *q = tu_write("t.txt.zst", z, zlen / 2);
    ASSERT_ERR(tu_read(q, &DEF, &r, &e), e, q, "truncated zstd");
    tu_recs_free(&r);
    char *g = TU_WRITE("g.csv.zst", "this is not zstd at all");
    ASSERT_ERR(tu_read(g, &DEF, &r, &e), e, g, "corrupt zstd data at byte 0");
    char *m = TU_WRITE("m.csv.zst", "");
    ASSERT_ERR(tu_read(m, &DEF, &r, &e), e, m, "empty file");
    size_t elen;
    char *ez = zst("", 0, &elen);
    char *n = tu_write("n.jsonl.zst", ez, elen);
    ASSERT_ERR(tu_read(n, &DEF, &r, &e), e, n, "empty file");
    free(data), free(z), free(ez);
    free(p), free(q), free(g), free(m), free(n);
}

Test(read, zst_text_genre_drops_both_extensions) {
    size_t zlen;
    char *z = zst("a song\n", 7, &zlen);
    char *p = tu_write("rap.txt.zst", z, zlen);
    recs r = {0};
    lm_err e;
    cr_assert_eq(tu_read(p, &DEF, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.v[0].genre, "rap");
    tu_recs_free(&r);
    free(z);
    free(p);
}
