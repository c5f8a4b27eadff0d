/* bench_pp_clean: single-thread throughput of the readers and of
 * pp_clean_song (fast path and the whole-text utf8proc reference) on real
 * files. Prints figures; asserts nothing about time.
 *
 *   build-x/tests/preprocess/bench_pp_clean [FILE...]
 *
 * Without arguments it reads the 12 shared corpus files under
 * LM_SHARED_DATA/lyrics. Songs are loaded into memory first, then cleaned
 * 5 times; the best pass is reported, in thread CPU time (robust on a busy
 * machine) and wall time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pp_clean_int.h"
#include "pp_read.h"

typedef struct songs {
    char *text;          /* all songs back to back */
    size_t len, cap;
    size_t *off;         /* song i = text[off[i] .. off[i+1]) */
    size_t n, ncap;
} songs;

static int keep(const pp_record *r, void *ctx) {
    songs *s = ctx;
    if (s->len + r->text_len > s->cap) {
        while (s->len + r->text_len > s->cap) s->cap = s->cap ? 2 * s->cap : 1 << 20;
        if (!(s->text = realloc(s->text, s->cap))) return 1;
    }
    if (s->n + 2 > s->ncap) {
        s->ncap = s->ncap ? 2 * s->ncap : 1024;
        if (!(s->off = realloc(s->off, s->ncap * sizeof *s->off))) return 1;
    }
    if (s->n == 0) s->off[0] = 0;
    memcpy(s->text + s->len, r->text, r->text_len);
    s->len += r->text_len;
    s->off[++s->n] = s->len;
    return 0;
}

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef int (*clean_fn)(const char *, size_t, pp_words *, size_t *);

static void run(const char *name, clean_fn fn, const songs *s) {
    pp_words w = {0};
    double best_cpu = 1e30, best_wall = 1e30;
    size_t words = 0, bad = 0;
    for (int rep = 0; rep < 5; rep++) {
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        words = bad = 0;
        for (size_t i = 0; i < s->n; i++) {
            size_t off;
            if (fn(s->text + s->off[i], s->off[i + 1] - s->off[i], &w, &off) != PP_CLEAN_OK) bad++;
            words += w.n_words;
        }
        double c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0, wl = clock_s(CLOCK_MONOTONIC) - w0;
        if (c < best_cpu) best_cpu = c;
        if (wl < best_wall) best_wall = wl;
    }
    printf("%-28s %7.1f MB/s cpu  %7.1f MB/s wall  (%zu words, %zu invalid UTF-8)\n", name,
           (double)s->len / 1e6 / best_cpu, (double)s->len / 1e6 / best_wall, words, bad);
    pp_words_free(&w);
}

int main(int argc, char **argv) {
    static const char *corpus[] = {
        "genius-8genre/a-resample1-test.csv", "genius-8genre/a-resample1-validation.csv",
        "genius-8genre/a-test-v0.csv", "genius-8genre/a-test-v1-indexed.csv",
        "genius-8genre/a-test.csv", "genius-8genre/a-validation.csv", "genius-8genre/b-test.csv",
        "genius-8genre/b-validation.csv", "nltk-4genre/country.txt", "nltk-4genre/pop.txt",
        "nltk-4genre/rap.txt", "nltk-4genre/rock.txt",
    };
    int nfiles = argc > 1 ? argc - 1 : (int)(sizeof corpus / sizeof corpus[0]);
    songs s = {0};
    double file_bytes = 0, c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < nfiles; i++) {
        char path[1024];
        if (argc > 1) snprintf(path, sizeof path, "%s", argv[i + 1]);
        else snprintf(path, sizeof path, "%s/lyrics/%s", LM_SHARED_DATA, corpus[i]);
        lm_err e;
        if (pp_read_file(path, NULL, keep, &s, &e) != 0) {
            fprintf(stderr, "bench_pp_clean: %s\n", e.msg);
            return 1;
        }
        struct stat st;
        if (stat(path, &st) == 0) file_bytes += (double)st.st_size;
    }
    double rc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    size_t ascii = 0;
    for (size_t i = 0; i < s.n; i++) ascii += pp_utf8_is_ascii(s.text + s.off[i], s.off[i + 1] - s.off[i]);
    printf("%d files, %.1f MB, %zu songs (%.1f%% pure ASCII), %.1f MB of song text\n", nfiles,
           file_bytes / 1e6, s.n, 100.0 * (double)ascii / (double)(s.n ? s.n : 1), (double)s.len / 1e6);
    printf("%-28s %7.1f MB/s cpu  (file bytes, incl. copying the songs)\n", "read", file_bytes / 1e6 / rc);
    run("pp_clean_song", pp_clean_song, &s);
    run("pp_clean_song_ref (utf8proc)", pp_clean_song_ref, &s);
    free(s.text);
    free(s.off);
    return 0;
}
