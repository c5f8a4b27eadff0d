/* eval_bleu: corpus BLEU-4 with method-1 smoothing and self-BLEU (see
 * eval_bleu.h). N-gram counts come from sorted exact keys (eval_text.h):
 * a hypothesis n-gram's count in a reference is an equal-range search.
 * Invariant: results equal NLTK's corpus_bleu / sentence_bleu with
 * SmoothingFunction().method1 on the same token sequences. */
#include "eval_bleu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The sorted n-gram keys of one sequence, per order. */
typedef struct grams {
    uint64_t *k[EVAL_MAX_ORDER];
    size_t n[EVAL_MAX_ORDER];
    size_t len;
} grams;

static void grams_free(grams *g) {
    for (int o = 0; o < EVAL_MAX_ORDER; o++) free(g->k[o]);
    memset(g, 0, sizeof *g);
}

static int grams_of(grams *g, const eval_doc *d) {
    memset(g, 0, sizeof *g);
    g->len = d->n;
    for (int o = 0; o < EVAL_MAX_ORDER; o++) {
        g->k[o] = malloc((d->n + 1) * sizeof(uint64_t));
        if (!g->k[o]) {
            grams_free(g);
            return -1;
        }
        g->n[o] = eval_ngrams(d->id, d->n, o + 1, g->k[o]);
        eval_sort_keys(g->k[o], g->n[o]);
    }
    return 0;
}

/* Occurrences of key in the sorted a[0..n). */
static size_t count_in(const uint64_t *a, size_t n, uint64_t key) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    size_t i = lo;
    while (i < n && a[i] == key) i++;
    return i - lo;
}

/* Adds hypothesis h against references refs[i] (skip == i is left out). */
static void add_grams(eval_bleu *b, const grams *h, const grams *refs, size_t n_refs, size_t skip) {
    for (int o = 0; o < EVAL_MAX_ORDER; o++) {
        const uint64_t *k = h->k[o];
        size_t n = h->n[o], matched = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && k[j] == k[i]) j++;
            size_t best = 0;
            for (size_t r = 0; r < n_refs && best < j - i; r++) {
                if (r == skip) continue;
                size_t c = count_in(refs[r].k[o], refs[r].n[o], k[i]);
                best = c > best ? c : best;
            }
            matched += best < j - i ? best : j - i;
            i = j;
        }
        b->match[o] += (double)matched;
        b->total[o] += n > 0 ? (double)n : 1.0;
    }
    /* closest reference length, ties to the shorter */
    size_t c = h->len, best = 0;
    int have = 0;
    for (size_t r = 0; r < n_refs; r++) {
        if (r == skip) continue;
        size_t l = refs[r].len, d = l > c ? l - c : c - l;
        size_t bd = best > c ? best - c : c - best;
        if (!have || d < bd || (d == bd && l < best)) best = l;
        have = 1;
    }
    b->hyp_len += (double)c;
    b->ref_len += (double)best;
}

int eval_bleu_add(eval_bleu *b, const eval_doc *hyp, const eval_doc *refs, size_t n_refs) {
    grams h, *r = calloc(n_refs + 1, sizeof *r);
    if (!r || grams_of(&h, hyp)) {
        free(r);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n_refs && !rc; i++) rc = grams_of(&r[i], &refs[i]);
    if (!rc) add_grams(b, &h, r, n_refs, (size_t)-1);
    for (size_t i = 0; i < n_refs; i++) grams_free(&r[i]);
    grams_free(&h);
    free(r);
    return rc;
}

double eval_bleu_score(const eval_bleu *b, double p[EVAL_MAX_ORDER], double *bp) {
    double lp = 0.0, pp[EVAL_MAX_ORDER] = {0};
    for (int o = 0; o < EVAL_MAX_ORDER; o++) {
        double num = b->match[o] > 0 ? b->match[o] : EVAL_BLEU_EPSILON;
        pp[o] = b->total[o] > 0 ? num / b->total[o] : 0.0;
        lp += pp[o] > 0 ? log(pp[o]) : -INFINITY;
    }
    double c = b->hyp_len, r = b->ref_len;
    double brev = c > r ? 1.0 : c > 0 ? exp(1.0 - r / c) : 0.0;
    if (p) memcpy(p, pp, sizeof pp);
    if (bp) *bp = brev;
    if (b->match[0] <= 0 || c <= 0) return 0.0;
    return brev * exp(lp / EVAL_MAX_ORDER);
}

double eval_self_bleu(const eval_doc *docs, size_t n) {
    if (n < 2) return 0.0;
    grams *g = calloc(n, sizeof *g);
    if (!g) return -1.0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = grams_of(&g[i], &docs[i]);
    double sum = 0.0;
    for (size_t i = 0; i < n && !rc; i++) {
        eval_bleu b;
        memset(&b, 0, sizeof b);
        add_grams(&b, &g[i], g, n, i);
        sum += eval_bleu_score(&b, NULL, NULL);
    }
    for (size_t i = 0; i < n; i++) grams_free(&g[i]);
    free(g);
    return rc ? -1.0 : sum / (double)n;
}
