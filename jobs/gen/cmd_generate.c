/* cmd_generate: 'lyricmind generate' samples songs from a checkpoint
 * (docs/generation.md).
 *
 * Loads /model only, cleans the prompt like preprocess, primes one LSTM
 * state on <bos> <genre:NAME> prompt and samples until <eos> or --max-words.
 * Song i uses an rng seeded by (--seed, i), so the output depends only on
 * the checkpoint, the flags and the seed. Lyrics go to stdout (songs
 * separated by a line "---"), or one JSON object with --json; notes and the
 * speed line go to stderr. Exit codes: 0, 1 (bad checkpoint or prompt),
 * 2 (bad flags, including a genre the checkpoint does not know). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "gen_lyrics.h"
#include "io_json.h"
#include "lm_sys.h"

typedef struct gen_flags {
    const char *checkpoint, *prompt, *genre, *config;
    lm_sampler s;
    int count, json, threads, quiet, exact;
    long max_words, seed;
} gen_flags;

/* One song: genre (fixed, or drawn by the model after <bos>), prime, sample. */
static int one_song(gen_ctx *x, const gen_flags *f, int genre, const gen_prompt *p, long index,
                    gen_seq *song, long *words, gen_end *end, int *genre_out, lm_err *e) {
    lm_rng rng;
    lm_rng_seed2(&rng, (uint64_t)f->seed, (uint64_t)index);
    int32_t bos = IO_TOK_BOS;
    if (genre < 0) {
        if (gen_prime(x, &bos, 1, NULL, e)) return -1;
        genre = gen_draw_genre(x, &rng);
    }
    *genre_out = genre;
    int32_t *prefix = malloc((p->ids.n + 2) * sizeof *prefix);
    if (!prefix) return lm_err_set(e, "out of memory");
    prefix[0] = bos;
    prefix[1] = IO_TOK_FIRST_GENRE + genre;
    if (p->ids.n) memcpy(prefix + 2, p->ids.id, p->ids.n * sizeof *prefix);
    int rc = gen_prime(x, prefix, p->ids.n + 2, song, e);
    free(prefix);
    gen_limits lim = {f->max_words, 0};
    return rc ? rc : gen_continue(x, &rng, &lim, song, words, end, e);
}

/* The song's text: prompt spellings for its prompt ids. */
static int song_text(const gen_model *g, const gen_seq *song, const gen_prompt *p, gen_text *t) {
    char **spell = calloc(song->n + 1, sizeof *spell);
    if (!spell) return -1;
    for (size_t i = 0; i < p->ids.n && i + 2 < song->n; i++) spell[i + 2] = p->spell[i];
    int rc = gen_render(g->v, song->id, song->n, spell, song->n, t);
    free(spell);
    return rc;
}

static json_t *song_json(const gen_model *g, const gen_seq *song, const char *text, int genre,
                         long words, gen_end end) {
    json_t *toks = json_array(), *ids = json_array(), *lps = json_array();
    for (size_t i = 0; i < song->n; i++) {
        json_array_append_new(toks, io_json_str(g->v->tokens[song->id[i]]));
        json_array_append_new(ids, json_integer(song->id[i]));
        json_array_append_new(lps, io_json_real(song->lp[i]));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:s}", "text", io_json_str(text), "genre",
                     io_json_str(g->v->genres[genre]), "tokens", toks, "ids", ids, "logprobs", lps, "words",
                     (json_int_t)words, "ended", gen_end_name(end));
}

/* What the songs add up to: their JSON objects or joined text, and the
 * speed figures. */
typedef struct gen_run {
    json_t *songs; /* --json: one object per song */
    gen_text all;  /* text: the songs separated by "---" lines */
    double secs;   /* sampling time, without rendering */
    long words, tokens;
} gen_run;

/* Opens the checkpoint (fp16 head unless --exact) and finds --genre (-1:
 * drawn by the model); -1 to go on, else the exit code (message printed). */
static int open_model(const gen_flags *f, cli_cmd *cmd, gen_model *g, int *genre) {
    lm_err e = {{0}};
    if (gen_model_open(g, f->checkpoint, &e) || (!f->exact && lm_model_use_f16_head(&g->m, &e) < 0)) {
        fprintf(stderr, "lyricmind generate: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    *genre = -1;
    if (f->genre && (*genre = gen_genre_find(g->v, f->genre)) < 0) {
        char known[4096];
        gen_genre_list(g->v, known, sizeof known);
        cli_error(cmd, "unknown genre '%s' (this checkpoint knows: %s)", f->genre, known);
        gen_model_close(g);
        return LM_EXIT_USAGE;
    }
    return -1;
}

static void note_unknown(const gen_prompt *p) {
    if (!p->n_unknown) return;
    fprintf(stderr, "lyricmind generate: note: not in the vocabulary, fed to the model as <unk>:");
    for (size_t i = 0; i < p->n_unknown; i++) fprintf(stderr, "%s %s", i ? "," : "", p->unknown[i]);
    fprintf(stderr, "\n");
}

/* Samples song i, renders it and adds it to r. */
static int add_song(gen_ctx *x, const gen_flags *f, int genre, const gen_prompt *p, long i, gen_run *r,
                    lm_err *e) {
    gen_seq song = {0};
    long words = 0;
    gen_end end;
    int gi;
    double t0 = lm_sys_now();
    int bad = one_song(x, f, genre, p, i, &song, &words, &end, &gi, e);
    r->secs += lm_sys_now() - t0;
    gen_text t = {0};
    if (!bad && song_text(x->g, &song, p, &t)) bad = lm_err_set(e, "out of memory");
    if (!bad) {
        r->words += words;
        r->tokens += (long)(song.n - p->ids.n - 2);
        if (f->json) json_array_append_new(r->songs, song_json(x->g, &song, t.s ? t.s : "", gi, words, end));
        else if ((i && gen_text_add(&r->all, "---\n", 4)) || gen_text_add(&r->all, t.s ? t.s : "", t.n))
            bad = lm_err_set(e, "out of memory");
    }
    gen_text_free(&t);
    gen_seq_free(&song);
    return bad;
}

/* The --json object: checkpoint, prompt, settings, songs (taken from r) and
 * timing. */
static json_t *run_json(const gen_flags *f, const gen_model *g, int genre, const gen_prompt *p, gen_run *r,
                        double wps, double tps, double rss, double model_mb) {
    json_t *unk = json_array();
    for (size_t i = 0; i < p->n_unknown; i++) json_array_append_new(unk, io_json_str(p->unknown[i]));
    json_t *songs = r->songs;
    r->songs = NULL;
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:{s:o, s:i, s:o, s:I, s:I, s:I}, s:o, s:{s:o, s:o, s:o, s:I, "
        "s:I, s:o, s:o, s:i}}",
        "checkpoint", io_json_str(f->checkpoint), "genre",
        io_json_str(genre >= 0 ? g->v->genres[genre] : NULL), "prompt", io_json_str(f->prompt),
        "unknown_words", unk, "settings", "temperature", io_json_real(f->s.temperature), "top_k",
        f->s.top_k, "top_p", io_json_real(f->s.top_p), "max_words", (json_int_t)f->max_words,
        "count", (json_int_t)f->count, "seed", (json_int_t)f->seed, "songs", songs, "timing",
        "seconds", io_json_real(r->secs), "words_per_s", io_json_real(wps), "tokens_per_s", io_json_real(tps),
        "words", (json_int_t)r->words, "tokens", (json_int_t)r->tokens, "peak_rss_mb",
        io_json_real(rss), "model_mb", io_json_real(model_mb), "threads",
        f->threads);
}

/* The songs on stdout (text or JSON), then the speed line on stderr. */
static int print_run(const gen_flags *f, const gen_model *g, int genre, const gen_prompt *p, gen_run *r,
                     lm_err *e) {
    double wps = r->secs > 0 ? r->words / r->secs : 0, tps = r->secs > 0 ? r->tokens / r->secs : 0;
    double rss = lm_sys_peak_rss_mb(), model_mb = (double)gen_model_bytes(g) / (1024.0 * 1024.0);
    if (f->json) {
        if (io_json_write_line(stdout, run_json(f, g, genre, p, r, wps, tps, rss, model_mb)))
            return lm_err_set(e, "cannot write the JSON output");
    } else {
        fwrite(r->all.s ? r->all.s : "", 1, r->all.n, stdout);
    }
    if (!f->quiet)
        fprintf(stderr,
                "lyricmind generate: %d song(s), %ld words (%ld tokens) in %.3f s: %.0f words/s, "
                "%.0f tokens/s on %d thread(s); peak RSS %.1f MB, parameters %.1f MB\n",
                f->count, r->words, r->tokens, r->secs, wps, tps, f->threads, rss, model_mb);
    return 0;
}

static int run(const gen_flags *f, cli_cmd *cmd) {
    gen_model g;
    int genre, rc = open_model(f, cmd, &g, &genre);
    if (rc >= 0) return rc;
    lm_err e = {{0}};
    gen_prompt p = {0};
    gen_ctx x = {0};
    gen_run r = {.songs = json_array()};
    rc = LM_EXIT_FAILURE;
    if (gen_prompt_parse(&p, g.v, f->prompt ? f->prompt : "", &e)) goto fail;
    note_unknown(&p);
    if (gen_ctx_init(&x, &g, f->s, &e)) goto fail;
    for (long i = 0; i < f->count; i++)
        if (add_song(&x, f, genre, &p, i, &r, &e)) goto fail;
    if (print_run(f, &g, genre, &p, &r, &e)) goto fail;
    rc = LM_EXIT_OK;
fail:
    if (rc != LM_EXIT_OK) fprintf(stderr, "lyricmind generate: %s\n", e.msg);
    json_decref(r.songs);
    gen_text_free(&r.all);
    gen_ctx_free(&x);
    gen_prompt_free(&p);
    gen_model_close(&g);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    gen_flags f = {.s = {0.8f, 0, 1.0f}, .count = 1, .threads = 1, .max_words = 200, .seed = 1};
    cli_opt opts[] = {
        {"checkpoint", CLI_STR, &f.checkpoint, "FILE", "checkpoint to sample from (required; e.g. RUN/best.h5)", 0, 0, 0},
        {"config", CLI_STR, &f.config, "FILE", "INI job file ([generate] section; keys are flag names); flags win", 0, 0, 0},
        {"prompt", CLI_STR, &f.prompt, "TEXT", "first words of the song (cleaned like preprocess; a trailing newline starts a new line)", 0, 0, 0},
        {"genre", CLI_STR, &f.genre, "NAME", "genre token to prime on (default: drawn by the model after <bos>)", 0, 0, 0},
        GEN_SAMPLER_FLAGS(f.s),
        {"max-words", CLI_LONG, &f.max_words, "N", "stop after N generated words (also after 2N+32 tokens)", 1, 1e8, 0},
        {"count", CLI_INT, &f.count, "N", "number of songs (song i uses seed stream i)", 1, 1e6, 0},
        {"seed", CLI_LONG, &f.seed, "S", "random seed: the same seed gives the same songs", 0, 9.2e18, 0},
        {"json", CLI_BOOL, &f.json, NULL, "print one JSON object: text, tokens, per-token log-probs, timing", 0, 0, 0},
        {"threads", CLI_INT, &f.threads, "N", "OpenBLAS threads", 1, 1024, 0},
        {"quiet", CLI_BOOL, &f.quiet, NULL, "no speed line on stderr", 0, 0, 0},
        {"exact", CLI_BOOL, &f.exact, NULL, "fp32 output layer (default: an fp16 copy, ~2x faster, logits within ~1e-3)", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"generate", "--checkpoint FILE [options]",
                   "Samples lyrics from a trained checkpoint (parameters only are loaded). The prompt\n"
                   "is cleaned and tokenized exactly like preprocess; unknown words become <unk>\n"
                   "(a note on stderr says which). The state is primed on <bos> <genre:NAME> prompt\n"
                   "and tokens are sampled until <eos> or --max-words. Same seed, same output.\n"
                   "Exit codes: 0 ok, 1 bad checkpoint or prompt, 2 bad flags or unknown genre.",
                   opts};
    int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK || cli_load_config(&cmd, f.config)) return LM_EXIT_USAGE;
    if (!f.checkpoint) return cli_error(&cmd, "--checkpoint FILE is required"), LM_EXIT_USAGE;
    openblas_set_num_threads(f.threads);
    return run(&f, &cmd);
}
