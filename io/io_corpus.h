/* io_corpus: a preprocessed corpus directory, as `lyricmind preprocess --out
 * DIR` writes it (docs/formats.md, "Corpus directory"):
 *
 *   DIR/vocab.h5                 the vocabulary (io_vocab.h)
 *   DIR/train-NNNNN.h5 ...       the training split's shards (io_shard.h)
 *   DIR/val-NNNNN.h5 ...         the validation split's shards
 *
 * Contract:
 * - A split is every DIR/<split>-*.h5 (a name longer than "<split>-.h5"), in
 *   byte order of the file names; its songs are numbered globally in that
 *   order (shard 0's songs first), which is the corpus order that training's
 *   unshuffled plans, eval and the classifier's corpus hash all use.
 * - io_corpus_open checks, in this order: DIR exists and is a directory,
 *   DIR/vocab.h5 exists, vocab.h5 reads and validates (io_vocab_read), each
 *   split has at least one shard, and each shard opens (io_shard_open:
 *   structure, attributes, index) and was built with that vocabulary
 *   (io_shard_check_vocab). It stops at the first problem with one line
 *   naming the file or directory; the directory messages name the --data
 *   flag, through which train and eval pass DIR. Tokens are not read here
 *   (io_shard_read reads them lazily; io_shard_validate reads them all).
 * - Nothing is printed; on failure nothing stays open or allocated. */
#ifndef IO_CORPUS_H
#define IO_CORPUS_H

#include <stdint.h>

#include "io_shard.h"
#include "io_vocab.h"
#include "lm_err.h"

#define IO_CORPUS_VOCAB_FILE "vocab.h5"
#define IO_CORPUS_TRAIN "train" /* shard name prefixes = split names */
#define IO_CORPUS_VAL "val"

/* One split's shards, open, and where each one's songs start. */
typedef struct io_corpus_split {
    int n_shards;
    io_shard *shards;
    uint64_t n_songs, n_tokens;
    uint64_t *song_base; /* [n_shards+1]: first global song id of each shard */
} io_corpus_split;

typedef struct io_corpus {
    char dir[4096];
    io_vocab vocab;
    io_corpus_split train, val;
} io_corpus;

/* The paths "DIR/<split>-*.h5" in name order, malloc'd (*paths and each
 * string; free with io_corpus_list_free). No such file is an error ("DIR: no
 * <split>-*.h5 shards (is this a 'lyricmind preprocess' output?)"), as is a
 * directory that cannot be read. */
int io_corpus_list(const char *dir, const char *split, char ***paths, int *n, lm_err *e);
void io_corpus_list_free(char **paths, int n);

/* The directory checks of io_corpus_open alone: DIR exists, is a directory
 * and holds a vocab.h5 (raw lyrics, most often, do not: the message says
 * what to run instead). */
int io_corpus_check_dir(const char *dir, lm_err *e);

/* Opens every shard of one split (io_corpus_list) and checks each against v,
 * whose file vocab_path is named in the message on a mismatch. */
int io_corpus_split_open(io_corpus_split *sp, const char *dir, const char *split, const io_vocab *v,
                         const char *vocab_path, lm_err *e);
/* Closes; safe on a zeroed, a failed or a closed split. */
void io_corpus_split_close(io_corpus_split *sp);
/* Global song g (< n_songs) of a split: its shard and token range there. */
void io_corpus_song_locate(const io_corpus_split *sp, uint64_t g, int *shard, uint64_t *start,
                           uint64_t *len);

/* Opens DIR as a whole: vocabulary, train and val splits (checks above). */
int io_corpus_open(io_corpus *c, const char *dir, lm_err *e);
/* Closes; safe on a zeroed, a failed or a closed corpus. */
void io_corpus_close(io_corpus *c);

#endif
