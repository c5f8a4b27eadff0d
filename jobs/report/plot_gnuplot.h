/* plot_gnuplot: draws plot_run curves with gnuplot (Debian gnuplot-nox).
 *
 * One picture, four panels sharing the x axis (tokens seen when every run
 * knows its G x T, else steps): training loss (lines) and validation loss
 * (points) with perplexity on the right axis; learning rate (log scale when
 * positive); tokens/s; communication share of step time (%). Runs are
 * overlaid, one colour each; resumes are dashed vertical lines in the run's
 * colour. The data go to temp files and a generated gnuplot script in a
 * private temp directory; gnuplot writes the picture to a temp name beside
 * `out`, which is renamed over `out` only once gnuplot succeeded. gnuplot
 * is looked up on PATH (or $LYRICMIND_GNUPLOT). */
#ifndef PLOT_GNUPLOT_H
#define PLOT_GNUPLOT_H

#include <stddef.h>

#include "lm_err.h"
#include "plot_data.h"

typedef enum { PLOT_PNG = 0, PLOT_SVG } plot_format;

int plot_render(const plot_run *runs, size_t n, plot_format fmt, int width, int height,
                const char *out, lm_err *e);

#endif
