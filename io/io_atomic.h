/* io_atomic: write-then-rename helpers so that every output file appears
 * complete or not at all: write to "<path>.tmp.<pid>", fsync it, rename over
 * <path>, fsync the directory. */
#ifndef IO_ATOMIC_H
#define IO_ATOMIC_H

#include <stddef.h>

#include "lm_err.h"

/* Fills tmp (size n) with the temp path used for final path `path`. */
void io_atomic_tmp_path(char *tmp, size_t n, const char *path);
/* fsyncs the file at tmp, renames it to path and fsyncs path's directory. */
int io_atomic_commit(const char *tmp, const char *path, lm_err *e);
/* fsync a file or directory by path. */
int io_fsync_path(const char *path, lm_err *e);
/* Writes a whole buffer atomically to path. */
int io_atomic_write(const char *path, const void *data, size_t len, lm_err *e);

#endif
