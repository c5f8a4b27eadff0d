/* plot_gnuplot: a generated gnuplot script over temp data files (see
 * plot_gnuplot.h). Invariant: `out` is replaced only by a complete picture;
 * the temp directory and the temp picture are removed on every path. */
#include "plot_gnuplot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io_atomic.h"

/* gnuplot's path: $LYRICMIND_GNUPLOT, else the first on PATH. */
static int find_gnuplot(char *out, size_t n) {
    const char *env = getenv("LYRICMIND_GNUPLOT");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t len = strcspn(p, ":");
        snprintf(out, n, "%.*s/gnuplot", (int)len, p);
        if (len && access(out, X_OK) == 0) return 0;
        p += len + (p[len] == ':');
    }
    return -1;
}

static void rm_tree(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[4600];
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(dir);
}

/* x of a step on the shared axis. */
static double x_of(const plot_run *r, long step, int tokens) {
    return tokens ? plot_run_x(r, step) : (double)step;
}

static int write_data(const char *tmp, size_t i, const plot_run *r, int tokens, lm_err *e) {
    char p[4400];
    snprintf(p, sizeof p, "%s/r%zu-train.dat", tmp, i);
    FILE *f = fopen(p, "w");
    if (!f) return lm_err_set(e, "%s: %s", p, strerror(errno));
    for (size_t k = 0; k < r->n_train; k++) {
        const plot_point *q = &r->train[k];
        fprintf(f, "%.9g %ld %.9g %.9g %.9g %.9g\n", x_of(r, q->step, tokens), q->step, q->loss, q->lr,
                q->tokens_per_s, 100.0 * q->comm_share);
    }
    int bad = fclose(f);
    snprintf(p, sizeof p, "%s/r%zu-eval.dat", tmp, i);
    if (!bad && (f = fopen(p, "w"))) {
        for (size_t k = 0; k < r->n_eval; k++)
            fprintf(f, "%.9g %ld %.9g\n", x_of(r, r->eval[k].step, tokens), r->eval[k].step, r->eval[k].val_loss);
        bad = fclose(f);
    } else bad = 1;
    return bad ? lm_err_set(e, "%s: cannot write plot data", p) : 0;
}

/* s as a gnuplot single-quoted string ('' stands for '). */
static void quoted(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if ((unsigned char)*s >= 0x20) fputc(*s, f);
    }
    fputc('\'', f);
}

/* One panel: plot column col of every run's train data (and eval data). */
static void panel(FILE *f, const char *tmp, const plot_run *runs, size_t n, int tokens, const char *title,
                  const char *col, int with_eval) {
    fprintf(f, "unset arrow\nset title '%s'\n", title);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < runs[i].n_resumes; k++)
            fprintf(f, "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead dt 2 lw 1.5 lc %zu\n",
                    x_of(&runs[i], runs[i].resumes[k], tokens), x_of(&runs[i], runs[i].resumes[k], tokens), i + 1);
    fprintf(f, "plot ");
    for (size_t i = 0; i < n; i++) {
        char buf[4500];
        snprintf(buf, sizeof buf, "%s/r%zu-train.dat", tmp, i);
        fprintf(f, "%s", i ? ", \\\n     " : "");
        quoted(f, buf);
        fprintf(f, " using 1:%s with lines lw 1.2 lc %zu title ", col, i + 1);
        snprintf(buf, sizeof buf, "%s%s", runs[i].name, with_eval ? " train" : "");
        quoted(f, buf);
        if (!with_eval || !runs[i].n_eval) continue;
        snprintf(buf, sizeof buf, "%s/r%zu-eval.dat", tmp, i);
        fprintf(f, ", \\\n     ");
        quoted(f, buf);
        fprintf(f, " using 1:3 with linespoints pt 7 ps 0.8 lw 2 lc %zu title ", i + 1);
        snprintf(buf, sizeof buf, "%s validation", runs[i].name);
        quoted(f, buf);
    }
    fprintf(f, "\n");
}

static int lr_positive(const plot_run *runs, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < runs[i].n_train; k++)
            if (!(runs[i].train[k].lr > 0)) return 0;
    return 1;
}

static int write_script(const char *tmp, const plot_run *runs, size_t n, plot_format fmt, int w, int h,
                        const char *pic, int tokens, lm_err *e) {
    char p[4400];
    snprintf(p, sizeof p, "%s/plot.gp", tmp);
    FILE *f = fopen(p, "w");
    if (!f) return lm_err_set(e, "%s: %s", p, strerror(errno));
    fprintf(f, "set terminal %s size %d,%d noenhanced font 'sans,10' background '#ffffff'\nset output ",
            fmt == PLOT_SVG ? "svg" : "pngcairo", w, h);
    quoted(f, pic);
    fprintf(f, "\nset datafile missing 'nan'\nset grid\nset key top right box opaque\n"
               "set multiplot layout 2,2 title 'LyricMind training (dashed verticals: resumes)'\n"
               "set xlabel '%s'\nset format x '%s'\nset offsets 0, 0, graph 0.05, graph 0.05\n",
            tokens ? "tokens seen" : "step", tokens ? "%.1s%c" : "%g");
    fprintf(f, "set ylabel 'cross-entropy (nats)'\nset y2label 'perplexity'\nset y2tics\nset ytics nomirror\n"
               "set link y2 via exp(y) inverse log(y)\nset format y2 '%%.4g'\n");
    panel(f, tmp, runs, n, tokens, "loss and perplexity", "3", 1);
    fprintf(f, "unset link y2\nunset y2tics\nunset y2label\nset ytics mirror\nset key top right\n");
    fprintf(f, "set ylabel 'learning rate'\nset format y '%%.1e'\n%s", lr_positive(runs, n) ? "set logscale y\n" : "");
    panel(f, tmp, runs, n, tokens, "learning rate", "4", 0);
    fprintf(f, "unset logscale y\nset format y '%%.1s%%c'\nset ylabel 'tokens/s'\n");
    panel(f, tmp, runs, n, tokens, "training speed", "5", 0);
    fprintf(f, "set format y '%%g'\nset ylabel 'share of step time (%%)'\nset yrange [0:*]\n");
    panel(f, tmp, runs, n, tokens, "communication share", "6", 0);
    fprintf(f, "unset multiplot\nset output\n");
    return fclose(f) ? lm_err_set(e, "%s: cannot write the gnuplot script", p) : 0;
}

/* Runs gnuplot on tmp/plot.gp; its stderr goes to tmp/gnuplot.err. */
static int run_gnuplot(const char *gp, const char *tmp, lm_err *e) {
    char script[4400], errp[4400];
    snprintf(script, sizeof script, "%s/plot.gp", tmp);
    snprintf(errp, sizeof errp, "%s/gnuplot.err", tmp);
    pid_t pid = fork();
    if (pid < 0) return lm_err_set(e, "cannot start gnuplot: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600), nul = open("/dev/null", O_RDWR);
        if (fd >= 0) dup2(fd, 2);
        if (nul >= 0) dup2(nul, 1), dup2(nul, 0);
        execl(gp, "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    char line[512] = "";
    FILE *f = fopen(errp, "r");
    while (f && fgets(line, sizeof line, f) && strspn(line, " \t\r\n^") == strlen(line)) {}
    if (f) fclose(f);
    line[strcspn(line, "\r\n")] = 0;
    return lm_err_set(e, "%s failed (exit %d): %s", gp, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                      line[0] ? line : "no message");
}

int plot_render(const plot_run *runs, size_t n, plot_format fmt, int width, int height, const char *out,
                lm_err *e) {
    char gp[4200], tmp[4200], pic[4400];
    if (find_gnuplot(gp, sizeof gp))
        return lm_err_set(e, "gnuplot not found%s%s: install gnuplot-nox or run scripts/install-deps.sh",
                          getenv("LYRICMIND_GNUPLOT") ? " at $LYRICMIND_GNUPLOT=" : " on PATH",
                          getenv("LYRICMIND_GNUPLOT") ? getenv("LYRICMIND_GNUPLOT") : "");
    const char *td = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lyricmind-plot.XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(tmp)) return lm_err_set(e, "%s: cannot make a temp directory: %s", tmp, strerror(errno));
    int tokens = 1;
    for (size_t i = 0; i < n; i++) tokens &= runs[i].tokens_per_step > 0;
    io_atomic_tmp_path(pic, sizeof pic, out);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = write_data(tmp, i, &runs[i], tokens, e);
    if (!rc) rc = write_script(tmp, runs, n, fmt, width, height, pic, tokens, e);
    if (!rc) rc = run_gnuplot(gp, tmp, e);
    if (!rc && access(pic, F_OK) != 0) rc = lm_err_set(e, "gnuplot wrote no picture to %s", pic);
    if (!rc) rc = io_atomic_commit(pic, out, e);
    if (rc) unlink(pic);
    rm_tree(tmp);
    return rc;
}
