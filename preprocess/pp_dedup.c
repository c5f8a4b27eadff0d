/* pp_dedup: striped hash set of 128-bit song hashes (see pp_dedup.h).
 * Invariants: a stripe's table is at most half full; an entry's state is
 * 0 (empty), 1 (claimed) or 2 (claimed and committed); a stripe is only
 * touched under its mutex. The stripe comes from the top bits of hi, the slot
 * from lo, so the two never correlate. */
#include "pp_dedup.h"

#include <pthread.h>
#include <stdlib.h>

#define N_STRIPES 64

typedef struct {
    pthread_mutex_t mu;
    pp_h128 *keys;
    uint8_t *state;
    size_t cap, n;
} stripe;

struct pp_dedup {
    stripe s[N_STRIPES];
};

pp_dedup *pp_dedup_new(void) {
    pp_dedup *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    for (int i = 0; i < N_STRIPES; i++) pthread_mutex_init(&d->s[i].mu, NULL);
    return d;
}

void pp_dedup_free(pp_dedup *d) {
    if (!d) return;
    for (int i = 0; i < N_STRIPES; i++) {
        pthread_mutex_destroy(&d->s[i].mu);
        free(d->s[i].keys);
        free(d->s[i].state);
    }
    free(d);
}

static size_t find_slot(const stripe *st, pp_h128 h) {
    size_t mask = st->cap - 1, i = h.lo & mask;
    while (st->state[i] && (st->keys[i].lo != h.lo || st->keys[i].hi != h.hi)) i = (i + 1) & mask;
    return i;
}

static int grow(stripe *st) {
    size_t cap = st->cap ? st->cap * 2 : 1024;
    stripe nst = {.cap = cap};
    nst.keys = malloc(cap * sizeof *nst.keys);
    nst.state = calloc(cap, 1);
    if (!nst.keys || !nst.state) {
        free(nst.keys);
        free(nst.state);
        return -1;
    }
    for (size_t i = 0; i < st->cap; i++) {
        if (!st->state[i]) continue;
        size_t j = find_slot(&nst, st->keys[i]);
        nst.keys[j] = st->keys[i];
        nst.state[j] = st->state[i];
    }
    free(st->keys);
    free(st->state);
    st->keys = nst.keys;
    st->state = nst.state;
    st->cap = cap;
    return 0;
}

/* Moves the entry for h to at least state `to`; returns its previous state. */
static int mark(pp_dedup *d, pp_h128 h, uint8_t to) {
    stripe *st = &d->s[h.hi >> 58];
    pthread_mutex_lock(&st->mu);
    if ((st->n + 1) * 2 > st->cap && grow(st)) {
        pthread_mutex_unlock(&st->mu);
        return -1;
    }
    size_t i = find_slot(st, h);
    int prev = st->state[i];
    if (!prev) {
        st->keys[i] = h;
        st->n++;
    }
    if (prev < to) st->state[i] = to;
    pthread_mutex_unlock(&st->mu);
    return prev;
}

int pp_dedup_claim(pp_dedup *d, pp_h128 h) {
    int prev = mark(d, h, 1);
    return prev < 0 ? -1 : prev == 0;
}

int pp_dedup_commit(pp_dedup *d, pp_h128 h) {
    int prev = mark(d, h, 2);
    return prev < 0 ? -1 : prev < 2;
}

uint64_t pp_dedup_count(pp_dedup *d) {
    uint64_t n = 0;
    for (int i = 0; i < N_STRIPES; i++) {
        pthread_mutex_lock(&d->s[i].mu);
        n += d->s[i].n;
        pthread_mutex_unlock(&d->s[i].mu);
    }
    return n;
}
