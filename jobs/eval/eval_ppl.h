/* eval_ppl: cross-entropy of a model over validation songs in two regimes
 * (docs/evaluation.md, "Perplexity").
 *
 * - carried: every song from a zero state, the state carried through the
 *   whole song; the targets are every token after the song's <bos>.
 * - windows: the songs concatenated in corpus order into one stream of N
 *   tokens, cut into windows of T+1 tokens with stride T (window k is
 *   stream[kT .. kT+T], the last one shorter), each from a zero state: every
 *   token but the first is a target exactly once (the regime of the PyTorch
 *   reference and of `train --state reset`).
 * Each returns, for this rank's share (song s or window k goes to rank
 * s % size, k % size), the sums {loss over all targets, their count, loss
 * over targets that are not <unk>, their count}; the caller sums them over
 * ranks. Losses are natural-log cross-entropies, computed in float as the
 * model's forward pass and summed in double. */
#ifndef EVAL_PPL_H
#define EVAL_PPL_H

#include <stddef.h>
#include <stdint.h>

#include "eval_data.h"
#include "lm_err.h"
#include "lm_model.h"
#include "progress.h"

enum { EVAL_PPL_LOSS = 0, EVAL_PPL_COUNT, EVAL_PPL_LOSS_KNOWN, EVAL_PPL_COUNT_KNOWN, EVAL_PPL_N };

/* B: rows per forward pass (songs or windows in parallel); T: tokens per
 * pass (carried) or the window length (windows). pr (may be NULL) gets one
 * phase over this rank's songs or windows. */
int eval_ppl_carried(const lm_model *m, const eval_songs *s, int rank, int size, int B, int T,
                     progress *pr, double out[EVAL_PPL_N], lm_err *e);
int eval_ppl_windows(const lm_model *m, const eval_songs *s, int rank, int size, int B, int T,
                     progress *pr, double out[EVAL_PPL_N], lm_err *e);

#endif
