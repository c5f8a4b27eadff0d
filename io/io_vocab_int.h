/* io_vocab_int: the vocabulary layout inside any HDF5 location (vocab.h5's
 * root, or a checkpoint's /vocab group), for io_vocab.c and io_ckpt
 * (internal to io/; implemented in io_vocab.c). */
#ifndef IO_VOCAB_INT_H
#define IO_VOCAB_INT_H

#include "io_h5.h"
#include "io_vocab.h"

/* Writes the datasets and attributes of v into loc (checks first, as
 * io_vocab_write). */
int io_vocab_write_loc(hid_t loc, const io_vocab *v, const char *path, lm_err *e);
/* Reads and fully validates the vocabulary stored in loc (as io_vocab_read). */
int io_vocab_read_loc(hid_t loc, const char *path, io_vocab *v, lm_err *e);

#endif
