/* train_banner: what 'lyricmind train' says about a run when it starts
 * (docs/training.md, "Start-up"), and RUN/config.ini.
 *
 * The banner (rank 0, stdout) names the world shape (ranks, threads, batch
 * per rank, global batch), the corpus (path, songs and tokens per split, V),
 * the model size and the steps planned, then the settings whose value
 * differs from the built-in defaults, one `key = value` line each (every
 * setting with --verbose; none with --quiet). Values print as
 * cli_format_value writes them: floats as the shortest decimal that reads
 * back to the same value ("lr = 0.01").
 *
 * RUN/config.ini holds the effective settings of the run (after a resume
 * took the checkpoint's), rewritten atomically by rank 0 at every start: a
 * `[train]` job file that `lyricmind train --config RUN/config.ini` reads
 * back to the same settings. It leaves out `config` and `resume`, which say
 * how this start began rather than what the run is. */
#ifndef TRAIN_BANNER_H
#define TRAIN_BANNER_H

#include <stddef.h>
#include <stdio.h>

#include "lm_err.h"
#include "train.h"

/* Prints "  key = value" for each setting of c that differs from the
 * defaults (all != 0: every setting that has a value); data and run are left
 * out unless all (the banner has lines of their own for them). Returns the
 * number of lines printed. */
int train_banner_settings(FILE *f, const train_config *c, int all);

/* The text of RUN/config.ini for c (see above). Returns the length needed. */
size_t train_banner_config_ini(const train_config *c, long step, char *buf, size_t n);

struct train_ctx;
/* Rank 0: the banner on stdout. */
void train_banner_print(const struct train_ctx *t, long steps_per_epoch, long total_steps);
/* Rank 0: writes RUN/config.ini atomically. */
int train_banner_write_config(const struct train_ctx *t, lm_err *e);

#endif
