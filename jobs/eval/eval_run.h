/* eval_run: the songs `eval` generates, split over the ranks and gathered
 * (docs/evaluation.md, "Generated songs").
 *
 * Tasks, chosen identically on every rank from --seed:
 * - continuation i (i < samples): the i-th held-out song, in a seeded
 *   permutation of the validation songs, that has more than prime_lines
 *   lines; the model is primed on its <bos> <genre> and first prime_lines
 *   lines (through the break that ends them) and continues;
 * - genre g, j (j < per_genre): primed on <bos> <genre:g> alone.
 * Task t runs on rank t % size with an rng seeded by (seed, t), so every
 * song is the same whatever the number of ranks. After eval_run_generate
 * every rank holds every task's generated tokens (gathered by broadcasts). */
#ifndef EVAL_RUN_H
#define EVAL_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "dist.h"
#include "eval_data.h"
#include "gen_lyrics.h"
#include "progress.h"

typedef enum { EVAL_TASK_CONTINUE = 0, EVAL_TASK_GENRE = 1 } eval_task_kind;

typedef struct eval_task {
    eval_task_kind kind;
    size_t song;      /* continuation: validation song index */
    size_t prefix;    /* continuation: tokens of the song given as prompt */
    int genre;
    int32_t *gen;     /* generated tokens (after the prefix; may end in <eos>) */
    size_t n_gen;
} eval_task;

typedef struct eval_plan {
    eval_task *tasks;
    size_t n_tasks, n_continue; /* continuations first, then genre tasks */
    size_t *real;               /* real held-out comparison songs (per_genre of each genre) */
    size_t n_real;
    uint32_t *perm;             /* seeded order of the validation songs */
} eval_plan;

typedef struct eval_gen_opts {
    lm_sampler sampler;
    long max_words;
    int prime_lines, samples, per_genre;
    uint64_t seed;
} eval_gen_opts;

/* Chooses the tasks and the real comparison songs. */
int eval_plan_make(eval_plan *p, const eval_songs *val, int n_genres, int32_t first_word,
                   const eval_gen_opts *o, lm_err *e);
void eval_plan_free(eval_plan *p);

/* Runs this rank's tasks and gathers all of them on every rank. Collective.
 * timing (may be NULL) gets the sums over ranks of {seconds generating,
 * words, tokens}; pr (may be NULL) shows this rank's tasks as a phase. */
int eval_run_generate(eval_plan *p, const gen_model *g, const eval_songs *val, const eval_gen_opts *o,
                      const dist_world *w, progress *pr, double timing[3], lm_err *e);

#endif
