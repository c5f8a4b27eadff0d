/* eval_run: task selection, generation on each rank and the gather (see
 * eval_run.h). Invariant: the plan is a pure function of the validation
 * songs and the options, so every rank builds the same one without talking;
 * the gather is one length + one payload broadcast per rank, in rank order. */
#include "eval_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_text.h"
#include "lm_sys.h"

/* Tokens of the song before its (k+1)-th line: through the break ending
 * line k, or 0 when the song has no words after its first k lines. */
static size_t prefix_of_lines(const int32_t *ids, size_t n, int32_t first_word, int k) {
    eval_line *ln = malloc((n + 1) * sizeof *ln);
    if (!ln) return 0;
    size_t nl = eval_lines(ids, n, first_word, ln), cut = 0;
    if (k >= 1 && nl > (size_t)k) cut = ln[k].first; /* up to the first word of line k+1 */
    free(ln);
    return cut;
}

int eval_plan_make(eval_plan *p, const eval_songs *val, int n_genres, int32_t first_word,
                   const eval_gen_opts *o, lm_err *e) {
    memset(p, 0, sizeof *p);
    size_t n = val->n, nt = (size_t)o->samples + (size_t)n_genres * (size_t)o->per_genre;
    p->perm = malloc((n + 1) * sizeof *p->perm);
    p->tasks = calloc(nt + 1, sizeof *p->tasks);
    p->real = malloc(((size_t)n_genres * (size_t)o->per_genre + 1) * sizeof *p->real);
    size_t *taken = calloc((size_t)n_genres + 1, sizeof *taken);
    if (!p->perm || !p->tasks || !p->real || !taken) {
        free(taken);
        eval_plan_free(p);
        return lm_err_set(e, "out of memory planning %zu evaluation songs", nt);
    }
    lm_rng r;
    lm_rng_seed2(&r, o->seed, 0xe7a1);
    for (size_t i = 0; i < n; i++) p->perm[i] = (uint32_t)i;
    lm_rng_shuffle_u32(&r, p->perm, n);
    for (size_t i = 0; i < n; i++) {
        size_t s = p->perm[i];
        const int32_t *ids = val->tok + val->off[s];
        size_t len = val->off[s + 1] - val->off[s];
        size_t cut = p->n_continue < (size_t)o->samples ? prefix_of_lines(ids, len, first_word, o->prime_lines) : 0;
        if (cut) p->tasks[p->n_continue++] = (eval_task){EVAL_TASK_CONTINUE, s, cut, val->genre[s], NULL, 0};
        int g = val->genre[s];
        if (g < n_genres && taken[g] < (size_t)o->per_genre) {
            p->real[p->n_real++] = s;
            taken[g]++;
        }
    }
    free(taken);
    p->n_tasks = p->n_continue;
    for (int g = 0; g < n_genres; g++)
        for (int j = 0; j < o->per_genre; j++)
            p->tasks[p->n_tasks++] = (eval_task){EVAL_TASK_GENRE, 0, 0, g, NULL, 0};
    return 0;
}

void eval_plan_free(eval_plan *p) {
    for (size_t i = 0; p->tasks && i < p->n_tasks; i++) free(p->tasks[i].gen);
    free(p->tasks), free(p->real), free(p->perm);
    memset(p, 0, sizeof *p);
}

/* Generates task t into seq (prefix included); counts words and tokens. */
static int run_task(gen_ctx *x, const eval_task *t, size_t index, const eval_songs *val,
                    const eval_gen_opts *o, gen_seq *seq, double acc[3], lm_err *e) {
    int32_t head[2] = {IO_TOK_BOS, IO_TOK_FIRST_GENRE + t->genre};
    const int32_t *prefix = t->kind == EVAL_TASK_CONTINUE ? val->tok + val->off[t->song] : head;
    size_t np = t->kind == EVAL_TASK_CONTINUE ? t->prefix : 2;
    lm_rng rng;
    lm_rng_seed2(&rng, o->seed, (uint64_t)index);
    gen_limits lim = {o->max_words, 0};
    long words;
    gen_end end;
    double t0 = lm_sys_now();
    if (gen_prime(x, prefix, np, seq, e) || gen_continue(x, &rng, &lim, seq, &words, &end, e)) return -1;
    acc[0] += lm_sys_now() - t0;
    acc[1] += (double)words;
    acc[2] += (double)(seq->n - np);
    return 0;
}

/* This rank's results as int32 records [task, n, ids...]. */
static int run_mine(eval_plan *p, const gen_model *g, const eval_songs *val, const eval_gen_opts *o,
                    const dist_world *w, progress *pr, gen_seq *rec, double acc[3], lm_err *e) {
    gen_ctx x;
    if (gen_ctx_init(&x, g, o->sampler, e)) return -1;
    int rc = 0;
    size_t r = (size_t)w->rank, mine = p->n_tasks > r ? (p->n_tasks - r - 1) / (size_t)w->size + 1 : 0;
    progress_begin(pr, "generation", (double)mine, "songs");
    for (size_t t = r; !rc && t < p->n_tasks; t += (size_t)w->size) {
        gen_seq seq = {0};
        rc = run_task(&x, &p->tasks[t], t, val, o, &seq, acc, e);
        size_t np = p->tasks[t].kind == EVAL_TASK_CONTINUE ? p->tasks[t].prefix : 2;
        if (!rc && (gen_seq_push(rec, (int32_t)t, 0) || gen_seq_push(rec, (int32_t)(seq.n - np), 0)))
            rc = lm_err_set(e, "out of memory");
        for (size_t i = np; !rc && i < seq.n; i++)
            if (gen_seq_push(rec, seq.id[i], 0)) rc = lm_err_set(e, "out of memory");
        gen_seq_free(&seq);
        progress_update(pr, (double)((t - r) / (size_t)w->size + 1));
    }
    if (!rc) progress_end(pr);
    gen_ctx_free(&x);
    return rc;
}

static int unpack(eval_plan *p, const int32_t *buf, uint64_t n, lm_err *e) {
    for (uint64_t i = 0; i + 2 <= n;) {
        uint64_t t = (uint64_t)buf[i], k = (uint64_t)buf[i + 1];
        if (t >= p->n_tasks || i + 2 + k > n) return lm_err_set(e, "corrupt generation record from a rank");
        eval_task *task = &p->tasks[t];
        free(task->gen);
        task->gen = malloc((k + 1) * sizeof *task->gen);
        if (!task->gen) return lm_err_set(e, "out of memory");
        memcpy(task->gen, buf + i + 2, k * sizeof *task->gen);
        task->n_gen = k;
        i += 2 + k;
    }
    return 0;
}

int eval_run_generate(eval_plan *p, const gen_model *g, const eval_songs *val, const eval_gen_opts *o,
                      const dist_world *w, progress *pr, double timing[3], lm_err *e) {
    gen_seq rec = {0};
    double acc[3] = {0, 0, 0};
    int failed = run_mine(p, g, val, o, w, pr, &rec, acc, e);
    /* every rank learns whether any failed before the gather */
    double agree[4] = {acc[0], acc[1], acc[2], failed ? 1.0 : 0.0};
    lm_err e2;
    if (dist_sum_doubles(w, agree, 4, &e2)) {
        gen_seq_free(&rec);
        *e = e2;
        return -1;
    }
    if (agree[3] > 0) {
        gen_seq_free(&rec);
        return failed ? -1 : lm_err_set(e, "generation failed on another rank");
    }
    if (timing) memcpy(timing, agree, 3 * sizeof *timing);
    int rc = 0;
    for (int r = 0; !rc && r < w->size; r++) {
        uint64_t n = r == w->rank ? rec.n : 0;
        if (dist_bcast_bytes(w, &n, sizeof n, r, e)) {
            rc = -1;
            break;
        }
        int mine = r == w->rank;
        int32_t *buf = mine ? rec.id : malloc((n + 1) * sizeof *buf);
        if (!buf && !(mine && n == 0)) { /* a rank cannot skip a collective: end the job */
            fprintf(stderr, "lyricmind eval: rank %d: out of memory gathering generations\n", w->rank);
            dist_world_abort(w, 1);
        }
        if (n && dist_bcast_bytes(w, buf, n * sizeof *buf, r, e)) rc = -1;
        if (!rc) rc = unpack(p, buf, n, e);
        if (!mine) free(buf);
    }
    gen_seq_free(&rec);
    return rc;
}
