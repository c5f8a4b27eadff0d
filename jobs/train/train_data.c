/* train_data: an open corpus (io_corpus.h) -> per-step token batches (see train_data.h).
 * Invariant: a batch depends only on (corpus, seed, epoch, G, T, k, stream),
 * so any rank count that keeps G reads the same tokens for the same stream. */
#include "train_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_sys.h"
#include "lm_rng.h"

/* The current song of one stream, read whole from its shard when entered. */
typedef struct train_song_cache {
    uint64_t song; /* global song id, UINT64_MAX if none */
    uint16_t *tok;
    uint64_t len, cap;
} train_song_cache;

void train_corpus_fingerprint(const io_corpus *c, train_corpus_id *id) {
    memset(id, 0, sizeof *id);
    uint64_t h = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, &c->vocab.hash, sizeof c->vocab.hash);
    const io_corpus_split *sp[2] = {&c->train, &c->val};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < sp[k]->n_shards; i++) {
            const io_shard *s = &sp[k]->shards[i];
            const char *base = strrchr(s->path, '/');
            base = base ? base + 1 : s->path;
            uint64_t index = lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, s->song_offsets, (s->n_songs + 1) * sizeof *s->song_offsets);
            uint64_t v[3] = {s->n_tokens, s->n_songs, lm_sys_fnv1a64(index, s->song_genre, s->n_songs)};
            h = lm_sys_fnv1a64(lm_sys_fnv1a64(h, base, strlen(base) + 1), v, sizeof v);
        }
        id->counts[k][0] = sp[k]->n_shards;
        id->counts[k][1] = (int64_t)sp[k]->n_songs;
        id->counts[k][2] = (int64_t)sp[k]->n_tokens;
    }
    id->hash = h;
}

void train_corpus_id_diff(const train_corpus_id *a, const train_corpus_id *b, char *msg, size_t n) {
    static const char *split[2] = {"train", "val"};
    for (int k = 0; k < 2; k++) {
        const int64_t *x = a->counts[k], *y = b->counts[k];
        if (x[0] != y[0] || x[1] != y[1] || x[2] != y[2]) {
            snprintf(msg, n, "its %s split has %lld songs, %lld tokens in %lld shard%s, the checkpoint's had "
                     "%lld songs, %lld tokens in %lld shard%s", split[k], (long long)x[1], (long long)x[2],
                     (long long)x[0], x[0] == 1 ? "" : "s", (long long)y[1], (long long)y[2], (long long)y[0],
                     y[0] == 1 ? "" : "s");
            return;
        }
    }
    snprintf(msg, n, "same song and token counts but other shard contents (corpus fingerprint %016llx, "
             "the checkpoint's %016llx)", (unsigned long long)a->hash, (unsigned long long)b->hash);
}

int train_plan_init(train_plan *p, const io_corpus_split *s, train_state_mode mode, int G, int T,
                    uint64_t seed, long epoch, int shuffle, lm_err *e) {
    memset(p, 0, sizeof *p);
    p->split = s;
    p->mode = mode;
    p->G = G;
    p->T = T;
    uint64_t n = s->n_songs;
    p->cum = malloc((n + 1) * sizeof *p->cum);
    p->caches = calloc((size_t)G, sizeof *p->caches);
    if (!p->cum || !p->caches) return lm_err_set(e, "out of memory planning %llu songs", (unsigned long long)n);
    lm_rng r;
    lm_rng_seed2(&r, seed, 0x5eed0000ULL + (uint64_t)epoch);
    if (mode == TRAIN_STATE_CARRY && shuffle) {
        p->order = malloc(n * sizeof *p->order);
        if (!p->order) return lm_err_set(e, "out of memory planning %llu songs", (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++) p->order[i] = (uint32_t)i;
        lm_rng_shuffle_u32(&r, p->order, n);
    }
    p->cum[0] = 0;
    for (uint64_t i = 0; i < n; i++) {
        int sh;
        uint64_t st, len;
        io_corpus_song_locate(s, p->order ? p->order[i] : i, &sh, &st, &len);
        p->cum[i + 1] = p->cum[i] + len;
    }
    uint64_t N = p->cum[n];
    if (mode == TRAIN_STATE_CARRY) {
        p->L = N / (uint64_t)G;
        p->steps = p->L > 0 ? (long)((p->L - 1) / (uint64_t)T) : 0;
    } else {
        p->n_windows = N > 0 ? (N - 1) / (uint64_t)T : 0;
        p->steps = (long)(p->n_windows / (uint64_t)G);
        p->windows = malloc((p->n_windows ? p->n_windows : 1) * sizeof *p->windows);
        if (!p->windows) return lm_err_set(e, "out of memory planning %llu windows", (unsigned long long)p->n_windows);
        for (uint64_t i = 0; i < p->n_windows; i++) p->windows[i] = (uint32_t)i;
        if (shuffle) lm_rng_shuffle_u32(&r, p->windows, p->n_windows);
    }
    if (p->steps <= 0)
        return lm_err_set(e, "%llu tokens are too few for a global batch of %d streams x %d tokens",
                          (unsigned long long)N, G, T);
    return 0;
}

void train_plan_free(train_plan *p) {
    free(p->order);
    free(p->cum);
    free(p->windows);
    for (int g = 0; p->caches && g < p->G; g++) free(p->caches[g].tok);
    free(p->caches);
    memset(p, 0, sizeof *p);
}

/* Copies n tokens of the epoch stream starting at pos into out. */
static int stream_read(train_plan *p, train_song_cache *c, uint64_t pos, int n, int32_t *out, lm_err *e) {
    const io_corpus_split *sp = p->split;
    while (n > 0) {
        /* song index i with cum[i] <= pos < cum[i+1] */
        uint64_t lo = 0, hi = sp->n_songs - 1;
        while (lo < hi) {
            uint64_t mid = (lo + hi + 1) / 2;
            if (p->cum[mid] <= pos) lo = mid;
            else hi = mid - 1;
        }
        uint64_t g = p->order ? p->order[lo] : lo;
        if (g != c->song || !c->tok) {
            int sh;
            uint64_t st, len;
            io_corpus_song_locate(sp, g, &sh, &st, &len);
            if (len > c->cap) {
                free(c->tok);
                c->tok = malloc(len * sizeof *c->tok);
                c->cap = c->tok ? len : 0;
                if (!c->tok) return lm_err_set(e, "out of memory reading a song of %llu tokens", (unsigned long long)len);
            }
            if (io_shard_read(&sp->shards[sh], st, len, c->tok, e)) return -1;
            c->song = g;
            c->len = len;
        }
        uint64_t off = pos - p->cum[lo];
        uint64_t take = c->len - off;
        if (take > (uint64_t)n) take = (uint64_t)n;
        for (uint64_t j = 0; j < take; j++) out[j] = c->tok[off + j];
        out += take;
        n -= (int)take;
        pos += take;
    }
    return 0;
}

int train_plan_batch(train_plan *p, long k, int first, int B, int32_t *in, int32_t *tgt, lm_err *e) {
    int T = p->T;
    int32_t buf[T + 1];
    for (int b = 0; b < B; b++) {
        uint64_t g = (uint64_t)(first + b);
        uint64_t pos = p->mode == TRAIN_STATE_CARRY
                           ? g * p->L + (uint64_t)k * (uint64_t)T
                           : (uint64_t)p->windows[(uint64_t)k * (uint64_t)p->G + g] * (uint64_t)T;
        if (stream_read(p, &p->caches[g], pos, T + 1, buf, e)) return -1;
        memcpy(in + (size_t)b * T, buf, (size_t)T * sizeof *in);
        memcpy(tgt + (size_t)b * T, buf + 1, (size_t)T * sizeof *tgt);
    }
    return 0;
}
