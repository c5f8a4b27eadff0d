/* eval_bleu: BLEU-4 over word id sequences (Papineni et al. 2002), as
 * NLTK's corpus_bleu computes it (docs/evaluation.md):
 *   p_n = sum over hypotheses of clipped n-gram matches
 *         / sum over hypotheses of max(1, hypothesis n-grams)
 *   (clipped: a hypothesis n-gram counts at most as often as it appears in
 *   the reference that has it most often);
 *   BP  = 1 if c > r else exp(1 - r/c), c = total hypothesis length, r = sum
 *   of each hypothesis's closest reference length (ties: the shorter);
 *   BLEU = BP * exp(mean over n=1..4 of log p_n), and 0 when no unigram
 *   matches at all (or c = 0).
 * Smoothing: Chen & Cherry (2014) method 1, as NLTK's SmoothingFunction().
 * method1: a p_n whose match count is 0 becomes epsilon / denominator with
 * epsilon = 0.1.
 * Self-BLEU (Zhu et al. 2018, Texygen): the mean over songs i of the
 * sentence-level BLEU-4 of song i against all the other songs as references. */
#ifndef EVAL_BLEU_H
#define EVAL_BLEU_H

#include <stddef.h>
#include <stdint.h>

#include "eval_text.h"

#define EVAL_BLEU_EPSILON 0.1

typedef struct eval_bleu {
    double match[EVAL_MAX_ORDER], total[EVAL_MAX_ORDER];
    double hyp_len, ref_len;
} eval_bleu;

/* Adds one hypothesis (word ids < 65536) with its references.
 * Returns 0, or -1 on out of memory. */
int eval_bleu_add(eval_bleu *b, const eval_doc *hyp, const eval_doc *refs, size_t n_refs);
/* Corpus-level BLEU-4 of everything added; p (may be NULL) receives the
 * smoothed p_1..p_4 and bp (may be NULL) the brevity penalty. */
double eval_bleu_score(const eval_bleu *b, double p[EVAL_MAX_ORDER], double *bp);
/* Self-BLEU of n word sequences (0 when n < 2); -1 on out of memory. */
double eval_self_bleu(const eval_doc *docs, size_t n);

#endif
