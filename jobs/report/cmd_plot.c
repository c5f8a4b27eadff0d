/* cmd_plot: 'lyricmind plot RUN... [--out FILE.png] [--svg] [--csv FILE]'
 * draws the curves of one or more runs (RUN/metrics.jsonl) with gnuplot
 * (plot_gnuplot.h) and exports the data behind them as CSV (plot_data.h).
 * Every output is written atomically. Exit codes: 0, 1 (a run or gnuplot
 * failed; one line naming it), 2 (bad flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "io_atomic.h"
#include "plot_data.h"
#include "plot_gnuplot.h"

#define PLOT_MAX_RUNS 16

/* The CSV of runs into path, atomically. */
static int write_csv(const char *path, const plot_run *runs, size_t n, lm_err *e) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return lm_err_set(e, "%s: out of memory", path);
    plot_write_csv(f, runs, n);
    int rc = fclose(f) ? lm_err_set(e, "%s: out of memory", path) : io_atomic_write(path, buf, len, e);
    free(buf);
    return rc;
}

/* FILE.png -> FILE.svg (an out without .png gets .svg appended). */
static void svg_name(char *dst, size_t n, const char *png) {
    size_t len = strlen(png);
    if (len > 4 && !strcmp(png + len - 4, ".png")) snprintf(dst, n, "%.*s.svg", (int)(len - 4), png);
    else snprintf(dst, n, "%s.svg", png);
}

static int plot_all(char **dirs, int n, const char *out, int svg, const char *csv, int w, int h) {
    plot_run runs[PLOT_MAX_RUNS];
    lm_err e = {{0}};
    int loaded = 0, rc = 0;
    for (; loaded < n && !rc; loaded++) rc = plot_run_load(&runs[loaded], dirs[loaded], &e);
    if (rc) loaded--;
    char def[4200], svgp[4300];
    if (!out) snprintf(def, sizeof def, "%s/plot.png", runs[0].dir), out = def;
    if (!rc) rc = plot_render(runs, (size_t)n, PLOT_PNG, w, h, out, &e);
    svg_name(svgp, sizeof svgp, out);
    if (!rc && svg) rc = plot_render(runs, (size_t)n, PLOT_SVG, w, h, svgp, &e);
    if (!rc && csv) rc = write_csv(csv, runs, (size_t)n, &e);
    if (rc) fprintf(stderr, "lyricmind plot: %s\n", e.msg);
    else {
        printf("lyricmind plot: wrote %s%s%s%s%s\n", out, svg ? ", " : "", svg ? svgp : "", csv ? ", " : "",
               csv ? csv : "");
        for (int i = 0; i < n; i++)
            if (runs[i].n_skipped)
                printf("lyricmind plot: note: %s: %zu line(s) of metrics.jsonl not understood, skipped\n",
                       runs[i].dir, runs[i].n_skipped);
    }
    for (int i = 0; i < loaded; i++) plot_run_free(&runs[i]);
    return rc ? LM_EXIT_FAILURE : LM_EXIT_OK;
}

int cmd_plot(int argc, char **argv) {
    const char *out = NULL, *csv = NULL;
    int svg = 0, width = 1280, height = 860;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "FILE.png", "picture to write (default: the first RUN's plot.png)", 0, 0, 0},
        {"svg", CLI_BOOL, &svg, NULL, "also write the picture as SVG (FILE.svg beside FILE.png)", 0, 0, 0},
        {"csv", CLI_STR, &csv, "FILE", "also write the data behind the picture as CSV", 0, 0, 0},
        {"width", CLI_INT, &width, "PX", "picture width in pixels", 320, 8192, 0},
        {"height", CLI_INT, &height, "PX", "picture height in pixels", 240, 8192, 0},
        {0},
    };
    cli_cmd cmd = {"plot", "RUN... [--out FILE.png] [--svg] [--csv FILE]",
                   "Plots training runs from RUN/metrics.jsonl with gnuplot: training and validation\n"
                   "loss (perplexity on the right axis), learning rate, tokens/s and the share of step\n"
                   "time spent in communication, against tokens seen (steps when a run has no\n"
                   "checkpoint to take its global batch and sequence length from). Several RUNs are\n"
                   "overlaid, one colour each; resumes are dashed vertical lines. Needs gnuplot\n"
                   "(Debian gnuplot-nox; scripts/install-deps.sh installs it).",
                   opts};
    char *dirs[PLOT_MAX_RUNS];
    int n = 0;
    int rc = cli_parse(&cmd, argc, argv, dirs, PLOT_MAX_RUNS, &n);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    if (n == 0) return cli_error(&cmd, "no RUN directory given (see 'lyricmind plot --help')");
    return plot_all(dirs, n, out, svg, csv, width, height);
}
