/* eval_data: the songs of a corpus split (io_corpus.h) for evaluation:
 * streamed song by song (classifier training), or held whole in memory as
 * int32 ids (the validation split: perplexity, held-out songs). */
#ifndef EVAL_DATA_H
#define EVAL_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "io_corpus.h"

/* Calls fn for every song of the split in corpus order (shard by shard,
 * reading at most ~1M tokens at a time); fn returns 0 to go on. */
typedef int (*eval_song_fn)(void *ctx, const int32_t *ids, size_t n, int genre);
int eval_split_foreach(const io_corpus_split *sp, eval_song_fn fn, void *ctx, lm_err *e);

typedef struct eval_songs {
    int32_t *tok;     /* all tokens, songs back to back */
    uint64_t *off;    /* [n+1] song s is tok[off[s], off[s+1]) */
    uint8_t *genre;   /* [n] */
    size_t n;
} eval_songs;
int eval_songs_load(eval_songs *s, const io_corpus_split *sp, lm_err *e);
void eval_songs_free(eval_songs *s);

#endif
