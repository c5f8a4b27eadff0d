/* eval_data: song-by-song reads of a split's shards (see eval_data.h).
 * Invariant: songs come in corpus order (shards sorted by name, songs in
 * shard order), the same order train_data's unshuffled plans use. */
#include "eval_data.h"

#include <stdlib.h>
#include <string.h>

#define READ_TOKENS (1u << 20)

int eval_split_foreach(const io_corpus_split *sp, eval_song_fn fn, void *ctx, lm_err *e) {
    uint16_t *buf = NULL;
    int32_t *ids = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int s = 0; !rc && s < sp->n_shards; s++) {
        io_shard *sh = &sp->shards[s];
        for (uint64_t a = 0; !rc && a < sh->n_songs;) {
            /* songs [a, b): at least one, at most ~READ_TOKENS tokens */
            uint64_t b = a + 1;
            while (b < sh->n_songs && sh->song_offsets[b + 1] - sh->song_offsets[a] <= READ_TOKENS) b++;
            uint64_t lo = sh->song_offsets[a], n = sh->song_offsets[b] - lo;
            if (n > cap) {
                free(buf), free(ids);
                buf = malloc(n * sizeof *buf);
                ids = malloc(n * sizeof *ids);
                cap = n;
                if (!buf || !ids) {
                    rc = lm_err_set(e, "out of memory reading %s", sh->path);
                    break;
                }
            }
            if (n && io_shard_read(sh, lo, n, buf, e)) {
                rc = -1;
                break;
            }
            for (uint64_t i = 0; i < n; i++) ids[i] = buf[i];
            for (uint64_t k = a; !rc && k < b; k++)
                rc = fn(ctx, ids + (sh->song_offsets[k] - lo), sh->song_offsets[k + 1] - sh->song_offsets[k],
                        sh->song_genre[k]);
            a = b;
        }
    }
    free(buf), free(ids);
    return rc;
}

typedef struct load_ctx {
    eval_songs *s;
    size_t k, t;
} load_ctx;

static int load_one(void *vc, const int32_t *ids, size_t n, int genre) {
    load_ctx *c = vc;
    memcpy(c->s->tok + c->t, ids, n * sizeof *ids);
    c->t += n;
    c->s->genre[c->k] = (uint8_t)genre;
    c->s->off[++c->k] = c->t;
    return 0;
}

int eval_songs_load(eval_songs *s, const io_corpus_split *sp, lm_err *e) {
    memset(s, 0, sizeof *s);
    s->n = sp->n_songs;
    s->tok = malloc((sp->n_tokens + 1) * sizeof *s->tok);
    s->off = calloc(s->n + 1, sizeof *s->off);
    s->genre = malloc(s->n + 1);
    if (!s->tok || !s->off || !s->genre) {
        eval_songs_free(s);
        return lm_err_set(e, "out of memory for %llu validation tokens", (unsigned long long)sp->n_tokens);
    }
    load_ctx c = {s, 0, 0};
    if (eval_split_foreach(sp, load_one, &c, e)) {
        eval_songs_free(s);
        return -1;
    }
    return 0;
}

void eval_songs_free(eval_songs *s) {
    free(s->tok), free(s->off), free(s->genre);
    memset(s, 0, sizeof *s);
}
