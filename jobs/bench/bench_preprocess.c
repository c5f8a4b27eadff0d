/* bench_preprocess: the preprocess scale benchmark.
 *
 *   bench preprocess  runs the whole preprocess pipeline on a corpus into a
 *                     temporary directory (removed afterwards) and prints one
 *                     JSON line: songs_per_s, mb_per_s, wall_s, peak_rss_mb...
 *
 * The synthetic corpus it is usually given comes from the make_corpus tool of
 * tests/bench (a test fixture, not part of lyricmind).
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
#include <unistd.h>

#include "bench.h"
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
