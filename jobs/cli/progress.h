/* progress: what a long-running command shows while it works, shared by
 * train (train_log) and eval.
 *
 * Two display modes, chosen once per process by progress_mode: on a
 * terminal one line redrawn in place (\r, at most every 0.2 s); otherwise
 * (redirected, or under mpirun/srun whose output usually ends in a log file)
 * a plain line every `every_s` seconds. A phase (progress_begin .. _end)
 * counts work units towards a known total and shows done/total, percent and
 * an ETA from the rate so far; its end always prints one line with the time
 * it took, so even a phase shorter than every_s leaves a trace in a log. A
 * progress whose stream is NULL prints nothing (other ranks, --quiet). */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdio.h>

/* "1h05m" / "3m07s", "?" when s is not a finite non-negative number. */
void progress_fmt_duration(char *buf, size_t n, double s);
/* Sets *tty for output on file descriptor fd: LYRICMIND_PROGRESS=bar forces
 * the redrawn line, =lines plain lines, =auto or unset decides (a terminal,
 * and not under_launcher); any other value: -1 with a message in err. */
int progress_mode(int fd, int under_launcher, int *tty, char *err, size_t errlen);

typedef struct progress {
    FILE *out;        /* NULL: silent */
    int tty, live;    /* live: a redrawn line is on screen */
    double every_s;   /* lines mode: seconds between lines */
    const char *cmd;  /* prefix, e.g. "eval" */
    const char *what, *unit;
    double total, t0, last;
} progress;

void progress_init(progress *p, FILE *out, int tty, double every_s, const char *cmd);
/* Starts a phase of `total` units ("songs", "windows"). Every function
 * accepts p == NULL and then does nothing. */
void progress_begin(progress *p, const char *what, double total, const char *unit);
/* done units of the phase so far; prints when due. */
void progress_update(progress *p, double done);
/* Ends the phase: "cmd: WHAT done: N UNIT in T". */
void progress_end(progress *p);

#endif
