/* bench_preprocess: the preprocess scale benchmark.
 *
 *   bench corpus      grows a synthetic CSV corpus (columns lyrics,genre) of
 *                     N songs from a real one (bench_markov.c); deterministic
 *                     for a seed. Written to FILE.tmp.<pid>, renamed at the end.
 *   bench preprocess  runs the whole preprocess pipeline on a corpus into a
 *                     temporary directory (removed afterwards) and prints one
 *                     JSON line: songs_per_s, mb_per_s, wall_s, peak_rss_mb...
 *
 * Measurements, not tests: nothing compares a figure with a target. Peak RSS
 * is the process's getrusage high-water mark, so it counts everything. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_markov.h"
#include "cli.h"
#include "cmds.h"
#include "io_json.h"
#include "lm_sys.h"
#include "pp.h"

/* Parses the flags; -1 to go on, else the exit code (help, a bad flag, or the
 * required flag `need` left unset, i.e. *need_value still NULL). */
static int parse_or_exit(cli_cmd *cmd, int argc, char **argv, const char *need, const char *const *need_value) {
    int rc = cli_parse(cmd, argc, argv, NULL, 0, NULL);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    if (!*need_value) return cli_error(cmd, "%s is required", need), LM_EXIT_USAGE;
    return -1;
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

int bench_corpus_main(int argc, char **argv) {
    long songs = 100000, seed = 1;
    const char *out = NULL, *from = NULL;
    cli_opt opts[] = {
        {"songs", CLI_LONG, &songs, "N", "number of synthetic songs", 1, 1e12, 0},
        {"out", CLI_STR, &out, "FILE", "CSV file to write (keep large ones out of the repository, e.g. /tmp)", 0, 0, 0},
        {"seed", CLI_LONG, &seed, "S", "sampler seed (same corpus + seed = same file)", 0, 0, 0},
        {"from", CLI_STR, &from, "DIR", "real corpus to learn from (any preprocess input; required)", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"bench corpus", "--songs N --from DIR --out FILE.csv [--seed S]",
                   "Grows a synthetic lyrics corpus from a real one with a seeded order-2 word Markov "
                   "sampler per genre; song lengths follow the real distribution.",
                   opts};
    int rc = parse_or_exit(&cmd, argc, argv, "--out FILE", &out);
    if (rc >= 0) return rc;
    if (!from) /* no default: a path relative to wherever one stands is a guess */
        return cli_error(&cmd, "--from DIR is required: the real lyrics to learn from (e.g. --from "
                               "../shared/data/lyrics)"), LM_EXIT_USAGE;
    double t0 = lm_sys_now();
    lm_err e = {{0}};
    bench_markov *m = bench_markov_learn(from, &e);
    if (!m) {
        fprintf(stderr, "lyricmind bench corpus: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    double t_learn = lm_sys_now() - t0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "lyricmind bench corpus: %s: cannot create: %s\n", tmp, strerror(errno));
        bench_markov_free(m);
        return LM_EXIT_FAILURE;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    fputs("lyrics,genre\n", f);
    bench_song song[BENCH_MARKOV_BATCH] = {{0}};
    rc = LM_EXIT_OK;
    for (long i = 0; i < songs && rc == LM_EXIT_OK; i += BENCH_MARKOV_BATCH) {
        int n = songs - i < BENCH_MARKOV_BATCH ? (int)(songs - i) : BENCH_MARKOV_BATCH;
        if (bench_markov_sample_batch(m, (uint64_t)seed, (uint64_t)i, n, song)) {
            fprintf(stderr, "lyricmind bench corpus: out of memory\n");
            rc = LM_EXIT_FAILURE;
            break;
        }
        for (int k = 0; k < n; k++) {
            csv_field(f, song[k].buf, song[k].len);
            fprintf(f, ",%s\n", song[k].genre);
        }
    }
    if (fclose(f) != 0 && rc == LM_EXIT_OK) {
        fprintf(stderr, "lyricmind bench corpus: %s: write failed: %s\n", tmp, strerror(errno));
        rc = LM_EXIT_FAILURE;
    }
    if (rc == LM_EXIT_OK && rename(tmp, out) != 0) {
        fprintf(stderr, "lyricmind bench corpus: %s: cannot rename: %s\n", out, strerror(errno));
        rc = LM_EXIT_FAILURE;
    }
    if (rc != LM_EXIT_OK) unlink(tmp);
    else {
        FILE *g = fopen(out, "rb");
        long long bytes = -1;
        if (g && fseek(g, 0, SEEK_END) == 0) bytes = (long long)ftell(g);
        if (g) fclose(g);
        io_json_write_line(stdout, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "bench", "corpus",
                                             "songs", (json_int_t)songs, "seed", (json_int_t)seed, "bytes",
                                             (json_int_t)bytes, "learnt_songs", (json_int_t)bench_markov_songs(m),
                                             "raw_word_types", (json_int_t)bench_markov_words(m), "learn_s",
                                             io_json_real(t_learn), "wall_s", io_json_real(lm_sys_now() - t0), "out",
                                             io_json_str(out)));
    }
    for (int k = 0; k < BENCH_MARKOV_BATCH; k++) free(song[k].buf);
    bench_markov_free(m);
    return rc;
}

/* The result line of bench preprocess. */
static json_t *preprocess_json(const char *input, const pp_summary *s, const struct rusage *ru) {
    double mb = (double)s->bytes / 1e6;
    return json_pack("{s:s, s:o, s:i, s:I, s:I, s:I, s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "bench", "preprocess", "input", io_json_str(input), "threads", s->threads, "bytes",
                     (json_int_t)s->bytes, "songs", (json_int_t)s->songs_read, "songs_kept",
                     (json_int_t)s->songs_kept, "tokens", (json_int_t)(s->train_tokens + s->val_tokens),
                     "vocab_size", (int)s->vocab_size, "wall_s", io_json_real(s->wall_s), "pass1_s",
                     io_json_real(s->pass1_s), "vocab_s", io_json_real(s->vocab_s), "pass2_s",
                     io_json_real(s->pass2_s), "songs_per_s", io_json_real((double)s->songs_read / s->wall_s),
                     "mb_per_s", io_json_real(mb / s->wall_s), "peak_rss_mb",
                     io_json_real(lm_sys_peak_rss_mb()), "user_s",
                     io_json_real((double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec), "sys_s",
                     io_json_real((double)ru->ru_stime.tv_sec + 1e-6 * (double)ru->ru_stime.tv_usec));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int bench_preprocess_main(int argc, char **argv) {
    const char *input = NULL, *tmpdir = NULL, *format = "auto";
    int threads = 2, keep = 0;
    long vocab = 50000;
    cli_opt opts[] = {
        {"input", CLI_STR, &input, "PATH", "corpus file or directory to preprocess", 0, 0, 0},
        {"threads", CLI_INT, &threads, "N", "preprocess --threads (0: all cores)", 0, 255, 0},
        {"vocab-size", CLI_LONG, &vocab, "N", "preprocess --vocab-size", 8, 65536, 0},
        {"format", CLI_STR, &format, "FMT", "preprocess --format", 0, 0, 0},
        {"tmp", CLI_STR, &tmpdir, "DIR", "where the temporary corpus directory goes (default $TMPDIR or /tmp)", 0, 0, 0},
        {"keep", CLI_BOOL, &keep, NULL, "keep the output directory and print its path", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"bench preprocess", "--input PATH [--threads N] [options]",
                   "Preprocesses a corpus into a temporary directory and prints one JSON line with "
                   "songs_per_s, mb_per_s, wall_s and peak_rss_mb (the whole process's high-water mark).",
                   opts};
    int rc = parse_or_exit(&cmd, argc, argv, "--input PATH", &input);
    if (rc >= 0) return rc;
    pp_options o;
    pp_options_default(&o);
    if (pp_format_parse(format, &o.read.format))
        return cli_error(&cmd, "--format must be auto, csv, jsonl or text"), LM_EXIT_USAGE;
    if (!tmpdir) tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    char base[4096], out[4200];
    snprintf(base, sizeof base, "%s/lyricmind-bench-pp-XXXXXX", tmpdir);
    if (!mkdtemp(base)) {
        fprintf(stderr, "lyricmind bench preprocess: %s: %s\n", base, strerror(errno));
        return LM_EXIT_FAILURE;
    }
    snprintf(out, sizeof out, "%s/corpus", base);
    o.out_dir = out;
    o.inputs = &input;
    o.n_inputs = 1;
    o.threads = threads;
    o.vocab_size = (uint32_t)vocab;
    pp_summary *s = calloc(1, sizeof *s);
    lm_err e = {{0}};
    if (!s || pp_run(&o, s, &e)) {
        fprintf(stderr, "lyricmind bench preprocess: %s\n", s ? e.msg : "out of memory");
        rc = LM_EXIT_FAILURE;
    } else {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        rc = io_json_write_line(stdout, preprocess_json(input, s, &ru)) ? LM_EXIT_FAILURE : LM_EXIT_OK;
    }
    free(s);
    if (keep && rc == LM_EXIT_OK) fprintf(stderr, "lyricmind bench preprocess: kept %s\n", out);
    else nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
