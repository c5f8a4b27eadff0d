/* cmd_eval: 'lyricmind eval' measures a checkpoint on a corpus's validation
 * split (docs/evaluation.md): cross-entropy in two regimes, BLEU-4 of
 * continuations, self-BLEU, rhyme, distinct-n, line length, and a genre
 * classifier's verdict on real and generated songs.
 *
 * Runs as one process or under mpirun: every rank loads the model and the
 * validation songs; perplexity windows/songs and generation tasks are split
 * over the ranks and summed/gathered (dist.h); rank 0 computes the text
 * metrics, trains or loads the classifier and prints; it alone shows
 * progress (stderr, one phase each: perplexity passes, generation, judge
 * training). eval writes nothing but stdout, stderr and the classifier
 * cache (beside the checkpoint unless --classifier), never into --data.
 * Invariant: the figures do not depend on the number of ranks (up to float
 * summation order in the cross-entropy). Exit codes: 0, 1 (bad input or
 * I/O), 2 (bad flags). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "dist.h"
#include "eval_genre.h"
#include "eval_report.h"
#include "eval_run.h"

typedef struct eval_flags {
    const char *checkpoint, *data, *classifier, *rhyme_dict, *config;
    int json, samples, per_genre, seq_len, prime_lines, batch, threads, retrain, quiet;
    long seed, max_words;
    lm_sampler s;
} eval_flags;

/* Every rank learns whether any failed; one line is printed: rank 0's
 * error if it failed, else the failing ranks'. */
static int agree(const dist_world *w, int failed, const lm_err *e) {
    double v[2] = {failed ? 1.0 : 0.0, failed && w->rank == 0 ? 1.0 : 0.0};
    lm_err e2;
    if (dist_sum_doubles(w, v, 2, &e2)) {
        fprintf(stderr, "lyricmind eval: %s\n", e2.msg);
        dist_world_abort(w, LM_EXIT_FAILURE);
    }
    if (failed && w->rank == 0) fprintf(stderr, "lyricmind eval: %s\n", e->msg);
    else if (failed && v[1] == 0) fprintf(stderr, "lyricmind eval: rank %d: %s\n", w->rank, e->msg);
    return v[0] > 0 ? -1 : 0;
}

/* "seq-len = 30" in the checkpoint's settings, else 30. */
static int config_seq_len(const char *config) {
    for (const char *s = config; s && *s;) {
        int v;
        if ((sscanf(s, "seq-len = %d", &v) == 1 || sscanf(s, "seq_len = %d", &v) == 1) && v > 0) return v;
        const char *nl = strchr(s, '\n');
        s = nl ? nl + 1 : NULL;
    }
    return 30;
}

/* The classifier cache when --classifier is not given:
 * CKPT_DIR/genre-classifier-<corpus hash>.h5, so that corpora never share
 * one and --data is never written. */
static void default_classifier_path(char *buf, size_t n, const char *checkpoint, uint64_t corpus_hash) {
    const char *slash = strrchr(checkpoint, '/'); /* none: the checkpoint is in the current directory */
    int dir_len = slash ? (int)(slash - checkpoint) : 0;
    snprintf(buf, n, "%.*s%s%s%016llx.h5", dir_len, checkpoint, slash ? "/" : "", IO_CLASSIFIER_FILE_PREFIX,
             (unsigned long long)corpus_hash);
}

/* Loads the cached classifier, or (missing, stale or foreign: one note
 * line) trains and saves it. */
static int get_classifier(const eval_flags *f, const io_corpus *c, progress *pr, eval_nb *nb,
                          eval_results *r, lm_err *e) {
    uint32_t V = c->vocab.size;
    if (!f->retrain && access(r->clf_path, F_OK) == 0) {
        if (eval_nb_load(nb, r->clf_path, c->vocab.hash, V, io_classifier_corpus_hash(&c->train), e) == 0) goto done;
        fprintf(stderr, "lyricmind eval: note: retraining the genre classifier: %s\n", e->msg);
    }
    if (eval_nb_init(nb, (int)c->vocab.n_genres, V, IO_TOK_FIRST_GENRE + (int32_t)c->vocab.n_genres,
                     c->vocab.hash, e) ||
        eval_nb_train(nb, &c->train, pr, e))
        return -1;
    r->clf_trained = 1;
    if (eval_nb_save(nb, r->clf_path, e))
        fprintf(stderr, "lyricmind eval: note: genre classifier not saved: %s\n", e->msg);
done:
    for (int g = 0; g < nb->f.G; g++) r->clf_train_songs += nb->f.song_counts[g];
    return 0;
}

/* Rank 0: every figure but the cross-entropy, then the output. */
static int report(const eval_flags *f, const io_corpus *c, const eval_songs *val, const eval_plan *p,
                  progress *pr, eval_results *r, lm_err *e) {
    const int32_t fw = IO_TOK_FIRST_GENRE + (int32_t)c->vocab.n_genres;
    const int G = (int)c->vocab.n_genres;
    size_t n_gen = p->n_tasks - p->n_continue, maxn = 1;
    for (size_t i = 0; i < val->n; i++)
        if (val->off[i + 1] - val->off[i] > maxn) maxn = val->off[i + 1] - val->off[i];
    for (size_t t = 0; t < p->n_tasks; t++) maxn = p->tasks[t].n_gen > maxn ? p->tasks[t].n_gen : maxn;
    eval_doc *docs[EVAL_N_SETS] = {calloc(n_gen + 1, sizeof(eval_doc)), calloc(p->n_real + 1, sizeof(eval_doc))};
    eval_doc *words = calloc((n_gen > p->n_real ? n_gen : p->n_real) + 1, sizeof(eval_doc));
    int32_t *hw = malloc(maxn * sizeof *hw), *rw = malloc(maxn * sizeof *rw);
    int32_t *wbuf = malloc((maxn * (n_gen > p->n_real ? n_gen : p->n_real) + 1) * sizeof *wbuf);
    eval_nb nb = {0};
    eval_rhymer *rh = NULL;
    int rc = -1;
    if (!docs[0] || !docs[1] || !words || !hw || !rw || !wbuf) {
        lm_err_set(e, "out of memory");
        goto out;
    }
    /* BLEU: continuation vs the real rest of the song */
    for (size_t t = 0; t < p->n_continue; t++) {
        const eval_task *k = &p->tasks[t];
        const int32_t *song = val->tok + val->off[k->song];
        size_t len = val->off[k->song + 1] - val->off[k->song];
        eval_doc h = {hw, eval_words(k->gen, k->n_gen, fw, hw)};
        eval_doc ref = {rw, eval_words(song + k->prefix, len - k->prefix, fw, rw)};
        if (eval_bleu_add(&r->bleu, &h, &ref, 1)) goto oom;
    }
    r->bleu_songs = (long)p->n_continue;
    /* generated (per genre) and real comparison songs */
    for (size_t i = 0; i < n_gen; i++) {
        const eval_task *k = &p->tasks[p->n_continue + i];
        docs[EVAL_SET_GEN][i] = (eval_doc){k->gen, k->n_gen};
        r->set[EVAL_SET_GEN].ended_eos += k->n_gen > 0 && k->gen[k->n_gen - 1] == IO_TOK_EOS;
    }
    for (size_t i = 0; i < p->n_real; i++)
        docs[EVAL_SET_REAL][i] = (eval_doc){val->tok + val->off[p->real[i]], val->off[p->real[i] + 1] - val->off[p->real[i]]};
    if (!(rh = eval_rhymer_open(f->rhyme_dict, c->vocab.tokens, c->vocab.size, e))) goto out;
    r->rhyme_known = eval_rhymer_known(rh);
    for (int s = 0; s < EVAL_N_SETS; s++) {
        size_t n = s == EVAL_SET_GEN ? n_gen : p->n_real;
        eval_set_stats *st = &r->set[s];
        if (eval_surface_of(docs[s], n, fw, &st->surf)) goto oom;
        for (size_t i = 0; i < n; i++) {
            if (eval_rhyme_song(rh, docs[s][i].id, docs[s][i].n, fw, &st->rhyme)) goto oom;
            words[i] = (eval_doc){wbuf + i * maxn, eval_words(docs[s][i].id, docs[s][i].n, fw, wbuf + i * maxn)};
        }
        if ((st->self_bleu = eval_self_bleu(words, n)) < 0) goto oom;
    }
    /* genre classifier: all validation songs, then the generated ones */
    if (get_classifier(f, c, pr, &nb, r, e)) goto out;
    r->real_confusion = calloc((size_t)G * G, sizeof(long long));
    r->gen_confusion = calloc((size_t)G * G, sizeof(long long));
    if (!r->real_confusion || !r->gen_confusion) goto oom;
    for (size_t i = 0; i < val->n; i++)
        r->real_confusion[val->genre[i] * G +
                          eval_nb_predict(&nb, val->tok + val->off[i], val->off[i + 1] - val->off[i])]++;
    for (size_t i = 0; i < n_gen; i++)
        r->gen_confusion[p->tasks[p->n_continue + i].genre * G +
                         eval_nb_predict(&nb, docs[EVAL_SET_GEN][i].id, docs[EVAL_SET_GEN][i].n)]++;
    if (f->json ? eval_report_json(stdout, r) : (eval_report_text(stdout, r), 0)) goto oom;
    rc = 0;
    goto out;
oom:
    lm_err_set(e, "out of memory computing the metrics");
out:
    eval_rhymer_free(rh);
    eval_nb_free(&nb);
    free(docs[0]), free(docs[1]), free(words), free(hw), free(rw), free(wbuf);
    return rc;
}

static int run(const eval_flags *f, const dist_world *w) {
    lm_err e = {{0}};
    progress pr;
    int tty = 0;
    char clf[4200], msg[256];
    if (progress_mode(STDERR_FILENO, w->mpi, &tty, msg, sizeof msg)) {
        if (w->rank == 0) fprintf(stderr, "lyricmind eval: %s\n", msg);
        return LM_EXIT_FAILURE; /* as train */
    }
    progress_init(&pr, w->rank == 0 && !f->quiet ? stderr : NULL, tty, 5.0, "eval");
    gen_model g = {0};
    io_corpus c = {0};
    eval_songs val = {0};
    eval_plan plan = {0};
    eval_results r = {0};
    int failed = gen_model_open(&g, f->checkpoint, &e) || io_corpus_open(&c, f->data, &e);
    if (!failed && (c.vocab.hash != g.v->hash || c.vocab.size != g.v->size))
        failed = lm_err_set(&e, "%s: vocabulary (hash %016llx, V=%u) differs from %s/vocab.h5 (hash %016llx)",
                            f->checkpoint, (unsigned long long)g.v->hash, g.v->size, f->data,
                            (unsigned long long)c.vocab.hash);
    if (!failed) failed = eval_songs_load(&val, &c.val, &e);
    eval_gen_opts go = {f->s, f->max_words, f->prime_lines, f->samples,
                        f->per_genre, (uint64_t)f->seed};
    if (!failed) failed = eval_plan_make(&plan, &val, (int)c.vocab.n_genres, g.first_word, &go, &e);
    int rc = LM_EXIT_FAILURE;
    if (agree(w, failed, &e)) goto out;
    r.checkpoint = f->checkpoint, r.data = f->data, r.step = g.ck.step, r.ranks = w->size, r.seed = f->seed;
    r.v = &c.vocab, r.val_songs = (long long)val.n, r.val_tokens = (long long)val.off[val.n];
    r.seq_len = f->seq_len > 0 ? f->seq_len : config_seq_len(g.ck.config);
    r.batch = f->batch, r.sampler = go.sampler, r.max_words = f->max_words, r.prime_lines = f->prime_lines;
    default_classifier_path(clf, sizeof clf, f->checkpoint, io_classifier_corpus_hash(&c.train));
    r.clf_path = f->classifier ? f->classifier : clf;
    failed = eval_ppl_carried(&g.m, &val, w->rank, w->size, f->batch, 32, &pr, r.ppl_carried, &e) ||
             eval_ppl_windows(&g.m, &val, w->rank, w->size, f->batch, r.seq_len, &pr, r.ppl_windows, &e);
    if (agree(w, failed, &e)) goto out;
    double sums[2 * EVAL_PPL_N];
    memcpy(sums, r.ppl_carried, sizeof r.ppl_carried);
    memcpy(sums + EVAL_PPL_N, r.ppl_windows, sizeof r.ppl_windows);
    if (dist_sum_doubles(w, sums, 2 * EVAL_PPL_N, &e)) goto fatal;
    memcpy(r.ppl_carried, sums, sizeof r.ppl_carried);
    memcpy(r.ppl_windows, sums + EVAL_PPL_N, sizeof r.ppl_windows);
    double timing[3];
    if (eval_run_generate(&plan, &g, &val, &go, w, &pr, timing, &e)) goto fatal;
    r.gen_seconds = timing[0], r.gen_words = timing[1], r.gen_tokens = timing[2];
    rc = LM_EXIT_OK;
    if (w->rank == 0 && report(f, &c, &val, &plan, &pr, &r, &e)) {
        fprintf(stderr, "lyricmind eval: %s\n", e.msg);
        rc = LM_EXIT_FAILURE;
    }
out:
    free(r.real_confusion), free(r.gen_confusion);
    eval_plan_free(&plan);
    eval_songs_free(&val);
    io_corpus_close(&c);
    gen_model_close(&g);
    return rc;
fatal:
    fprintf(stderr, "lyricmind eval: rank %d: %s\n", w->rank, e.msg);
    dist_world_abort(w, LM_EXIT_FAILURE);
}

int cmd_eval(int argc, char **argv) {
    eval_flags f = {.rhyme_dict = EVAL_RHYME_DICT, .samples = 32, .per_genre = 8, .prime_lines = 4, .batch = 16,
                    .threads = 1, .seed = 1, .max_words = 300, .s = {0.8f, 0, 1.0f}};
    cli_opt opts[] = {
        {"checkpoint", CLI_STR, &f.checkpoint, "FILE", "checkpoint to evaluate (required)", 0, 0, 0},
        {"data", CLI_STR, &f.data, "DIR", "corpus directory (its validation split is used; required)", 0, 0, 0},
        {"config", CLI_STR, &f.config, "FILE", "INI job file ([eval] section; keys are flag names); flags win", 0, 0, 0},
        {"json", CLI_BOOL, &f.json, NULL, "print one JSON object instead of the table", 0, 0, 0},
        {"samples", CLI_INT, &f.samples, "N", "held-out songs continued for BLEU", 0, 1e6, 0},
        {"per-genre", CLI_INT, &f.per_genre, "M", "songs generated per genre (and real songs per genre compared)", 0, 1e5, 0},
        {"seed", CLI_LONG, &f.seed, "S", "seed of the song choice and of sampling", 0, 9.2e18, 0},
        {"seq-len", CLI_INT, &f.seq_len, "T", "window length of the zero-state regime (0: the checkpoint's seq-len)", 0, 1 << 20, 0},
        {"prime-lines", CLI_INT, &f.prime_lines, "K", "lines of a held-out song given before continuing it", 1, 1e4, 0},
        {"max-words", CLI_LONG, &f.max_words, "N", "word limit of each generated song", 1, 1e7, 0},
        GEN_SAMPLER_FLAGS(f.s),
        {"batch", CLI_INT, &f.batch, "B", "rows per forward pass in the cross-entropy", 1, 4096, 0},
        {"classifier", CLI_STR, &f.classifier, "FILE", "genre classifier cache (default: beside the checkpoint, "
         IO_CLASSIFIER_FILE_PREFIX "<corpus hash>.h5; trained if missing, stale or of another corpus)", 0, 0, 0},
        {"retrain-classifier", CLI_BOOL, &f.retrain, NULL, "train the genre classifier even if its file exists", 0, 0, 0},
        {"rhyme-dict", CLI_STR, &f.rhyme_dict, "FILE", "CMU pronouncing dictionary", 0, 0, 0},
        {"threads", CLI_INT, &f.threads, "N", "OpenBLAS threads per rank", 1, 1024, 0},
        {"quiet", CLI_BOOL, &f.quiet, NULL, "no progress lines on stderr", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"eval", "--checkpoint FILE --data DIR [options]",
                   "Evaluates a checkpoint on the validation split of a corpus: cross-entropy and\n"
                   "perplexity (state carried per song, and zero-state windows; with and without <unk>\n"
                   "targets), BLEU-4 of continuations of held-out songs, self-BLEU, rhyme consistency,\n"
                   "distinct-1/2 and line length of generated vs real songs, and the accuracy of a\n"
                   "naive Bayes genre classifier on real and generated songs. Runs under mpirun too\n"
                   "(ranks split the work, rank 0 reports). Progress with an ETA per phase goes to\n"
                   "stderr (a redrawn line on a terminal, else a line every 5 s and one per finished\n"
                   "phase; --quiet: none). Writes only stdout and the classifier cache, never into\n"
                   "--data. Exit codes: 0 ok, 1 error, 2 bad flags.",
                   opts};
    dist_world w;
    lm_err e;
    if (dist_world_init(&w, &argc, &argv, &e)) {
        fprintf(stderr, "lyricmind eval: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
    if (rc == CLI_OK) rc = cli_load_config(&cmd, f.config);
    if (rc == CLI_OK && (!f.checkpoint || !f.data))
        rc = cli_error(&cmd, "--checkpoint FILE and --data DIR are required");
    if (rc == CLI_OK) {
        openblas_set_num_threads(f.threads);
        rc = run(&f, &w);
    } else {
        rc = rc == CLI_HELP ? LM_EXIT_OK : LM_EXIT_USAGE;
    }
    dist_world_finalize(&w);
    return rc;
}
