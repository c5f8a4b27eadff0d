/* cmd_report: 'lyricmind report RUN [--out FILE.html]' writes one
 * self-contained HTML page about a run (docs/cli.md): a summary, the plot of
 * `plot` as inline SVG, the world shape, where step time went, the eval
 * results when RUN/eval.json is there (the output of `eval --json`), a few
 * songs generated in-process from RUN/best.h5 (else the newest checkpoint)
 * with a fixed seed, and the settings of the newest checkpoint. No script,
 * no external reference: readable offline. Written atomically. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_args.h"
#include "cmds.h"
#include "gen_lyrics.h"
#include "io_atomic.h"
#include "plot_data.h"
#include "plot_gnuplot.h"
#include "report_html.h"

typedef struct report_flags {
    const char *out;
    int songs, max_words;
    long seed;
} report_flags;

static void section_summary(FILE *f, const plot_run *r) {
    const plot_point *last = &r->train[r->n_train - 1];
    double best = INFINITY;
    long best_step = -1;
    for (size_t i = 0; i < r->n_eval; i++)
        if (r->eval[i].val_loss < best) best = r->eval[i].val_loss, best_step = r->eval[i].step;
    fputs("<h2>Summary</h2>\n<table>\n", f);
    report_row(f, "run directory", r->dir);
    report_rowf(f, "steps", "%ld", last->step);
    report_rowf(f, "epoch (as metrics.jsonl numbers it)", "%ld", last->epoch);
    if (r->tokens_per_step) report_rowf(f, "tokens seen", "%.0f", plot_run_x(r, last->step));
    report_rowf(f, "last training loss", "%.4f (perplexity %.1f)", last->loss, exp(last->loss));
    if (best_step >= 0)
        report_rowf(f, "best validation loss", "%.4f (perplexity %.1f) at step %ld of %zu evaluations", best,
                    exp(best), best_step, r->n_eval);
    else report_row(f, "best validation loss", "no evaluation yet");
    report_rowf(f, "resumes", "%zu", r->n_resumes);
    if (r->final_line) {
        json_t *o = json_loads(r->final_line, 0, NULL);
        const char *d = json_string_value(json_object_get(o, "detail"));
        report_rowf(f, "ended", "%s at step %lld%s%s", json_string_value(json_object_get(o, "type")),
                    (long long)json_integer_value(json_object_get(o, "step")), d ? ": " : "", d ? d : "");
        json_decref(o);
    }
    fputs("</table>\n", f);
}

static void section_plot(FILE *f, const plot_run *r) {
    fputs("<h2>Curves</h2>\n", f);
    char tmp[] = "/tmp/lyricmind-report.XXXXXX", svg[64];
    lm_err e = {{0}};
    int ok = mkdtemp(tmp) != NULL;
    snprintf(svg, sizeof svg, "%s/plot.svg", tmp);
    if (ok && plot_render(r, 1, PLOT_SVG, 1100, 740, svg, &e) == 0 && report_inline_svg(f, svg) == 0)
        fputs("\n<p class=\"note\">Lines: training loss per step; points: validation loss; dashed verticals: "
              "resumes.</p>\n", f);
    else {
        fputs("<p class=\"note\">No plot: ", f);
        report_esc(f, e.msg[0] ? e.msg : "cannot make a temp directory");
        fputs("</p>\n", f);
    }
    unlink(svg);
    rmdir(tmp);
}

static void section_world(FILE *f, const plot_run *r) {
    char batch[64], threads[64];
    report_setting(r->config, "batch-size", batch, sizeof batch);
    report_setting(r->config, "threads", threads, sizeof threads);
    fputs("<h2>World shape</h2>\n<table>\n", f);
    long b = atol(batch);
    if (r->ranks) /* from the start records; older files: G / batch-size */
        report_rowf(f, "ranks", "%d%s", r->ranks, r->ranks_changed ? " (last start; earlier starts ran on other counts)" : "");
    else if (r->global_batch && b > 0)
        report_rowf(f, "ranks", "%ld", r->global_batch / b);
    report_row(f, "streams per rank (--batch-size)", batch[0] ? batch : "unknown");
    if (r->global_batch) report_rowf(f, "global batch G", "%ld streams", r->global_batch);
    if (r->seq_len) report_rowf(f, "tokens per window T", "%ld", r->seq_len);
    report_row(f, "OpenBLAS threads per rank", threads[0] ? threads : "unknown");
    fputs("</table>\n", f);
}

static void section_time(FILE *f, const plot_run *r) {
    double comm = 0, tps = 0;
    size_t nc = 0, nt = 0;
    for (size_t i = 0; i < r->n_train; i++) {
        if (isfinite(r->train[i].comm_share)) comm += r->train[i].comm_share, nc++;
        if (isfinite(r->train[i].tokens_per_s)) tps += r->train[i].tokens_per_s, nt++;
    }
    comm = nc ? comm / (double)nc : 0;
    fputs("<h2>Where time went</h2>\n", f);
    fprintf(f, "<div class=\"bar\"><div style=\"width:%.1f%%;background:#4c72b0\"></div>"
               "<div style=\"width:%.1f%%;background:#dd8452\"></div></div>\n",
            100 * (1 - comm), 100 * comm);
    fputs("<table>\n", f);
    report_rowf(f, "compute (blue)", "%.1f%% of step time", 100 * (1 - comm));
    report_rowf(f, "communication (orange)", "%.1f%% of step time (mean of %zu steps)", 100 * comm, nc);
    if (nt) report_rowf(f, "mean training speed", "%.0f tokens/s", tps / (double)nt);
    report_row(f, "evaluation and checkpoints", "outside the step time; metrics.jsonl records no durations for them");
    fputs("</table>\n", f);
}

static void section_eval(FILE *f, const plot_run *r) {
    char path[4200];
    snprintf(path, sizeof path, "%s/eval.json", r->dir);
    fputs("<h2>Evaluation</h2>\n", f);
    json_error_t je;
    json_t *o = access(path, F_OK) == 0 ? json_load_file(path, 0, &je) : NULL;
    if (!o) {
        fputs("<p class=\"note\">", f);
        if (access(path, F_OK) == 0) report_esc(f, "eval.json is not valid JSON: "), report_esc(f, je.text);
        else report_esc(f, "No eval.json in the run directory. Make one with: lyricmind eval --checkpoint "
                           "RUN/best.h5 --data DIR --json > RUN/eval.json");
        fputs("</p>\n", f);
        return;
    }
    fputs("<p>From <code>eval.json</code> (<code>lyricmind eval --json</code>).</p>\n", f);
    report_json_table(f, o);
    json_decref(o);
}

/* Song i: <bos>, a genre drawn by the model, sampled until <eos> or the
 * word limit; rng stream (seed, i) as in generate. */
static int one_song(gen_ctx *x, const report_flags *fl, long i, gen_text *t, int *genre, lm_err *e) {
    lm_rng rng;
    lm_rng_seed2(&rng, (uint64_t)fl->seed, (uint64_t)i);
    int32_t pre[2] = {IO_TOK_BOS, 0};
    gen_seq song = {0};
    if (gen_prime(x, pre, 1, NULL, e)) return -1;
    *genre = gen_draw_genre(x, &rng);
    pre[1] = IO_TOK_FIRST_GENRE + *genre;
    long words;
    gen_end end;
    gen_limits lim = {fl->max_words, 0};
    int rc = gen_prime(x, pre, 2, &song, e) || gen_continue(x, &rng, &lim, &song, &words, &end, e) ? -1 : 0;
    if (!rc && gen_render(x->g->v, song.id, song.n, NULL, 0, t)) rc = lm_err_set(e, "out of memory");
    gen_seq_free(&song);
    return rc;
}

static void section_songs(FILE *f, const plot_run *r, const report_flags *fl) {
    if (fl->songs <= 0) return;
    char best[4200];
    snprintf(best, sizeof best, "%s/%s", r->dir, IO_CKPT_BEST);
    const char *ck = access(best, F_OK) == 0 ? best : r->ckpt;
    fputs("<h2>Generated songs</h2>\n", f);
    gen_model g;
    gen_ctx x = {0};
    lm_err e = {{0}};
    lm_sampler s = {0.8f, 0, 1.0f};
    int rc = !ck[0] ? lm_err_set(&e, "no checkpoint in %s", r->dir) : gen_model_open(&g, ck, &e);
    if (!rc && (lm_model_use_f16_head(&g.m, &e) < 0 || gen_ctx_init(&x, &g, s, &e))) rc = -1, gen_model_close(&g);
    if (rc) {
        fputs("<p class=\"note\">No songs: ", f);
        report_esc(f, e.msg);
        fputs("</p>\n", f);
        return;
    }
    fprintf(f, "<p class=\"note\">From <code>");
    report_esc(f, ck);
    fprintf(f, "</code>, as <code>lyricmind generate --count %d --seed %ld --max-words %d</code> prints them "
               "(temperature 0.8).</p>\n<div class=\"songs\">\n", fl->songs, fl->seed, fl->max_words);
    for (long i = 0; i < fl->songs && !rc; i++) {
        gen_text t = {0};
        int genre = 0;
        rc = one_song(&x, fl, i, &t, &genre, &e);
        fputs("<div class=\"song\"><b>", f);
        report_esc(f, rc ? "error" : g.v->genres[genre]);
        fputs("</b>\n", f);
        report_esc(f, rc ? e.msg : t.s ? t.s : "");
        fputs("</div>\n", f);
        gen_text_free(&t);
    }
    fputs("</div>\n", f);
    gen_ctx_free(&x);
    gen_model_close(&g);
}

static void page(FILE *f, const plot_run *r, const report_flags *fl) {
    char title[4200];
    snprintf(title, sizeof title, "LyricMind run: %s", r->dir);
    report_begin(f, title);
    fputs("<h1>", f);
    report_esc(f, title);
    fputs("</h1>\n", f);
    section_summary(f, r);
    section_plot(f, r);
    section_world(f, r);
    section_time(f, r);
    section_eval(f, r);
    section_songs(f, r, fl);
    fputs("<h2>Settings</h2>\n<p class=\"note\">Of <code>", f);
    report_esc(f, r->ckpt[0] ? r->ckpt : "(no checkpoint)");
    fputs("</code>.</p>\n", f);
    report_settings_table(f, r->config);
    report_end(f);
}

int cmd_report(int argc, char **argv) {
    report_flags fl = {.songs = 3, .max_words = 120, .seed = 1};
    cli_opt opts[] = {
        {"out", CLI_STR, &fl.out, "FILE.html", "page to write (default RUN/report.html)", 0, 0, 0},
        {"songs", CLI_INT, &fl.songs, "N", "songs generated for the page (0: none)", 0, 100, 0},
        {"max-words", CLI_INT, &fl.max_words, "N", "word limit of each song", 1, 100000, 0},
        {"seed", CLI_LONG, &fl.seed, "S", "seed of the songs (as generate --seed)", 0, 9.2e18, 0},
        {0},
    };
    cli_cmd cmd = {"report", "RUN [--out FILE.html]",
                   "Writes one self-contained HTML page about a training run, readable offline: a\n"
                   "summary, the curves of 'lyricmind plot' (inline SVG; needs gnuplot), the world\n"
                   "shape, where step time went, RUN/eval.json when present (save 'lyricmind eval\n"
                   "--json' output there), a few songs generated from RUN/best.h5 (else the newest\n"
                   "checkpoint) and the settings.",
                   opts};
    char *dir;
    int rc = cmd_parse_one(&cmd, argc, argv, "RUN directory", &dir);
    if (rc >= 0) return rc;
    plot_run r;
    lm_err e = {{0}};
    if (plot_run_load(&r, dir, &e)) {
        fprintf(stderr, "lyricmind report: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    char def[4300];
    snprintf(def, sizeof def, "%s/report.html", r.dir);
    const char *out = fl.out ? fl.out : def;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) page(f, &r, &fl);
    rc = !f || fclose(f) ? lm_err_set(&e, "%s: out of memory", out) : io_atomic_write(out, buf, len, &e);
    free(buf);
    plot_run_free(&r);
    if (rc) fprintf(stderr, "lyricmind report: %s\n", e.msg);
    else printf("lyricmind report: wrote %s\n", out);
    return rc ? LM_EXIT_FAILURE : LM_EXIT_OK;
}
