/* io_file: tells which LyricMind file a path holds (shard, vocabulary or
 * checkpoint) from its root "kind" attribute, with the same one-line errors
 * as the loaders for missing, empty, truncated, non-HDF5 or foreign files. */
#ifndef IO_FILE_H
#define IO_FILE_H

#include "lm_err.h"

typedef enum { IO_FILE_SHARD = 1, IO_FILE_VOCAB, IO_FILE_CHECKPOINT } io_file_kind;

int io_file_detect(const char *path, io_file_kind *kind, lm_err *e);
const char *io_file_kind_name(io_file_kind k); /* "shard", "vocab", "checkpoint" */

#endif
