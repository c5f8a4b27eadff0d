/* pp_vocab: word dictionaries and vocabulary selection (see pp_vocab.h).
 * Invariants: slots is at most half full; every id < n has exactly one slot;
 * woff/wlen/counts have n valid entries; arena words carry a NUL after them
 * so pp_dict_word returns a C string. */
#include "pp_vocab.h"

#include <stdlib.h>
#include <string.h>

#include "pp_hash.h"

int pp_dict_init(pp_dict *d) {
    memset(d, 0, sizeof *d);
    d->cap = 1024;
    d->slots = calloc(d->cap, sizeof *d->slots);
    return d->slots ? 0 : -1;
}

void pp_dict_free(pp_dict *d) {
    free(d->slots);
    free(d->counts);
    free(d->woff);
    free(d->wlen);
    free(d->arena);
    memset(d, 0, sizeof *d);
}

static int dict_grow_slots(pp_dict *d) {
    size_t cap = d->cap * 2;
    uint64_t *s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < d->cap; i++) {
        uint64_t v = d->slots[i];
        if (!v) continue;
        uint32_t id = (uint32_t)v - 1;
        size_t j = pp_hash_word(d->arena + d->woff[id], d->wlen[id]) & (cap - 1);
        while (s[j]) j = (j + 1) & (cap - 1);
        s[j] = v;
    }
    free(d->slots);
    d->slots = s;
    d->cap = cap;
    return 0;
}

static int dict_add_word(pp_dict *d, const char *word, size_t len) {
    if (d->n == d->ncap) {
        uint32_t nc = d->ncap ? d->ncap * 2 : 1024;
        if (nc <= d->ncap) return -1;
        uint64_t *c = realloc(d->counts, nc * sizeof *c);
        if (!c) return -1;
        d->counts = c;
        uint64_t *o = realloc(d->woff, nc * sizeof *o);
        if (!o) return -1;
        d->woff = o;
        uint32_t *l = realloc(d->wlen, nc * sizeof *l);
        if (!l) return -1;
        d->wlen = l;
        d->ncap = nc;
    }
    if (d->alen + len + 1 > d->acap) {
        size_t ac = d->acap ? d->acap * 2 : 16384;
        while (ac < d->alen + len + 1) ac *= 2;
        char *a = realloc(d->arena, ac);
        if (!a) return -1;
        d->arena = a;
        d->acap = ac;
    }
    memcpy(d->arena + d->alen, word, len);
    d->arena[d->alen + len] = 0;
    d->woff[d->n] = d->alen;
    d->wlen[d->n] = (uint32_t)len;
    d->counts[d->n] = 0;
    d->alen += len + 1;
    return 0;
}

int64_t pp_dict_intern(pp_dict *d, const char *word, size_t len) {
    uint64_t h = pp_hash_word(word, len);
    uint64_t tag = h >> 32 << 32;
    size_t mask = d->cap - 1, i = h & mask;
    for (;;) {
        uint64_t v = d->slots[i];
        if (!v) break;
        if ((v & 0xffffffff00000000ULL) == tag) {
            uint32_t id = (uint32_t)v - 1;
            if (d->wlen[id] == len && memcmp(d->arena + d->woff[id], word, len) == 0) return id;
        }
        i = (i + 1) & mask;
    }
    if (len > UINT32_MAX || d->n == UINT32_MAX - 1 || dict_add_word(d, word, len)) return -1;
    uint32_t id = d->n++;
    d->slots[i] = tag | ((uint64_t)id + 1);
    if ((size_t)d->n * 2 > d->cap && dict_grow_slots(d)) {
        d->n--; /* keep the invariant: the slot just filled is rolled back */
        d->slots[i] = 0;
        d->alen = d->woff[id];
        return -1;
    }
    return id;
}

int64_t pp_dict_find(const pp_dict *d, const char *word, size_t len) {
    uint64_t h = pp_hash_word(word, len);
    uint64_t tag = h >> 32 << 32;
    size_t mask = d->cap - 1, i = h & mask;
    for (uint64_t v; (v = d->slots[i]) != 0; i = (i + 1) & mask) {
        if ((v & 0xffffffff00000000ULL) != tag) continue;
        uint32_t id = (uint32_t)v - 1;
        if (d->wlen[id] == len && memcmp(d->arena + d->woff[id], word, len) == 0) return id;
    }
    return -1;
}

/* ---- selection --------------------------------------------------------------- */


static int cmp_word_bytes(const pp_dict *g, uint32_t a, uint32_t b) {
    size_t la = g->wlen[a], lb = g->wlen[b];
    int c = memcmp(pp_dict_word(g, a), pp_dict_word(g, b), la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

/* qsort has no context argument in C11; a static pointer would be global
 * mutable state, so sort (count, id) pairs by a merge sort that takes one. */
static int rank_before(const pp_dict *g, uint32_t a, uint32_t b) {
    if (g->counts[a] != g->counts[b]) return g->counts[a] > g->counts[b];
    return cmp_word_bytes(g, a, b) < 0;
}

static void merge_sort(const pp_dict *g, uint32_t *v, uint32_t *tmp, size_t n) {
    if (n < 2) return;
    if (n <= 16) { /* insertion sort for small runs */
        for (size_t i = 1; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            while (j > 0 && rank_before(g, x, v[j - 1])) v[j] = v[j - 1], j--;
            v[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    merge_sort(g, v, tmp, h);
    merge_sort(g, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = rank_before(g, v[j], v[i]) ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

void pp_vocab_pick_free(pp_vocab_pick *p, int ndicts) {
    if (p->map)
        for (int k = 0; k < ndicts; k++) free(p->map[k]);
    free(p->map);
    if (p->words)
        for (uint32_t i = 0; i < p->n_words; i++) free(p->words[i]);
    free(p->words);
    free(p->counts);
    memset(p, 0, sizeof *p);
}

int pp_vocab_select(pp_dict *const *dicts, int ndicts, uint64_t min_count, uint32_t max_words,
                    pp_vocab_pick *out, lm_err *e) {
    memset(out, 0, sizeof *out);
    pp_dict g;
    uint32_t *order = NULL, *tmp = NULL, *rank = NULL;
    if (pp_dict_init(&g)) return lm_err_set(e, "out of memory building the vocabulary");
    out->map = calloc((size_t)ndicts, sizeof *out->map);
    if (!out->map) goto nomem;
    /* merge: map[k][id] first holds the global id, rewritten to a rank below */
    for (int k = 0; k < ndicts; k++) {
        const pp_dict *d = dicts[k];
        out->map[k] = malloc(((size_t)d->n + 1) * sizeof **out->map);
        if (!out->map[k]) goto nomem;
        for (uint32_t id = 0; id < d->n; id++) {
            int64_t gid = pp_dict_intern(&g, pp_dict_word(d, id), d->wlen[id]);
            if (gid < 0) goto nomem;
            g.counts[gid] += d->counts[id];
            out->map[k][id] = (uint32_t)gid;
        }
    }
    out->n_types = g.n;
    order = malloc(((size_t)g.n + 1) * sizeof *order);
    tmp = malloc(((size_t)g.n + 1) * sizeof *tmp);
    rank = malloc(((size_t)g.n + 1) * sizeof *rank);
    if (!order || !tmp || !rank) goto nomem;
    uint32_t m = 0;
    for (uint32_t i = 0; i < g.n; i++) {
        out->total_count += g.counts[i];
        rank[i] = UINT32_MAX;
        if (g.counts[i] >= min_count && g.counts[i] > 0) order[m++] = i;
    }
    merge_sort(&g, order, tmp, m);
    if (m > max_words) m = max_words;
    out->words = calloc((size_t)m + 1, sizeof *out->words);
    out->counts = malloc(((size_t)m + 1) * sizeof *out->counts);
    if (!out->words || !out->counts) goto nomem;
    uint64_t kept = 0;
    for (uint32_t r = 0; r < m; r++) {
        uint32_t gid = order[r];
        rank[gid] = r;
        out->words[r] = strdup(pp_dict_word(&g, gid));
        if (!out->words[r]) goto nomem;
        out->counts[r] = g.counts[gid];
        out->n_words = r + 1;
        kept += g.counts[gid];
    }
    out->oov_count = out->total_count - kept;
    for (int k = 0; k < ndicts; k++)
        for (uint32_t id = 0; id < dicts[k]->n; id++) out->map[k][id] = rank[out->map[k][id]];
    free(order);
    free(tmp);
    free(rank);
    pp_dict_free(&g);
    return 0;
nomem:
    free(order);
    free(tmp);
    free(rank);
    pp_dict_free(&g);
    pp_vocab_pick_free(out, ndicts);
    return lm_err_set(e, "out of memory building the vocabulary");
}
