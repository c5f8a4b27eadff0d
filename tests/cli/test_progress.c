/* test_progress: the progress display shared by train and eval (jobs/
 * progress.h): lines with done/total, percent and an ETA when redirected,
 * a redrawn line on a terminal, one line per finished phase, nothing when
 * silenced or not yet due, and the LYRICMIND_PROGRESS modes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

/* Everything written to f so far (malloc'd). */
static char *contents(FILE *f) {
    fflush(f);
    long n = ftell(f);
    char *s = calloc((size_t)n + 1, 1);
    rewind(f);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

Test(progress, lines_show_done_total_percent_and_eta_then_a_final_line) {
    FILE *f = tmpfile();
    progress p;
    progress_init(&p, f, 0, 0.0, "eval");
    progress_begin(&p, "generation", 4, "songs");
    progress_update(&p, 2);
    progress_end(&p);
    char *s = contents(f);
    cr_assert(strstr(s, "eval: generation 2/4 songs (50.0%)  ETA 0m0") == s, "%s", s);
    char *end = strstr(s, "\neval: generation done: 4 songs in ");
    cr_assert(end && strstr(end, " s\n"), "%s", s);
    cr_assert(!strchr(s, '\r'), "%s", s);
    free(s);
    fclose(f);
}

Test(progress, terminal_line_is_redrawn_and_wiped_at_the_end) {
    FILE *f = tmpfile();
    progress p;
    progress_init(&p, f, 1, 5.0, "eval");
    progress_begin(&p, "perplexity", 10, "windows");
    p.last -= 1.0; /* a terminal line is due every 0.2 s */
    progress_update(&p, 5);
    progress_end(&p);
    char *s = contents(f);
    cr_assert(!strncmp(s, "\r\033[Keval: perplexity 5/10 windows (50.0%)  ETA ", 45), "%s", s);
    cr_assert(strstr(s, "\r\033[Keval: perplexity done: 10 windows in "), "%s", s);
    cr_assert_eq(strchr(s, '\n'), s + strlen(s) - 1, "only the final line ends in a newline: %s", s);
    free(s);
    fclose(f);
}

Test(progress, nothing_before_due_nor_when_silent) {
    FILE *f = tmpfile();
    progress p;
    progress_init(&p, f, 0, 1000.0, "eval");
    progress_begin(&p, "x", 3, "songs");
    progress_update(&p, 1);
    char *s = contents(f);
    cr_assert_str_eq(s, "");
    free(s);
    progress_init(&p, NULL, 0, 0.0, "eval");
    progress_begin(&p, "x", 3, "songs");
    progress_update(&p, 1);
    progress_end(&p);
    progress_begin(NULL, "x", 3, "songs");
    progress_update(NULL, 1);
    progress_end(NULL);
    fclose(f);
}

Test(progress, durations_and_modes) {
    char b[32];
    progress_fmt_duration(b, sizeof b, 3725);
    cr_assert_str_eq(b, "1h02m");
    progress_fmt_duration(b, sizeof b, 187);
    cr_assert_str_eq(b, "3m07s");
    progress_fmt_duration(b, sizeof b, NAN);
    cr_assert_str_eq(b, "?");
    int tty = -1;
    char err[128] = "";
    setenv("LYRICMIND_PROGRESS", "bar", 1);
    cr_assert_eq(progress_mode(STDERR_FILENO, 1, &tty, err, sizeof err), 0);
    cr_assert_eq(tty, 1);
    setenv("LYRICMIND_PROGRESS", "lines", 1);
    cr_assert_eq(progress_mode(STDERR_FILENO, 0, &tty, err, sizeof err), 0);
    cr_assert_eq(tty, 0);
    setenv("LYRICMIND_PROGRESS", "auto", 1);
    cr_assert_eq(progress_mode(STDERR_FILENO, 1, &tty, err, sizeof err), 0);
    cr_assert_eq(tty, 0, "under a launcher: lines");
    setenv("LYRICMIND_PROGRESS", "fancy", 1);
    cr_assert_eq(progress_mode(STDERR_FILENO, 0, &tty, err, sizeof err), -1);
    cr_assert(strstr(err, "LYRICMIND_PROGRESS") && strstr(err, "'fancy'"), "%s", err);
    unsetenv("LYRICMIND_PROGRESS");
}
