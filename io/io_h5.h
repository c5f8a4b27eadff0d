/* io_h5: HDF5 helpers shared by the io/ modules (internal to io/).
 *
 * - Quiet: every public io_* entry point brackets its HDF5 calls with
 *   io_h5_quiet_begin/end, which turns HDF5's automatic error-stack printing
 *   off and restores the caller's handler, so users see only our one line.
 * - Errors: io_h5_fail formats "<path>: <what>: <deepest HDF5 message>".
 * - Files: io_h5_open checks existence, HDF5 signature, openability and the
 *   root "kind" attribute ("shard", "vocab", "checkpoint", "classifier")
 *   in that order, so a wrong file gets a precise one-line error.
 * - Attributes and datasets: typed scalar attributes and 1-D/2-D dataset
 *   read/write with class, sign, width and shape checks. */
#ifndef IO_H5_H
#define IO_H5_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "lm_err.h"
#include "lm_sys.h"

#define IO_KIND_SHARD "shard"
#define IO_KIND_VOCAB "vocab"
#define IO_KIND_CHECKPOINT "checkpoint"
#define IO_KIND_CLASSIFIER "classifier"

typedef struct io_h5_quiet {
    H5E_auto2_t fn;
    void *data;
} io_h5_quiet;

io_h5_quiet io_h5_quiet_begin(void);
void io_h5_quiet_end(io_h5_quiet q);

/* Sets e to "<path>: <what>: <innermost HDF5 error>" (or without the last
 * part when HDF5 recorded none) and returns -1. */
int io_h5_fail(lm_err *e, const char *path, const char *what);

/* File access properties: file locking ignored where the filesystem lacks
 * it (cluster filesystems). Caller closes. */
hid_t io_h5_fapl(void);
/* An object creation property list of class cls (H5P_DATASET_CREATE,
 * H5P_GROUP_CREATE, H5P_FILE_CREATE) with modification-time stamps off, so
 * that the same data always gives byte-identical files. Caller closes it. */
hid_t io_h5_ocpl(hid_t cls);
hid_t io_h5_create(const char *path, lm_err *e);
/* Writes a whole HDF5 file atomically: fill(f, ctx, path, e) writes into a
 * new file at path's temp name (io_atomic_tmp_path), which is then closed,
 * fsynced and renamed over path (HDF5 error printing off throughout). On
 * any failure the temp file is removed and path is untouched. */
typedef int (*io_h5_fill_fn)(hid_t f, const void *ctx, const char *path, lm_err *e);
int io_h5_save_atomic(const char *path, io_h5_fill_fn fill, const void *ctx, lm_err *e);
#define IO_KIND_MAX 16
/* Opens read-only and checks the kind attribute (kind NULL: any LyricMind
 * kind); its value is copied to kind_out if non-NULL (IO_KIND_MAX bytes). */
hid_t io_h5_open(const char *path, const char *kind, char *kind_out, lm_err *e);
/* Reads the root "kind" attribute of an open file into out (size n). */
int io_h5_kind(hid_t f, char *out, size_t n);

/* Scalar attributes on an object (file, group or dataset). */
int io_h5_attr_put_u64(hid_t obj, const char *name, uint64_t v);
int io_h5_attr_put_i64(hid_t obj, const char *name, int64_t v);
int io_h5_attr_put_f64(hid_t obj, const char *name, double v);
int io_h5_attr_put_str(hid_t obj, const char *name, const char *s);
/* Getters return 0, or -1 with "<path>: attribute NAME missing/invalid". */
int io_h5_attr_get_u64(hid_t obj, const char *name, uint64_t *v, const char *path, lm_err *e);
int io_h5_attr_get_i64(hid_t obj, const char *name, int64_t *v, const char *path, lm_err *e);
int io_h5_attr_get_f64(hid_t obj, const char *name, double *v, const char *path, lm_err *e);
/* Allocates *s (caller frees). */
int io_h5_attr_get_str(hid_t obj, const char *name, char **s, const char *path, lm_err *e);

/* Element types a dataset may have. */
typedef enum { IO_H5_U8, IO_H5_U16, IO_H5_U64, IO_H5_I64, IO_H5_F32, IO_H5_F64 } io_h5_type;
hid_t io_h5_file_type(io_h5_type t);   /* little-endian on-disk type */
hid_t io_h5_mem_type(io_h5_type t);    /* native type */
size_t io_h5_type_size(io_h5_type t);
const char *io_h5_type_name(io_h5_type t);

/* Writes a contiguous dataset of rank 1..4 (rank 0: scalar). */
int io_h5_write(hid_t loc, const char *name, io_h5_type t, int rank, const uint64_t *dims,
                const void *data, const char *path, lm_err *e);
/* Opens dataset `name`, checks its element type is exactly t and its rank;
 * fills dims[rank]. Returns the dataset id or -1. */
hid_t io_h5_open_dataset(hid_t loc, const char *name, io_h5_type t, int rank, uint64_t *dims,
                         const char *path, lm_err *e);
/* Opens, checks type and exact shape, reads everything into out. */
int io_h5_read(hid_t loc, const char *name, io_h5_type t, int rank, const uint64_t *dims,
               void *out, const char *path, lm_err *e);

/* String datasets [n]: fixed-length NUL-padded UTF-8, deflate-compressed
 * (no HDF5 global heap, see io_h5.c); each string at most IO_H5_STR_MAX. */
#define IO_H5_STR_MAX 4096
int io_h5_write_strings(hid_t loc, const char *name, char *const *s, size_t n, const char *path,
                        lm_err *e);
/* Allocates *out (n strings, each malloc'd); *n gets the count. */
int io_h5_read_strings(hid_t loc, const char *name, char ***out, size_t *n, const char *path,
                       lm_err *e);
void io_h5_free_strings(char **s, size_t n);

/* The checksums of io/ files are FNV-1a 64: lm_sys_fnv1a64 from
 * LM_SYS_FNV_OFFSET (lm_sys.h). */

#endif
