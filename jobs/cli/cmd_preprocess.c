/* cmd_preprocess: 'lyricmind preprocess --out DIR [options] INPUT...'.
 * Parses flags into pp_options, runs pp_run and prints warnings as they come
 * and the summary at the end (text, or one JSON object with --json).
 * Exit codes: 0 done, 1 bad input or I/O (one line on stderr naming the file
 * and the problem; no output directory left behind), 2 bad command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "pp.h"

static void on_warning(void *ctx, const char *msg) {
    (void)ctx;
    fprintf(stderr, "lyricmind preprocess: warning: %s\n", msg);
}

/* 1234567 -> "1,234,567" */
static const char *group(unsigned long long v, char *buf, size_t n) {
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", v);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = 0;
    return buf;
}

static void print_summary(FILE *f, const char *out, const pp_summary *s) {
    char a[32], b[32], c[32];
    fprintf(f, "preprocess: wrote %s\n", out);
    fprintf(f, "  files read       %s (%.1f MB)\n", group(s->files, a, sizeof a), (double)s->bytes / 1e6);
    fprintf(f, "  songs read       %s\n", group(s->songs_read, a, sizeof a));
    fprintf(f, "  songs kept       %s\n", group(s->songs_kept, a, sizeof a));
    fprintf(f, "  duplicates       %s\n", group(s->duplicates, a, sizeof a));
    fprintf(f, "  skipped         ");
    for (int r = 0; r < PP_N_REASONS; r++)
        fprintf(f, " %s %s%s", pp_reason_name(r), group(s->skipped[r], a, sizeof a), r + 1 < PP_N_REASONS ? "," : "\n");
    fprintf(f, "  train            %s songs, %s tokens, %u shard%s\n", group(s->train_songs, a, sizeof a),
            group(s->train_tokens, b, sizeof b), s->train_shards, s->train_shards == 1 ? "" : "s");
    fprintf(f, "  val              %s songs, %s tokens, %u shard%s\n", group(s->val_songs, a, sizeof a),
            group(s->val_tokens, b, sizeof b), s->val_shards, s->val_shards == 1 ? "" : "s");
    fprintf(f, "  vocabulary       %s tokens (hash %016llx), %s distinct words\n", group(s->vocab_size, a, sizeof a),
            (unsigned long long)s->vocab_hash, group(s->word_types, b, sizeof b));
    fprintf(f, "  OOV rate         %.3f%% (%s of %s word tokens are <unk>)\n", 100.0 * s->oov_rate,
            group(s->oov_tokens, a, sizeof a), group(s->word_tokens, c, sizeof c));
    fprintf(f, "  genres          ");
    for (uint32_t g = 0; g < s->n_genres; g++)
        fprintf(f, " %s %s%s", s->genres[g], group(s->genre_songs[g], a, sizeof a), g + 1 < s->n_genres ? "," : "");
    fprintf(f, "\n  time             %.2f s, %.1f MB/s (pass 1 %.2f s, vocabulary %.2f s, pass 2 %.2f s, %d threads)\n",
            s->wall_s, s->bytes_per_s / 1e6, s->pass1_s, s->vocab_s, s->pass2_s, s->threads);
}

/* The command line before it becomes pp_options: the flags the table below
 * fills that pp_options holds in other types. */
typedef struct pre_flags {
    pp_options o;
    const char *out, *format, *config;
    long vocab, min_count, shard, seed;
    int min_words, threads, force, json, max_warn, zlevel;
    double valf;
} pre_flags;

static void flags_default(pre_flags *f) {
    pp_options_default(&f->o);
    const pp_options *o = &f->o;
    f->out = NULL, f->format = "auto", f->config = NULL;
    f->vocab = o->vocab_size, f->min_count = (long)o->min_count, f->shard = (long)o->shard_tokens, f->seed = 0;
    f->min_words = (int)o->min_words, f->threads = 0, f->force = 0, f->json = 0, f->max_warn = o->max_warnings;
    f->zlevel = o->zstd_level;
    f->valf = o->val_fraction;
}

/* Parses flags, job file and INPUTs (into pos[0..*npos)); -1 to go on, else
 * the exit code. One table of every flag: it is the --help text too. */
static int parse_flags(pre_flags *f, int argc, char **argv, char **pos, int *npos) {
    pp_options *o = &f->o;
    cli_opt opts[] = {
        {"out", CLI_STR, &f->out, "DIR", "output corpus directory (built as DIR.tmp, renamed when complete)", 0, 0, 0},
        {"config", CLI_STR, &f->config, "FILE", "INI job file ([preprocess] section; keys are flag names); flags win", 0, 0, 0},
        {"format", CLI_STR, &f->format, "FMT", "input format: auto (by extension, then content), csv, jsonl or text", 0, 0, 0},
        {"text-field", CLI_STR, &o->read.text_field, "NAME", "lyrics column/key (default: lyrics, text, lyric, content)", 0, 0, 0},
        {"genre-field", CLI_STR, &o->read.genre_field, "NAME", "genre column/key (default: genre, tag, tags, category)", 0, 0, 0},
        {"artist-field", CLI_STR, &o->read.artist_field, "NAME", "artist column/key (default: artist, singer)", 0, 0, 0},
        {"title-field", CLI_STR, &o->read.title_field, "NAME", "title column/key (default: title, song, name)", 0, 0, 0},
        {"boundary", CLI_STR, &o->read.boundary, "LINE", "text files: the line between songs (default <SONG_BOUNDARY>)", 0, 0, 0},
        {"genre", CLI_STR, &o->read.text_genre, "NAME", "text files: genre label (default: the file's base name)", 0, 0, 0},
        {"genre-map", CLI_STR, &o->genre_map, "FILE", "extra 'alias<TAB>genre' or 'alias=genre' lines over the built-in aliases", 0, 0, 0},
        {"unknown-genre", CLI_STR, &o->unknown_genre, "MODE", "labels that map to no genre: keep (own genre), skip (count the song as skipped) or a genre NAME", 0, 0, 0},
        {"vocab-size", CLI_LONG, &f->vocab, "N", "vocabulary size including the specials and <genre:..> tokens", 8, 65536, 0},
        {"vocab", CLI_STR, &o->vocab_file, "FILE", "use this vocab.h5 (e.g. another part's) instead of choosing one", 0, 0, 0},
        {"min-count", CLI_LONG, &f->min_count, "N", "words seen fewer times become <unk>", 1, 1e15, 0},
        {"min-words", CLI_INT, &f->min_words, "N", "songs with fewer words are skipped as too short", 0, 1e9, 0},
        {"val-fraction", CLI_DOUBLE, &f->valf, "F", "share of songs in validation, by a hash of the cleaned text", 0, 1, 0},
        {"shard-tokens", CLI_LONG, &f->shard, "N", "tokens per shard (whole songs; a shard closes before passing N)", 1, 1e15, 0},
        {"zstd-level", CLI_INT, &f->zlevel, "N", "zstd level of the shards (-7 fastest .. 19 smallest)", -7, 19, 0},
        {"threads", CLI_INT, &f->threads, "N", "cleaning threads, plus one reader (0: all cores)", 0, 255, 0},
        {"seed", CLI_LONG, &f->seed, "N", "salts the train/val split", 0, 0, 0},
        {"oov-warn", CLI_DOUBLE, &o->oov_warn, "F", "warn at the end when more than this share of the word tokens are <unk>", 0, 1, 0},
        {"max-warnings", CLI_INT, &f->max_warn, "N", "invalid-UTF-8 warnings printed one by one (the rest are counted)", 0, 1e9, 0},
        {"force", CLI_BOOL, &f->force, NULL, "replace an existing corpus directory DIR", 0, 0, 0},
        {"json", CLI_BOOL, &f->json, NULL, "print the summary as one JSON object on stdout", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"preprocess", "--out DIR [options] INPUT...",
                   "Cleans and tokenizes lyrics files (CSV, JSON Lines, text with boundary lines; .zst "
                   "decompressed on the fly) into a corpus directory: vocab.h5, train-NNNNN.h5 and "
                   "val-NNNNN.h5 token shards and manifest.json. INPUT is a file or a directory "
                   "(walked recursively in sorted order). See docs/preprocess.md.",
                   opts};
    int rc = cli_parse(&cmd, argc, argv, pos, argc, npos);
    if (rc == CLI_OK) rc = cli_load_config(&cmd, f->config);
    if (rc != CLI_OK) return rc == CLI_HELP ? LM_EXIT_OK : LM_EXIT_USAGE;
    if (!f->out) rc = cli_error(&cmd, "--out DIR is required");
    else if (*npos == 0) rc = cli_error(&cmd, "no INPUT given (files or directories)");
    else if (pp_format_parse(f->format, &o->read.format)) rc = cli_error(&cmd, "--format must be auto, csv, jsonl or text, got '%s'", f->format);
    return rc ? LM_EXIT_USAGE : -1;
}

/* The parsed flags and INPUTs into f->o. */
static void set_options(pre_flags *f, char **pos, int npos) {
    pp_options *o = &f->o;
    o->out_dir = f->out;
    o->inputs = (const char *const *)pos;
    o->n_inputs = npos;
    o->vocab_size = (uint32_t)f->vocab;
    o->min_count = (uint64_t)f->min_count;
    o->min_words = (uint32_t)f->min_words;
    o->val_fraction = f->valf;
    o->shard_tokens = (uint64_t)f->shard;
    o->zstd_level = f->zlevel;
    o->threads = f->threads;
    o->seed = (uint64_t)f->seed;
    o->force = f->force;
    o->max_warnings = f->max_warn;
    o->warn = on_warning;
}

/* Runs pp_run, then prints the summary (text or JSON) and the warnings kept. */
static int run_preprocess(const pre_flags *f) {
    pp_summary *s = calloc(1, sizeof *s);
    lm_err err = {{0}};
    if (!s || pp_run(&f->o, s, &err)) {
        fprintf(stderr, "lyricmind preprocess: %s\n", s ? err.msg : "out of memory");
        free(s);
        return LM_EXIT_FAILURE;
    }
    if (f->json) {
        char *txt = pp_summary_json(s, 1);
        if (txt) printf("%s\n", txt);
        free(txt);
    } else {
        print_summary(stdout, f->out, s);
    }
    fflush(stdout);
    for (int i = 0; i < s->n_warnings; i++) fprintf(stderr, "lyricmind preprocess: warning: %s\n", s->warnings[i]);
    free(s);
    return LM_EXIT_OK;
}

int cmd_preprocess(int argc, char **argv) {
    pre_flags f;
    flags_default(&f);
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return LM_EXIT_FAILURE;
    int npos = 0;
    int rc = parse_flags(&f, argc, argv, pos, &npos);
    if (rc < 0) {
        set_options(&f, pos, npos);
        rc = run_preprocess(&f);
    }
    free(pos);
    return rc;
}
