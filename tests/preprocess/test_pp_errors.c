/* test_pp_errors: bad input never crashes and never leaves output behind.
 * Per-file problems (malformed CSV, missing text column, empty file, a
 * directory with no usable file, missing or unreadable paths, corrupt .zst,
 * an existing output directory) stop the run with one line naming the file
 * (and line where it applies), and neither OUT nor OUT.tmp exists afterwards,
 * even when earlier files were already processed. Per-song problems
 * (invalid UTF-8) skip and count the song with a capped list of warnings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "pp_test_util.h"

static char *dir, *out, *out_tmp;
static void setup(void) {
    dir = ppt_tmpdir();
    out = ppt_path(dir, "corpus");
    out_tmp = ppt_path(dir, "corpus.tmp");
}
static void teardown(void) {
    ppt_rm_rf(dir);
    free(dir), free(out), free(out_tmp);
}
TestSuite(pp_errors, .init = setup, .fini = teardown, .timeout = 60);

static const char *GOOD = "lyrics,genre\n\"one two three four five six\",Pop\n";

/* Runs pp_run over the inputs and expects a failure whose message holds
 * want1 and want2 (either may be NULL), with nothing left behind. */
static void expect_fail(const char *const *in, int n, const char *want1, const char *want2) {
    pp_options o;
    ppt_options(&o, out, in, n);
    pp_summary s;
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, &s, &e), -1, "expected a failure");
    cr_assert(!want1 || strstr(e.msg, want1), "message '%s' lacks '%s'", e.msg, want1);
    cr_assert(!want2 || strstr(e.msg, want2), "message '%s' lacks '%s'", e.msg, want2);
    cr_assert_null(strchr(e.msg, '\n'), "one line: %s", e.msg);
    cr_assert(!ppt_exists(out), "OUT left behind");
    cr_assert(!ppt_exists(out_tmp), "OUT.tmp left behind");
}

static char *fixture(const char *name, const char *text) {
    char *p = ppt_path(dir, name);
    ppt_writes(p, text);
    return p;
}

Test(pp_errors, unterminated_quote_names_file_and_line) {
    char *good = fixture("a.csv", GOOD);
    char *bad = fixture("b.csv", "lyrics,genre\n\"fine song text here now\",Pop\n\"runaway quote,Pop\nmore\n");
    const char *in[] = {good, bad}; /* the good file is processed first */
    expect_fail(in, 2, "b.csv:3", "unterminated");
    free(good), free(bad);
}

Test(pp_errors, wrong_column_count) {
    char *bad = fixture("b.csv", "lyrics,genre\n\"one two three four five\",Pop,extra\n");
    const char *in[] = {bad};
    expect_fail(in, 1, "b.csv:2", "column");
    free(bad);
}

Test(pp_errors, missing_text_column) {
    char *bad = fixture("b.csv", "words,genre\n\"one two three four five\",Pop\n");
    const char *in[] = {bad};
    expect_fail(in, 1, "b.csv", "no text column");
    free(bad);
}

Test(pp_errors, empty_file) {
    char *bad = fixture("empty.csv", "");
    const char *in[] = {bad};
    expect_fail(in, 1, "empty.csv", "empty file");
    free(bad);
}

Test(pp_errors, directory_without_usable_files) {
    char *sub = ppt_path(dir, "docs"), *readme = ppt_path(sub, "README.md");
    cr_assert_eq(mkdir(sub, 0777), 0);
    ppt_writes(readme, "not lyrics");
    const char *in[] = {sub};
    expect_fail(in, 1, "docs", "no usable input file");
    free(sub), free(readme);
}

/* An empty directory lists no names at all (under LM_SANITIZE this caught
 * qsort(NULL, 0) in the directory walk). */
Test(pp_errors, empty_directory) {
    char *sub = ppt_path(dir, "nothing");
    cr_assert_eq(mkdir(sub, 0777), 0);
    const char *in[] = {sub};
    expect_fail(in, 1, "nothing", "no usable input file");
    free(sub);
}

Test(pp_errors, missing_and_unreadable_paths) {
    char *absent = ppt_path(dir, "absent.csv");
    const char *in[] = {absent};
    expect_fail(in, 1, "absent.csv", "No such file");
    char *link = ppt_path(dir, "dangling.csv");
    cr_assert_eq(symlink(absent, link), 0);
    const char *in2[] = {link};
    expect_fail(in2, 1, "dangling.csv", "No such file");
    char *locked = fixture("locked.csv", GOOD);
    chmod(locked, 0);
    const char *in3[] = {locked};
    if (geteuid() != 0) {
        expect_fail(in3, 1, "locked.csv", "Permission denied");
    } else { /* root reads it anyway: then it must simply work */
        pp_options o;
        ppt_options(&o, out, in3, 1);
        pp_summary s;
        lm_err e = {{0}};
        cr_assert_eq(pp_run(&o, &s, &e), 0, "%s", e.msg);
        cr_assert_eq(s.songs_kept, 1);
    }
    free(absent), free(link), free(locked);
}

Test(pp_errors, corrupt_zst_and_a_good_one) {
    char *bad = ppt_path(dir, "bad.csv.zst");
    size_t cap = ZSTD_compressBound(strlen(GOOD));
    char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, GOOD, strlen(GOOD), 3);
    cr_assert(!ZSTD_isError(zn));
    char *good = ppt_path(dir, "good.csv.zst");
    ppt_write(good, z, zn);
    z[0] ^= 0x5a; /* not a zstd frame any more */
    ppt_write(bad, z, zn);
    const char *in[] = {bad};
    expect_fail(in, 1, "bad.csv.zst", NULL);
    z[0] ^= 0x5a;
    ppt_write(bad, z, zn / 2); /* truncated inside the frame */
    expect_fail(in, 1, "bad.csv.zst", NULL);
    const char *in2[] = {good};
    pp_options o;
    ppt_options(&o, out, in2, 1);
    pp_summary s;
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.songs_kept, 1);
    free(z), free(bad), free(good);
}

Test(pp_errors, existing_output_or_leftover_tmp_without_force) {
    char *good = fixture("a.csv", GOOD);
    const char *in[] = {good};
    cr_assert_eq(mkdir(out_tmp, 0777), 0);
    pp_options o;
    ppt_options(&o, out, in, 1);
    pp_summary s;
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, "corpus.tmp") && strstr(e.msg, "--force"), "%s", e.msg);
    o.force = 1; /* a leftover of ours is cleared with --force */
    cr_assert_eq(pp_run(&o, &s, &e), 0, "%s", e.msg);
    cr_assert(!ppt_exists(out_tmp));
    o.force = 0;
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, out) && strstr(e.msg, "already exists"), "%s", e.msg);
    cr_assert(ppt_exists(out), "the existing corpus is untouched");
    free(good);
}

Test(pp_errors, no_song_kept_is_an_error) {
    char *bad = fixture("short.csv", "lyrics,genre\n\"too short\",Pop\n\"\",Rock\n");
    const char *in[] = {bad};
    expect_fail(in, 1, "no song kept out of 2", "too short 1");
    free(bad);
}

Test(pp_errors, bad_settings_are_refused_before_any_work) {
    char *good = fixture("a.csv", GOOD);
    const char *in[] = {good};
    pp_options o;
    pp_summary s;
    lm_err e = {{0}};
    ppt_options(&o, out, in, 1);
    o.val_fraction = 1.5;
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, "--val-fraction"), "%s", e.msg);
    ppt_options(&o, out, in, 1);
    o.unknown_genre = "<bad>";
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, "--unknown-genre"), "%s", e.msg);
    char *map = fixture("map.txt", "just words\n");
    ppt_options(&o, out, in, 1);
    o.genre_map = map;
    cr_assert_eq(pp_run(&o, &s, &e), -1);
    cr_assert(strstr(e.msg, "map.txt:1"), "%s", e.msg);
    cr_assert(!ppt_exists(out) && !ppt_exists(out_tmp));
    free(good), free(map);
}

typedef struct {
    int n;
    char last[1200], first[1200];
} warn_log;

static void on_warn(void *ctx, const char *msg) {
    warn_log *w = ctx;
    if (w->n++ == 0) snprintf(w->first, sizeof w->first, "%s", msg);
    snprintf(w->last, sizeof w->last, "%s", msg);
}

/* Runs pp_run (replacing OUT) over the inputs with warnings logged in w;
 * asserts success. */
static void run_warned(const char *const *in, int n, int max_warnings, warn_log *w, pp_summary *s) {
    pp_options o;
    ppt_options(&o, out, in, n);
    o.force = 1;
    o.max_warnings = max_warnings;
    o.warn = on_warn;
    o.warn_ctx = w;
    lm_err e = {{0}};
    cr_assert_eq(pp_run(&o, s, &e), 0, "%s", e.msg);
}

Test(pp_errors, invalid_utf8_songs_are_skipped_counted_and_warned_capped) {
    char *p = ppt_path(dir, "u.csv");
    FILE *f = fopen(p, "wb");
    fputs("lyrics,genre\n\"a fine song with words\",Pop\n", f);
    for (int i = 0; i < 30; i++) fprintf(f, "\"bad%d \xc3\x28 bytes in here\",Rock\n", i);
    fclose(f);
    const char *in[] = {p};
    warn_log w = {0};
    pp_summary s;
    run_warned(in, 1, 5, &w, &s);
    cr_assert_eq(s.skipped[PP_REASON_BAD_UTF8], 30);
    cr_assert_eq(s.songs_kept, 1);
    cr_assert_eq(w.n, 6);
    cr_assert(strstr(w.first, "u.csv:3:") && strstr(w.first, "invalid UTF-8 at byte 5"), "%s", w.first);
    cr_assert(strstr(w.last, "25 more"), "%s", w.last);
    free(p);
}

/* Runs the inputs with a warning log; expects `bad` songs skipped as invalid
 * UTF-8 and the first warning to name want (FILE:LINE) and the genre label. */
static void expect_bad_genres(const char *const *in, int n, uint64_t bad, uint64_t kept, const char *want) {
    warn_log w = {0};
    pp_summary s;
    run_warned(in, n, 20, &w, &s);
    cr_assert_eq(s.skipped[PP_REASON_BAD_UTF8], bad);
    cr_assert_eq(s.songs_kept, kept);
    cr_assert_eq(w.n, bad);
    cr_assert(strstr(w.first, want) && strstr(w.first, "invalid UTF-8 at byte 0 of the genre label; song skipped"),
              "%s", w.first);
    for (uint32_t g = 0; g < s.n_genres; g++)
        cr_assert(!strchr(s.genres[g], '\xc0'), "raw bytes became genre '%s'", s.genres[g]);
}

Test(pp_errors, invalid_utf8_genre_label_skips_the_song_in_every_format) {
    char *csv = ppt_path(dir, "g.csv"), *jsonl = ppt_path(dir, "g.jsonl");
    char *txt = ppt_path(dir, "\xc0\xafPop.txt"), *good = ppt_path(dir, "Rock.txt");
    ppt_writes(csv, "lyrics,genre\n\"one two three four five six\",Pop\n"
                    "\"seven eight nine ten eleven twelve\",\xc0\xafPop\n");
    const char *in_csv[] = {csv};
    expect_bad_genres(in_csv, 1, 1, 1, "g.csv:3: ");
    /* JSON cannot carry the bytes: jansson refuses the line, counted the same */
    ppt_writes(jsonl, "{\"lyrics\":\"one two three four five six\",\"genre\":\"Pop\"}\n"
                      "{\"lyrics\":\"seven eight nine ten eleven twelve\",\"genre\":\"\xc0\xafPop\"}\n");
    const char *in_jsonl[] = {jsonl};
    warn_log w = {0};
    pp_summary s;
    run_warned(in_jsonl, 1, 20, &w, &s);
    cr_assert_eq(s.skipped[PP_REASON_BAD_UTF8], 1);
    cr_assert(strstr(w.first, "g.jsonl:2: invalid UTF-8"), "%s", w.first);
    cr_assert_eq(s.n_genres, 1);
    /* text: the genre is the file's base name */
    ppt_writes(txt, "one two three four five six\n<SONG_BOUNDARY>\nseven eight nine ten eleven twelve\n");
    ppt_writes(good, "thirteen fourteen fifteen sixteen seventeen\n");
    const char *in_txt[] = {good, txt};
    expect_bad_genres(in_txt, 2, 2, 1, "Pop.txt:1: ");
    free(csv), free(jsonl), free(txt), free(good);
}
