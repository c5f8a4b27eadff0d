/* make_corpus: the synthetic lyrics corpus of the preprocess scale benchmark
 * (scripts/bench-preprocess.sh, docs/benchmarks.md), a test fixture rather
 * than part of lyricmind:
 *
 *   make_corpus --from PATH --out FILE.csv [--songs N] [--seed S]
 *
 * learns an order-2 word Markov model per canonical genre from the real
 * corpus at PATH (any preprocess input; required: there is no default) and
 * writes N songs (default 100000) as CSV with columns lyrics,genre; the same
 * corpus and seed give the same bytes. The file is written to FILE.tmp.<pid>
 * and renamed at the end; one JSON line on stdout says what was written. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_markov.h"
#include "io_json.h"
#include "lm_sys.h"

#define USAGE                                                                                       \
    "usage: make_corpus --from PATH --out FILE.csv [--songs N] [--seed S]\n\n"                       \
    "Grows a synthetic lyrics corpus (CSV: lyrics,genre) from a real one with a seeded order-2\n"    \
    "word Markov sampler per genre; song lengths follow the real distribution. The same corpus\n"   \
    "and seed give the same file.\n\n"                                                              \
    "  --from PATH   real corpus to learn from (any preprocess input; required)\n"                  \
    "  --out FILE    CSV file to write (keep large ones out of the repository, e.g. /tmp)\n"        \
    "  --songs N     number of synthetic songs (default 100000)\n"                                  \
    "  --seed S      sampler seed (default 1)\n"

typedef struct mc_args {
    long songs, seed;
    const char *out, *from;
} mc_args;

/* Reads a whole decimal long in [lo, hi] into *v; -1 with a message if not. */
static int parse_long(const char *flag, const char *s, long lo, long hi, long *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "make_corpus: %s: '%s' is not an integer in [%ld, %ld]\n", flag, s, lo, hi);
        return -1;
    }
    *v = x;
    return 0;
}

/* Takes one "--flag VALUE" or "--flag=VALUE" at argv[*i]; -1 if it is bad. */
static int parse_flag(int argc, char **argv, int *i, mc_args *a) {
    const char *arg = argv[*i], *eq = strchr(arg, '='), *val;
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    static const char *const flags[] = {"--songs", "--seed", "--out", "--from"};
    int f = 0;
    while (f < 4 && !(strlen(flags[f]) == n && !strncmp(arg, flags[f], n))) f++;
    if (f == 4) return fprintf(stderr, "make_corpus: unknown flag %s (see make_corpus --help)\n", arg), -1;
    if (eq) val = eq + 1;
    else if (*i + 1 < argc) val = argv[++*i];
    else return fprintf(stderr, "make_corpus: %s needs a value\n", flags[f]), -1;
    if (f == 0) return parse_long("--songs", val, 1, 1000000000000L, &a->songs);
    if (f == 1) return parse_long("--seed", val, LONG_MIN, LONG_MAX, &a->seed);
    *(f == 2 ? &a->out : &a->from) = val;
    return 0;
}

/* 0 to go on, 1 after --help, -1 on a bad command line (message printed). */
static int parse_args(int argc, char **argv, mc_args *a) {
    *a = (mc_args){.songs = 100000, .seed = 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return fputs(USAGE, stdout), 1;
        if (parse_flag(argc, argv, &i, a)) return -1;
    }
    if (!a->out) return fprintf(stderr, "make_corpus: --out FILE is required\n"), -1;
    if (!a->from) /* no default: a path relative to wherever one stands is a guess */
        return fprintf(stderr, "make_corpus: --from PATH is required: the real lyrics to learn from "
                               "(e.g. --from ../shared/data/lyrics)\n"), -1;
    return 0;
}

/* Writes one CSV field in double quotes, doubling quotes inside. */
static void csv_field(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (const char *q; n && (q = memchr(s, '"', n)) != NULL; n -= (size_t)(q + 1 - s), s = q + 1) {
        fwrite(s, 1, (size_t)(q + 1 - s), f);
        fputc('"', f);
    }
    fwrite(s, 1, n, f);
    fputc('"', f);
}

/* Samples the songs into f in batches; -1 when out of memory. */
static int write_songs(FILE *f, const bench_markov *m, const mc_args *a) {
    bench_song song[BENCH_MARKOV_BATCH] = {{0}};
    int rc = 0;
    fputs("lyrics,genre\n", f);
    for (long i = 0; i < a->songs && rc == 0; i += BENCH_MARKOV_BATCH) {
        int n = a->songs - i < BENCH_MARKOV_BATCH ? (int)(a->songs - i) : BENCH_MARKOV_BATCH;
        if (bench_markov_sample_batch(m, (uint64_t)a->seed, (uint64_t)i, n, song)) {
            fprintf(stderr, "make_corpus: out of memory\n");
            rc = -1;
            break;
        }
        for (int k = 0; k < n; k++) {
            csv_field(f, song[k].buf, song[k].len);
            fprintf(f, ",%s\n", song[k].genre);
        }
    }
    for (int k = 0; k < BENCH_MARKOV_BATCH; k++) free(song[k].buf);
    return rc;
}

/* Writes the corpus to a temporary file renamed to a->out at the end. */
static int write_corpus(const bench_markov *m, const mc_args *a) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", a->out, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return fprintf(stderr, "make_corpus: %s: cannot create: %s\n", tmp, strerror(errno)), -1;
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    int rc = write_songs(f, m, a);
    if (fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "make_corpus: %s: write failed: %s\n", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, a->out) != 0) {
        fprintf(stderr, "make_corpus: %s: cannot rename: %s\n", a->out, strerror(errno));
        rc = -1;
    }
    if (rc) unlink(tmp);
    return rc;
}

/* The result line (the fields of the former 'lyricmind bench corpus'). */
static void print_result(const bench_markov *m, const mc_args *a, double t_learn, double wall) {
    FILE *g = fopen(a->out, "rb");
    long long bytes = -1;
    if (g && fseek(g, 0, SEEK_END) == 0) bytes = (long long)ftell(g);
    if (g) fclose(g);
    io_json_write_line(stdout, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "bench", "corpus",
                                         "songs", (json_int_t)a->songs, "seed", (json_int_t)a->seed, "bytes",
                                         (json_int_t)bytes, "learnt_songs", (json_int_t)bench_markov_songs(m),
                                         "raw_word_types", (json_int_t)bench_markov_words(m), "learn_s",
                                         io_json_real(t_learn), "wall_s", io_json_real(wall), "out",
                                         io_json_str(a->out)));
}

int main(int argc, char **argv) {
    mc_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc > 0 ? 0 : 2;
    double t0 = lm_sys_now();
    lm_err e = {{0}};
    bench_markov *m = bench_markov_learn(a.from, &e);
    if (!m) return fprintf(stderr, "make_corpus: %s\n", e.msg), 1;
    double t_learn = lm_sys_now() - t0;
    rc = write_corpus(m, &a);
    if (rc == 0) print_result(m, &a, t_learn, lm_sys_now() - t0);
    bench_markov_free(m);
    return rc ? 1 : 0;
}
