/* eval_text: words, lines, n-gram keys and distinct-n (see eval_text.h).
 * Invariant: n-gram keys are exact (no hashing), so two n-grams are equal
 * iff their keys are; keys of different orders are never compared. */
#include "eval_text.h"

#include <stdlib.h>
#include <string.h>

#include "io_vocab.h"

static int is_word(int32_t first_word, int32_t id) { return id >= first_word || id == IO_TOK_UNK; }

size_t eval_words(const int32_t *ids, size_t n, int32_t first_word, int32_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_word(first_word, ids[i])) out[k++] = ids[i];
    return k;
}

size_t eval_ngrams(const int32_t *w, size_t n, int k, uint64_t *out) {
    if (k < 1 || (size_t)k > n) return 0;
    size_t m = n - (size_t)k + 1;
    for (size_t i = 0; i < m; i++) {
        uint64_t key = 0;
        for (int j = 0; j < k; j++) key = (key << 16) | ((uint64_t)w[i + (size_t)j] & 0xffffu);
        out[i] = key;
    }
    return m;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void eval_sort_keys(uint64_t *a, size_t n) { qsort(a, n, sizeof *a, cmp_u64); }

size_t eval_count_unique(const uint64_t *a, size_t n) {
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || a[i] != a[i - 1]) u++;
    return u;
}

size_t eval_lines(const int32_t *ids, size_t n, int32_t first_word, eval_line *out) {
    size_t k = 0;
    int open = 0, stanza = 1;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id == IO_TOK_NL || id == IO_TOK_SEP) {
            if (open) k++;
            open = 0;
            if (id == IO_TOK_SEP) stanza = 1;
        } else if (is_word(first_word, id)) {
            if (!open) {
                out[k] = (eval_line){i, i, 0, stanza};
                open = 1;
                stanza = 0;
            }
            out[k].last = i;
            out[k].words++;
        }
    }
    return k + (size_t)open;
}

int eval_surface_of(const eval_doc *docs, size_t n_docs, int32_t first_word, eval_surface *s) {
    memset(s, 0, sizeof *s);
    size_t total = 0, maxn = 0;
    for (size_t d = 0; d < n_docs; d++) {
        total += docs[d].n;
        maxn = docs[d].n > maxn ? docs[d].n : maxn;
    }
    int32_t *w = malloc((maxn + 1) * sizeof *w);
    eval_line *ln = malloc((maxn + 1) * sizeof *ln);
    uint64_t *keys[2] = {malloc((total + 1) * sizeof(uint64_t)), malloc((total + 1) * sizeof(uint64_t))};
    int rc = (!w || !ln || !keys[0] || !keys[1]) ? -1 : 0;
    for (size_t d = 0; !rc && d < n_docs; d++) {
        size_t nw = eval_words(docs[d].id, docs[d].n, first_word, w);
        s->words += (long)nw;
        s->lines += (long)eval_lines(docs[d].id, docs[d].n, first_word, ln);
        for (int k = 0; k < 2; k++)
            s->ngrams[k] += (long)eval_ngrams(w, nw, k + 1, keys[k] + s->ngrams[k]);
    }
    for (int k = 0; !rc && k < 2; k++) {
        eval_sort_keys(keys[k], (size_t)s->ngrams[k]);
        s->unique[k] = (long)eval_count_unique(keys[k], (size_t)s->ngrams[k]);
        s->distinct[k] = s->ngrams[k] ? (double)s->unique[k] / (double)s->ngrams[k] : 0.0;
    }
    s->songs = (long)n_docs;
    s->mean_line_words = s->lines ? (double)s->words / (double)s->lines : 0.0;
    s->mean_song_words = n_docs ? (double)s->words / (double)n_docs : 0.0;
    free(w), free(ln), free(keys[0]), free(keys[1]);
    return rc;
}
