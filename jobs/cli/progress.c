/* progress: phases with done/total and an ETA on a terminal line or as
 * periodic log lines (see progress.h). */
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lm_sys.h"

void progress_fmt_duration(char *buf, size_t n, double s) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

int progress_mode(int fd, int under_launcher, int *tty, char *err, size_t n) {
    const char *mode = getenv("LYRICMIND_PROGRESS");
    if (mode && !strcmp(mode, "bar")) *tty = 1;
    else if (mode && !strcmp(mode, "lines")) *tty = 0;
    else if (!mode || !*mode || !strcmp(mode, "auto")) *tty = isatty(fd) && !under_launcher;
    else {
        snprintf(err, n, "environment LYRICMIND_PROGRESS must be auto, bar or lines, got '%s'", mode);
        return -1;
    }
    return 0;
}

void progress_init(progress *p, FILE *out, int tty, double every_s, const char *cmd) {
    memset(p, 0, sizeof *p);
    p->out = out, p->tty = tty, p->every_s = every_s, p->cmd = cmd;
}

void progress_begin(progress *p, const char *what, double total, const char *unit) {
    if (!p) return;
    p->what = what, p->unit = unit, p->total = total;
    p->t0 = p->last = lm_sys_now();
}

void progress_update(progress *p, double done) {
    if (!p || !p->out) return;
    double now = lm_sys_now();
    if (now - p->last < (p->tty ? 0.2 : p->every_s)) return;
    p->last = now;
    char eta[32];
    progress_fmt_duration(eta, sizeof eta, done > 0 ? (now - p->t0) / done * (p->total - done) : NAN);
    double pct = p->total > 0 ? 100.0 * done / p->total : 0;
    fprintf(p->out, "%s%s: %s %.0f/%.0f %s (%.1f%%)  ETA %s%s", p->tty ? "\r\033[K" : "", p->cmd, p->what,
            done, p->total, p->unit, pct, eta, p->tty ? "" : "\n");
    p->live = p->tty;
    fflush(p->out);
}

void progress_end(progress *p) {
    if (!p || !p->out) return;
    fprintf(p->out, "%s%s: %s done: %.0f %s in %.1f s\n", p->live ? "\r\033[K" : "", p->cmd, p->what, p->total,
            p->unit, lm_sys_now() - p->t0);
    p->live = 0;
    fflush(p->out);
}
