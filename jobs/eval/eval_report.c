/* eval_report: the table and the JSON object of `eval` (see eval_report.h).
 * Invariant: both are built from the same eval_results with the same
 * derived figures (the helpers below), so they never disagree. */
#include "eval_report.h"

#include "io_json.h"
#include <math.h>
#include <stdlib.h>

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

/* cross-entropy (nats per target) of sums [loss, count] */
static double xent(const double *lc) { return ratio(lc[0], lc[1]); }

static double rhyme_rate(const eval_rhyme_stats *s) { return ratio((double)s->rhymes, (double)s->pairs); }

typedef struct conf_sum {
    long long total, correct, majority;
} conf_sum;

static conf_sum confusion_sum(const long long *m, int G) {
    conf_sum s = {0, 0, 0};
    for (int i = 0; i < G; i++) {
        long long row = 0;
        for (int j = 0; j < G; j++) row += m[i * G + j];
        s.total += row;
        s.correct += m[i * G + i];
        s.majority = row > s.majority ? row : s.majority;
    }
    return s;
}

static void print_confusion(FILE *f, const long long *m, const io_vocab *v, const char *rows) {
    int G = (int)v->n_genres;
    fprintf(f, "  %-10s", rows);
    for (int j = 0; j < G; j++) fprintf(f, " %7.7s", v->genres[j]);
    fprintf(f, "  accuracy\n");
    for (int i = 0; i < G; i++) {
        long long row = 0;
        fprintf(f, "  %-10.10s", v->genres[i]);
        for (int j = 0; j < G; j++) fprintf(f, " %7lld", m[i * G + j]), row += m[i * G + j];
        if (row) fprintf(f, "  %6.1f%%\n", 100.0 * ratio((double)m[i * G + i], (double)row));
        else fprintf(f, "       -\n");
    }
}

static void ppl_rows(FILE *f, const char *name, const double *s) {
    fprintf(f, "  %-34s %-18s %12.0f %9.4f %10.2f\n", name, "all targets", s[EVAL_PPL_COUNT],
            xent(s + EVAL_PPL_LOSS), exp(xent(s + EVAL_PPL_LOSS)));
    fprintf(f, "  %-34s %-18s %12.0f %9.4f %10.2f\n", "", "without <unk>", s[EVAL_PPL_COUNT_KNOWN],
            xent(s + EVAL_PPL_LOSS_KNOWN), exp(xent(s + EVAL_PPL_LOSS_KNOWN)));
}

void eval_report_text(FILE *f, const eval_results *r) {
    const eval_set_stats *g = &r->set[EVAL_SET_GEN], *q = &r->set[EVAL_SET_REAL];
    int G = (int)r->v->n_genres;
    fprintf(f, "lyricmind eval: %s (step %lld) on %s, %d rank(s), seed %lld\n\n", r->checkpoint, r->step,
            r->data, r->ranks, r->seed);
    fprintf(f, "Cross-entropy on the validation split (%lld songs, %lld tokens; natural log)\n", r->val_songs,
            r->val_tokens);
    fprintf(f, "  %-34s %-18s %12s %9s %10s\n", "regime", "targets", "count", "CE", "perplexity");
    ppl_rows(f, "carried state, each song from <bos>", r->ppl_carried);
    char wname[64];
    snprintf(wname, sizeof wname, "zero-state windows, T=%d", r->seq_len);
    ppl_rows(f, wname, r->ppl_windows);

    double p[EVAL_MAX_ORDER], bp;
    double bleu = eval_bleu_score(&r->bleu, p, &bp);
    fprintf(f, "\nGeneration: temperature %g, top-k %d, top-p %g, at most %ld words; %.0f words in %.1f s "
               "(%.0f words/s per rank)\n",
            r->sampler.temperature, r->sampler.top_k, r->sampler.top_p, r->max_words, r->gen_words,
            r->gen_seconds, ratio(r->gen_words, r->gen_seconds));
    fprintf(f, "BLEU-4 of %ld continuations of held-out songs primed on %d lines: %.4f\n", r->bleu_songs,
            r->prime_lines, bleu);
    fprintf(f, "  (p1..p4 %.4f %.4f %.4f %.4f, brevity penalty %.4f, %.0f generated / %.0f real words;"
               " corpus-level, Chen & Cherry smoothing 1)\n",
            p[0], p[1], p[2], p[3], bp, r->bleu.hyp_len, r->bleu.ref_len);

    fprintf(f, "\n  %-40s %14s %14s\n", "", "generated", "real held-out");
    fprintf(f, "  %-40s %14ld %14ld\n", "songs", g->surf.songs, q->surf.songs);
    fprintf(f, "  %-40s %14.4f %14.4f\n", "self-BLEU-4 (lower = more diverse)", g->self_bleu, q->self_bleu);
    fprintf(f, "  %-40s %13.1f%% %13.1f%%\n", "rhyme consistency (line pairs)", 100 * rhyme_rate(&g->rhyme),
            100 * rhyme_rate(&q->rhyme));
    fprintf(f, "  %-40s %14ld %14ld\n", "  pairs judged", g->rhyme.pairs, q->rhyme.pairs);
    fprintf(f, "  %-40s %13.1f%% %13.1f%%\n", "  of which the same word repeated",
            100 * ratio((double)g->rhyme.identical, (double)g->rhyme.pairs),
            100 * ratio((double)q->rhyme.identical, (double)q->rhyme.pairs));
    fprintf(f, "  %-40s %13.1f%% %13.1f%%\n", "  judged by spelling (not in CMU dict)",
            100 * ratio((double)g->rhyme.spelled, (double)g->rhyme.pairs),
            100 * ratio((double)q->rhyme.spelled, (double)q->rhyme.pairs));
    fprintf(f, "  %-40s %14.4f %14.4f\n", "distinct-1", g->surf.distinct[0], q->surf.distinct[0]);
    fprintf(f, "  %-40s %14.4f %14.4f\n", "distinct-2", g->surf.distinct[1], q->surf.distinct[1]);
    fprintf(f, "  %-40s %14.2f %14.2f\n", "mean line length (words)", g->surf.mean_line_words,
            q->surf.mean_line_words);
    fprintf(f, "  %-40s %14.1f %14.1f\n", "mean song length (words)", g->surf.mean_song_words,
            q->surf.mean_song_words);
    fprintf(f, "  %-40s %13.1f%% %14s\n", "songs that ended with <eos>",
            100 * ratio((double)g->ended_eos, (double)g->surf.songs), "-");

    conf_sum rs = confusion_sum(r->real_confusion, G), gs = confusion_sum(r->gen_confusion, G);
    fprintf(f, "\nGenre classifier: multinomial naive Bayes, %s %s (%.0f training songs)\n",
            r->clf_trained ? "trained now and saved to" : "loaded from", r->clf_path, r->clf_train_songs);
    fprintf(f, "  accuracy on real held-out songs: %.1f%% of %lld (majority-class baseline %.1f%%)\n",
            100 * ratio((double)rs.correct, (double)rs.total), rs.total,
            100 * ratio((double)rs.majority, (double)rs.total));
    print_confusion(f, r->real_confusion, r->v, "true \\ pred");
    fprintf(f, "  accuracy on generated songs (requested genre): %.1f%% of %lld\n",
            100 * ratio((double)gs.correct, (double)gs.total), gs.total);
    print_confusion(f, r->gen_confusion, r->v, "asked \\ pred");
}

/* ---- JSON (io_json: counts as integers, reals shortest float) ------------------ */

#define R(x) io_json_real(x)
#define N(x) ((json_int_t)llround(x)) /* a count kept in a double */

static json_t *xent_json(const double *lc) {
    double ce = xent(lc);
    return json_pack("{s:I, s:o, s:o}", "targets", N(lc[1]), "cross_entropy", R(ce), "perplexity", R(exp(ce)));
}

static json_t *confusion_json(const long long *m, int G) {
    json_t *a = json_array();
    for (int i = 0; i < G; i++) {
        json_t *row = json_array();
        for (int j = 0; j < G; j++) json_array_append_new(row, json_integer(m[i * G + j]));
        json_array_append_new(a, row);
    }
    return a;
}

static json_t *set_json(const eval_set_stats *s, int generated) {
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:o}}", "songs",
        (json_int_t)s->surf.songs, "words", (json_int_t)s->surf.words, "lines", (json_int_t)s->surf.lines,
        "self_bleu4", R(s->self_bleu), "distinct1", R(s->surf.distinct[0]), "distinct2", R(s->surf.distinct[1]),
        "mean_line_words", R(s->surf.mean_line_words), "mean_song_words", R(s->surf.mean_song_words), "rhyme",
        "pairs", (json_int_t)s->rhyme.pairs, "rhymes", (json_int_t)s->rhyme.rhymes, "identical",
        (json_int_t)s->rhyme.identical, "by_spelling", (json_int_t)s->rhyme.spelled, "unjudged",
        (json_int_t)s->rhyme.unjudged, "rate", R(rhyme_rate(&s->rhyme)));
    if (o && generated)
        json_object_set_new(o, "ended_eos", R(ratio((double)s->ended_eos, (double)s->surf.songs)));
    return o;
}

static json_t *generation_json(const eval_results *r) {
    return json_pack("{s:o, s:i, s:o, s:I, s:i, s:o, s:I, s:I, s:o}", "temperature", R(r->sampler.temperature),
                     "top_k", r->sampler.top_k, "top_p", R(r->sampler.top_p), "max_words",
                     (json_int_t)r->max_words, "prime_lines", r->prime_lines, "seconds", R(r->gen_seconds),
                     "words", N(r->gen_words), "tokens", N(r->gen_tokens), "words_per_s",
                     R(ratio(r->gen_words, r->gen_seconds)));
}

static json_t *bleu_json(const eval_results *r) {
    double p[EVAL_MAX_ORDER], bp;
    double bleu = eval_bleu_score(&r->bleu, p, &bp);
    return json_pack("{s:I, s:o, s:[oooo], s:o, s:I, s:I, s:s}", "songs", (json_int_t)r->bleu_songs, "bleu4",
                     R(bleu), "precisions", R(p[0]), R(p[1]), R(p[2]), R(p[3]), "brevity_penalty", R(bp),
                     "hyp_words", N(r->bleu.hyp_len), "ref_words", N(r->bleu.ref_len), "smoothing",
                     "Chen & Cherry method 1 (epsilon 0.1), as NLTK");
}

static json_t *genre_json(const eval_results *r) {
    int G = (int)r->v->n_genres;
    conf_sum rs = confusion_sum(r->real_confusion, G), gs = confusion_sum(r->gen_confusion, G);
    json_t *genres = json_array();
    for (int i = 0; i < G; i++) json_array_append_new(genres, io_json_str(r->v->genres[i]));
    return json_pack("{s:s, s:o, s:b, s:I, s:o, s:o, s:I, s:o, s:o, s:o, s:I, s:o}", "classifier",
                     "multinomial naive Bayes", "path", io_json_str(r->clf_path), "trained_now", r->clf_trained,
                     "train_songs", N(r->clf_train_songs), "genres", genres, "real_accuracy",
                     R(ratio((double)rs.correct, (double)rs.total)), "real_songs", (json_int_t)rs.total,
                     "majority_baseline", R(ratio((double)rs.majority, (double)rs.total)), "real_confusion",
                     confusion_json(r->real_confusion, G), "generated_accuracy",
                     R(ratio((double)gs.correct, (double)gs.total)), "generated_songs", (json_int_t)gs.total,
                     "generated_confusion", confusion_json(r->gen_confusion, G));
}

int eval_report_json(FILE *f, const eval_results *r) {
    json_t *o = json_pack(
        "{s:o, s:o, s:I, s:i, s:I,"
        " s:{s:I, s:I, s:{s:o, s:o}, s:{s:i, s:o, s:o}},"
        " s:o, s:o, s:o, s:o, s:I, s:o}",
        "checkpoint", io_json_str(r->checkpoint), "data", io_json_str(r->data), "step", (json_int_t)r->step,
        "ranks", r->ranks, "seed", (json_int_t)r->seed,
        "perplexity", "val_songs", (json_int_t)r->val_songs, "val_tokens", (json_int_t)r->val_tokens,
        "carried", "all", xent_json(r->ppl_carried + EVAL_PPL_LOSS), "no_unk",
        xent_json(r->ppl_carried + EVAL_PPL_LOSS_KNOWN), "windows", "seq_len", r->seq_len, "all",
        xent_json(r->ppl_windows + EVAL_PPL_LOSS), "no_unk", xent_json(r->ppl_windows + EVAL_PPL_LOSS_KNOWN),
        "generation", generation_json(r), "bleu", bleu_json(r), "generated", set_json(&r->set[EVAL_SET_GEN], 1),
        "real", set_json(&r->set[EVAL_SET_REAL], 0), "rhyme_dict_words", (json_int_t)r->rhyme_known, "genre",
        genre_json(r));
    return io_json_write_line(f, o);
}
