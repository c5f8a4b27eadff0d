/* io_file: tells which LyricMind file a path holds (shard, vocabulary,
 * checkpoint or genre classifier) from its root "kind" attribute, with the
 * same one-line errors as the loaders for missing, empty, truncated,
 * non-HDF5 or foreign files. Each kind has its own full validator:
 * io_shard_validate, io_vocab_read, io_ckpt_validate, io_classifier_validate. */
#ifndef IO_FILE_H
#define IO_FILE_H

#include "lm_err.h"

typedef enum {
    IO_FILE_SHARD = 1,
    IO_FILE_VOCAB,
    IO_FILE_CHECKPOINT,
    IO_FILE_CLASSIFIER,
    IO_FILE_LAST = IO_FILE_CLASSIFIER
} io_file_kind;

/* Sets *kind, or returns -1 with one line naming path ("unknown LyricMind
 * file kind 'X'" for a kind this build does not know). */
int io_file_detect(const char *path, io_file_kind *kind, lm_err *e);
/* "shard", "vocab", "checkpoint", "classifier" (the kind attribute's value);
 * "unknown" outside the enum. */
const char *io_file_kind_name(io_file_kind k);

#endif
