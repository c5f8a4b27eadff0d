/* pp_vocab: word dictionaries and vocabulary selection (see pp_vocab.h).
 * Invariants: slots is at most half full; every id < n has exactly one slot;
 * woff/wlen have n valid entries; arena words carry a NUL after them
 * so pp_dict_word returns a C string. */
#include "pp_vocab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Zeroed slot table. Large tables ask for transparent huge pages: lookups
 * are random over megabytes, and 4 KiB pages would make most of them TLB
 * misses as well as cache misses. */
static pp_dict_slot *slots_alloc(size_t cap) {
    size_t bytes = cap * sizeof(pp_dict_slot);
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge) return calloc(cap, sizeof(pp_dict_slot));
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
    memset(p, 0, bytes);
    return p;
}

int pp_dict_init(pp_dict *d) {
    memset(d, 0, sizeof *d);
    d->cap = 1024;
    d->slots = slots_alloc(d->cap);
    return d->slots ? 0 : -1;
}

void pp_dict_free(pp_dict *d) {
    free(d->slots);
    free(d->woff);
    free(d->wlen);
    free(d->arena);
    memset(d, 0, sizeof *d);
}

static inline int slot_is(const pp_dict *d, const pp_dict_slot *s, const char *word, size_t len, uint64_t w8) {
    if (s->w8 != w8 || s->len != len) return 0;
    if (len <= 8) return 1;
    const char *a = d->arena + d->woff[s->id1 - 1] + 8;
    if (len <= 16) return pp_load8(a, len - 8) == pp_load8(word + 8, len - 8);
    return memcmp(a, word + 8, len - 8) == 0;
}

static int dict_grow_slots(pp_dict *d) {
    size_t cap = d->cap * 2;
    pp_dict_slot *s = slots_alloc(cap);
    if (!s) return -1;
    for (size_t i = 0; i < d->cap; i++) {
        pp_dict_slot v = d->slots[i];
        if (!v.id1) continue;
        size_t j = pp_dict_key_of(d->arena + d->woff[v.id1 - 1], d->wlen[v.id1 - 1]).hash & (cap - 1);
        while (s[j].id1) j = (j + 1) & (cap - 1);
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
    d->alen += len + 1;
    return 0;
}

int64_t pp_dict_add_key(pp_dict *d, const char *word, size_t len, pp_dict_key k, uint64_t inc) {
    uint64_t w8 = k.w8;
    size_t mask = d->cap - 1, i = k.hash & mask;
    for (pp_dict_slot *s; (s = &d->slots[i])->id1; i = (i + 1) & mask)
        if (slot_is(d, s, word, len, w8)) {
            s->count += inc;
            return s->id1 - 1;
        }
    if (len > UINT32_MAX || d->n == UINT32_MAX - 1 || dict_add_word(d, word, len)) return -1;
    uint32_t id = d->n++;
    d->slots[i] = (pp_dict_slot){w8, (uint32_t)len, id + 1, inc};
    if ((size_t)d->n * 2 > d->cap && dict_grow_slots(d)) {
        d->n--; /* roll back: the slot just filled was at the end of its chain */
        d->slots[i].id1 = 0;
        d->alen = d->woff[id];
        return -1;
    }
    return id;
}

void pp_dict_counts(const pp_dict *d, uint64_t *counts) {
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].id1) counts[d->slots[i].id1 - 1] = d->slots[i].count;
}

int64_t pp_dict_find(const pp_dict *d, const char *word, size_t len) {
    pp_dict_key k = pp_dict_key_of(word, len);
    uint64_t w8 = k.w8;
    size_t mask = d->cap - 1, i = k.hash & mask;
    for (; d->slots[i].id1; i = (i + 1) & mask)
        if (slot_is(d, &d->slots[i], word, len, w8)) return d->slots[i].id1 - 1;
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
typedef struct {
    const pp_dict *g;
    const uint64_t *counts;
} rank_ctx;

static int rank_before(const rank_ctx *c, uint32_t a, uint32_t b) {
    if (c->counts[a] != c->counts[b]) return c->counts[a] > c->counts[b];
    return cmp_word_bytes(c->g, a, b) < 0;
}

static void merge_sort(const rank_ctx *g, uint32_t *v, uint32_t *tmp, size_t n) {
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
    uint64_t *c = NULL, *gc = NULL;
    int rc = -1; /* until the end is reached */
    if (pp_dict_init(&g)) return lm_err_set(e, "out of memory building the vocabulary");
    out->map = calloc((size_t)ndicts, sizeof *out->map);
    if (!out->map) goto nomem;
    /* merge: map[k][id] first holds the global id, rewritten to a rank below */
    for (int k = 0; k < ndicts; k++) {
        const pp_dict *d = dicts[k];
        out->map[k] = malloc(((size_t)d->n + 1) * sizeof **out->map);
        free(c);
        c = malloc(((size_t)d->n + 1) * sizeof *c);
        if (!out->map[k] || !c) goto nomem;
        pp_dict_counts(d, c);
        for (uint32_t id = 0; id < d->n; id++) {
            int64_t gid = pp_dict_add(&g, pp_dict_word(d, id), d->wlen[id], c[id]);
            if (gid < 0) goto nomem;
            out->map[k][id] = (uint32_t)gid;
        }
    }
    out->n_types = g.n;
    order = malloc(((size_t)g.n + 1) * sizeof *order);
    tmp = malloc(((size_t)g.n + 1) * sizeof *tmp);
    rank = malloc(((size_t)g.n + 1) * sizeof *rank);
    gc = malloc(((size_t)g.n + 1) * sizeof *gc);
    if (!order || !tmp || !rank || !gc) goto nomem;
    pp_dict_counts(&g, gc);
    uint32_t m = 0;
    for (uint32_t i = 0; i < g.n; i++) {
        out->total_count += gc[i];
        rank[i] = UINT32_MAX;
        if (gc[i] >= min_count && gc[i] > 0) order[m++] = i;
    }
    rank_ctx rk = {&g, gc};
    merge_sort(&rk, order, tmp, m);
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
        out->counts[r] = gc[gid];
        out->n_words = r + 1;
        kept += gc[gid];
    }
    out->oov_count = out->total_count - kept;
    for (int k = 0; k < ndicts; k++)
        for (uint32_t id = 0; id < dicts[k]->n; id++) out->map[k][id] = rank[out->map[k][id]];
    rc = 0;
nomem:
    if (rc) {
        pp_vocab_pick_free(out, ndicts);
        lm_err_set(e, "out of memory building the vocabulary");
    }
    free(order);
    free(tmp);
    free(rank);
    free(c);
    free(gc);
    pp_dict_free(&g);
    return rc;
}
