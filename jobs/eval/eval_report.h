/* eval_report: everything `eval` measured, printed as a readable table or
 * as one JSON object (docs/evaluation.md lists every field). */
#ifndef EVAL_REPORT_H
#define EVAL_REPORT_H

#include <stdio.h>

#include "eval_bleu.h"
#include "eval_ppl.h"
#include "eval_rhyme.h"
#include "eval_text.h"
#include "io_vocab.h"
#include "lm_sample.h"

enum { EVAL_SET_GEN = 0, EVAL_SET_REAL = 1, EVAL_N_SETS };

typedef struct eval_set_stats {
    eval_surface surf;
    eval_rhyme_stats rhyme;
    double self_bleu;
    long ended_eos; /* generated set: songs that ended with <eos> */
} eval_set_stats;

typedef struct eval_results {
    /* run */
    const char *checkpoint, *data;
    long long step;
    int ranks;
    long long seed;
    const io_vocab *v;
    /* perplexity */
    long long val_songs, val_tokens;
    int seq_len, batch;
    double ppl_carried[EVAL_PPL_N], ppl_windows[EVAL_PPL_N];
    /* generation */
    lm_sampler sampler;
    long max_words;
    int prime_lines;
    double gen_seconds, gen_words, gen_tokens;
    /* BLEU */
    long bleu_songs;
    eval_bleu bleu;
    /* generated vs real */
    eval_set_stats set[EVAL_N_SETS];
    uint32_t rhyme_known; /* vocabulary words with a pronunciation */
    /* genre classifier */
    const char *clf_path;
    int clf_trained;      /* 1: trained in this run, 0: loaded */
    double clf_train_songs;
    long long *real_confusion; /* [G*G] true genre x predicted, all validation songs */
    long long *gen_confusion;  /* [G*G] requested genre x predicted */
} eval_results;

void eval_report_text(FILE *f, const eval_results *r);
/* Prints one JSON line; returns 0, or -1 on out of memory. */
int eval_report_json(FILE *f, const eval_results *r);

#endif
