/* io_ckpt_int: pieces shared by io_ckpt.c (save) and io_ckpt_load.c (internal). */
#ifndef IO_CKPT_INT_H
#define IO_CKPT_INT_H

#include "io_ckpt.h"
#include "io_h5.h"

io_h5_type io_ckpt_h5_type(io_dtype t);
size_t io_dtype_size(io_dtype t);
/* FNV-1a 64 over the tensors of buf in model layout order (info[0..]). */
uint64_t io_ckpt_tensors_hash(uint64_t h, const lm_param_info *info, const float *buf);
/* Checksum of /state: arrays in strcmp order of name (a[] sorted). */
uint64_t io_ckpt_state_hash(const io_array *const *sorted, size_t n);
/* Sorts pointers to arrays by name. */
void io_ckpt_sort_arrays(const io_array **p, size_t n);
/* 1 if name is a valid /state array name. */
int io_ckpt_name_ok(const char *name);

#endif
