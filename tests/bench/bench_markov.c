/* bench_markov: an order-2 word Markov model per genre, learnt from a real
 * lyrics corpus, that samples synthetic songs for the preprocess scale
 * benchmark (the make_corpus tool of tests/bench, not part of lyricmind).
 *
 * Tokens are the raw whitespace-separated words of each line (case and
 * punctuation kept, so the cleaner does real work on the output) plus a
 * line-break token. Song i of a corpus depends only on the model, the seed
 * and i (its own RNG stream), so songs can be sampled in interleaved batches. Every song of the corpus is learnt once (identical raw
 * texts are skipped). A synthetic song takes the genre and the length (in
 * tokens) of a real song drawn uniformly, then walks the chain from the
 * song-start state; reaching a song end before the length starts a new
 * stanza from the start state. States (previous, current) are numbered in
 * sorted order and each successor stores the state it leads to, so sampling a
 * token is two array reads, and output depends on the corpus and the seed only.
 * Invariant: every state reachable from the start state has a successor
 * (the corpus only contains states that were followed by something). */
#include "bench_markov.h"

#include <stdlib.h>
#include <string.h>

#include "lm_rng.h"
#include "pp.h"
#include "pp_dedup.h"
#include "pp_vocab.h"

#define BOS 0xFFFFFFFEu
#define EOS 0xFFFFFFFDu
#define NL 0u /* the first interned token is "\n" */

typedef struct pair {
    uint64_t key;
    uint32_t next, pad;
} pair;

typedef struct slot {
    uint64_t key;
    uint32_t state, used;
} slot;

/* States are the distinct (previous, current) pairs, numbered in key order;
 * state s's successors are succ[first[s] .. first[s+1]); successor j emits
 * token succ[j].next and moves to state succ[j].to (NO_STATE after EOS). */
#define NO_STATE 0xFFFFFFFFu

typedef struct succ {
    uint32_t next, to; /* side by side: one cache miss per sampled token */
} succ;

typedef struct gmodel {
    uint32_t *seq; /* while learning: BOS BOS tokens... EOS per song */
    size_t n, cap;
    uint32_t nstates, start; /* start = the state (BOS, BOS) */
    uint32_t *first;
    succ *succ;
} gmodel;

struct bench_markov {
    pp_dict dict;
    gmodel g[PP_N_CANONICAL];
    uint8_t *song_genre; /* per real song */
    uint32_t *song_len;
    size_t n_songs, song_cap;
    pp_dedup *seen;
    lm_err err;
    int failed;
};

static uint64_t state_key(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }

static int push(gmodel *g, uint32_t t) {
    if (g->n == g->cap) {
        size_t c = g->cap ? g->cap * 2 : 1 << 16;
        uint32_t *s = realloc(g->seq, c * sizeof *s);
        if (!s) return -1;
        g->seq = s;
        g->cap = c;
    }
    g->seq[g->n++] = t;
    return 0;
}

/* Appends one song's raw tokens to its genre's sequence; returns its length. */
static int64_t learn_song(bench_markov *m, gmodel *g, const char *text, size_t len) {
    size_t mark = g->n;
    int64_t ntok = 0;
    if (push(g, BOS) || push(g, BOS)) return -1;
    size_t i = 0;
    while (i < len) {
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) i++;
        if (i >= len) break;
        if (text[i] == '\n') { /* leading breaks are dropped */
            if (ntok > 0 && push(g, NL)) return -1;
            ntok += ntok > 0, i++;
            continue;
        }
        size_t j = i;
        while (j < len && text[j] != ' ' && text[j] != '\t' && text[j] != '\r' && text[j] != '\n') j++;
        int64_t id = pp_dict_intern(&m->dict, text + i, j - i);
        if (id < 0 || push(g, (uint32_t)id)) return -1;
        ntok++, i = j;
    }
    while (ntok > 0 && g->seq[g->n - 1] == NL) g->n--, ntok--; /* trailing breaks */
    if (ntok == 0) {
        g->n = mark;
        return 0;
    }
    return push(g, EOS) ? -1 : ntok;
}

static int on_record(const pp_record *r, void *ctx) {
    bench_markov *m = ctx;
    if (!r->text || r->skip != PP_SKIP_NONE) return 0;
    const char *canon = r->genre ? pp_genre_map_lookup(NULL, r->genre) : NULL;
    int g = canon ? pp_genre_canonical_index(canon) : -1;
    if (g < 0) return 0;
    int fresh = pp_dedup_claim(m->seen, pp_hash128(r->text, r->text_len, 0));
    if (fresh <= 0) return fresh < 0 ? (m->failed = 1) : 0;
    int64_t n = learn_song(m, &m->g[g], r->text, r->text_len);
    if (n < 0) return m->failed = 1;
    if (n == 0) return 0;
    if (m->n_songs == m->song_cap) {
        size_t c = m->song_cap ? m->song_cap * 2 : 4096;
        uint8_t *sg = realloc(m->song_genre, c);
        if (sg) m->song_genre = sg;
        uint32_t *sl = realloc(m->song_len, c * sizeof *sl);
        if (sl) m->song_len = sl;
        if (!sg || !sl) return m->failed = 1;
        m->song_cap = c;
    }
    m->song_genre[m->n_songs] = (uint8_t)g;
    m->song_len[m->n_songs++] = (uint32_t)n;
    return 0;
}

static int cmp_pair(const void *a, const void *b) {
    const pair *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->next > y->next) - (x->next < y->next);
}

static slot *find(slot *tab, size_t cap, uint64_t key) {
    size_t mask = cap - 1, i = pp_mix64(key) & mask;
    while (tab[i].used && tab[i].key != key) i = (i + 1) & mask;
    return &tab[i];
}

/* Builds the states and successor runs of one genre. */
static int index_genre(gmodel *g) {
    if (g->n < 3) return 0;
    pair *p = malloc(g->n * sizeof *p);
    if (!p) return -1;
    size_t np = 0;
    for (size_t i = 0; i + 2 < g->n; i++) {
        if (g->seq[i + 1] == EOS || g->seq[i] == EOS) continue;
        p[np++] = (pair){state_key(g->seq[i], g->seq[i + 1]), g->seq[i + 2], 0};
    }
    free(g->seq); /* the sequence is no longer needed */
    g->seq = NULL;
    g->n = g->cap = 0;
    qsort(p, np, sizeof *p, cmp_pair);
    uint32_t ns = 0;
    for (size_t i = 0; i < np; i++) ns += i == 0 || p[i].key != p[i - 1].key;
    size_t cap = 1024;
    while (cap < (size_t)ns * 2) cap *= 2;
    slot *tab = calloc(cap, sizeof *tab);
    g->first = malloc(((size_t)ns + 1) * sizeof *g->first);
    g->succ = malloc((np + 1) * sizeof *g->succ);
    if (!tab || !g->first || !g->succ) {
        free(p), free(tab);
        return -1;
    }
    g->nstates = ns;
    uint32_t s = 0;
    for (size_t i = 0; i < np; i++) {
        if (i == 0 || p[i].key != p[i - 1].key) {
            slot *t = find(tab, cap, p[i].key);
            *t = (slot){p[i].key, s, 1};
            g->first[s++] = (uint32_t)i;
        }
        g->succ[i].next = p[i].next;
    }
    g->first[ns] = (uint32_t)np;
    for (size_t i = 0; i < np; i++) {
        uint32_t prev_cur = (uint32_t)p[i].key; /* the current word becomes the previous one */
        slot *t = p[i].next == EOS ? NULL : find(tab, cap, state_key(prev_cur, p[i].next));
        g->succ[i].to = t && t->used ? t->state : NO_STATE;
    }
    slot *st = find(tab, cap, state_key(BOS, BOS));
    g->start = st->used ? st->state : NO_STATE;
    free(p);
    free(tab);
    return 0;
}

void bench_markov_free(bench_markov *m) {
    if (!m) return;
    pp_dict_free(&m->dict);
    for (int g = 0; g < PP_N_CANONICAL; g++)
        free(m->g[g].seq), free(m->g[g].first), free(m->g[g].succ);
    free(m->song_genre);
    free(m->song_len);
    pp_dedup_free(m->seen);
    free(m);
}

bench_markov *bench_markov_learn(const char *from, lm_err *e) {
    bench_markov *m = calloc(1, sizeof *m);
    char **files = NULL;
    size_t nfiles = 0;
    if (!m || pp_dict_init(&m->dict) || !(m->seen = pp_dedup_new()) ||
        pp_dict_intern(&m->dict, "\n", 1) != NL) {
        lm_err_set(e, "out of memory");
        goto fail;
    }
    if (pp_list_inputs(&from, 1, &files, &nfiles, e)) goto fail;
    pp_read_opts ro = {0};
    for (size_t f = 0; f < nfiles; f++) {
        int rc = pp_read_file(files[f], &ro, on_record, m, e);
        if (m->failed) {
            lm_err_set(e, "%s: out of memory learning the Markov model", files[f]);
            goto fail;
        }
        if (rc) goto fail;
    }
    if (m->n_songs == 0) {
        lm_err_set(e, "%s: no song with one of the canonical genres to learn from", from);
        goto fail;
    }
    for (int g = 0; g < PP_N_CANONICAL; g++)
        if (index_genre(&m->g[g])) {
            lm_err_set(e, "out of memory indexing the Markov model");
            goto fail;
        }
    pp_list_free(files, nfiles);
    return m;
fail:
    pp_list_free(files, nfiles);
    bench_markov_free(m);
    return NULL;
}

size_t bench_markov_songs(const bench_markov *m) { return m->n_songs; }
size_t bench_markov_words(const bench_markov *m) { return m->dict.n; }

/* Appends text to the growable buffer *b. */
static int put(char **b, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n > *cap) {
        size_t c = *cap ? *cap * 2 : 1 << 16;
        while (c < *len + n) c *= 2;
        char *nb = realloc(*b, c);
        if (!nb) return -1;
        *b = nb;
        *cap = c;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    return 0;
}

/* One song being sampled: its own RNG stream, its walk and its text. */
typedef struct lane {
    lm_rng rng;
    const gmodel *g;
    uint32_t s, target, produced;
    int line_start, active;
    bench_song *out;
} lane;

/* One step of a lane's walk; returns -1 when out of memory. */
static int lane_step(const bench_markov *m, lane *l) {
    const gmodel *g = l->g;
    bench_song *o = l->out;
    uint32_t j = g->first[l->s] + (uint32_t)lm_rng_below(&l->rng, g->first[l->s + 1] - g->first[l->s]);
    uint32_t nx = g->succ[j].next;
    if (nx == EOS || g->succ[j].to == NO_STATE) { /* song end: a stanza break, then a fresh start */
        l->s = g->start;
        l->line_start = 1;
        return put(&o->buf, &o->len, &o->cap, "\n\n", 2);
    }
    if (nx == NL) {
        if (put(&o->buf, &o->len, &o->cap, "\n", 1)) return -1;
        l->line_start = 1;
    } else {
        if (!l->line_start && put(&o->buf, &o->len, &o->cap, " ", 1)) return -1;
        if (put(&o->buf, &o->len, &o->cap, pp_dict_word(&m->dict, nx), m->dict.wlen[nx])) return -1;
        l->line_start = 0;
    }
    l->s = g->succ[j].to;
    __builtin_prefetch(&g->first[l->s]); /* read by this lane's next step */
    l->active = ++l->produced < l->target;
    return 0;
}

int bench_markov_sample_batch(const bench_markov *m, uint64_t seed, uint64_t first, int n, bench_song *out) {
    lane ln[BENCH_MARKOV_BATCH];
    if (n > BENCH_MARKOV_BATCH) n = BENCH_MARKOV_BATCH;
    for (int i = 0; i < n; i++) {
        lane *l = &ln[i];
        lm_rng_seed2(&l->rng, seed, first + (uint64_t)i);
        size_t r = lm_rng_below(&l->rng, m->n_songs);
        l->g = &m->g[m->song_genre[r]];
        l->s = l->g->start;
        l->target = m->song_len[r];
        l->produced = 0;
        l->line_start = 1;
        l->active = l->target > 0;
        l->out = &out[i];
        out[i].len = 0;
        out[i].genre = pp_genre_canonical(m->song_genre[r]);
    }
    /* the walks are chains of dependent random reads; stepping the lanes in
     * turn lets the reads of different songs overlap */
    for (int busy = 1; busy;) {
        busy = 0;
        for (int i = 0; i < n; i++)
            if (ln[i].active) {
                if (lane_step(m, &ln[i])) return -1;
                busy |= ln[i].active;
            }
    }
    return 0;
}
