/* io_h5: HDF5 helpers shared by io/ (see io_h5.h).
 *
 * Invariants: no function here prints; every failure returns -1 with one
 * line in the lm_err naming the file; on-disk numbers are little-endian;
 * string attributes and datasets are UTF-8. */
#include "io_h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_atomic.h"
#include "io_shard.h"

io_h5_quiet io_h5_quiet_begin(void) {
    /* HDF5 1.10 can keep internal references after reading a corrupt file,
     * and its at-exit shutdown then prints "infinite loop closing library" on
     * stderr. We close every file we open ourselves, so we ask HDF5 (before it
     * initialises; later calls are no-ops) not to run that shutdown. */
    H5dont_atexit();
    io_h5_quiet q = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &q.fn, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

void io_h5_quiet_end(io_h5_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.fn, q.data); }

/* ---- errors ------------------------------------------------------------------ */

static herr_t innermost_cb(unsigned n, const H5E_error2_t *err, void *ctx) {
    if (n == 0 && err->desc) snprintf((char *)ctx, 512, "%s", err->desc);
    return 0;
}

int io_h5_fail(lm_err *e, const char *path, const char *what) {
    char inner[512] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, inner);
    for (char *p = inner; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (inner[0]) return lm_err_set(e, "%s: %s: %s", path, what, inner);
    return lm_err_set(e, "%s: %s", path, what);
}

/* ---- files ------------------------------------------------------------------- */

hid_t io_h5_fapl(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG); /* H5Fclose also closes leftovers */
    H5Pset_file_locking(fapl, 1, 1);              /* tolerate filesystems without locks */
    /* Files we create use the HDF5 1.8 format: its object headers and
     * superblock carry checksums (so corrupt metadata is reported, not
     * parsed), and every HDF5 >= 1.8 reader (h5py, h5dump) opens it. */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    return fapl;
}

hid_t io_h5_ocpl(hid_t cls) {
    hid_t p = H5Pcreate(cls);
    if (p >= 0) H5Pset_obj_track_times(p, 0);
    return p;
}

hid_t io_h5_create(const char *path, lm_err *e) {
    if (io_zstd_register(e)) return -1;
    hid_t fapl = io_h5_fapl(), fcpl = io_h5_ocpl(H5P_FILE_CREATE);
    errno = 0;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    if (f < 0) {
        int err = errno;
        io_h5_fail(e, path, "cannot create HDF5 file");
        if (err) lm_err_set(e, "%s: cannot create: %s", path, strerror(err));
    }
    H5Pclose(fapl);
    return f;
}

int io_h5_save_atomic(const char *path, io_h5_fill_fn fill, const void *ctx, lm_err *e) {
    char tmp[4200];
    io_atomic_tmp_path(tmp, sizeof tmp, path);
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = -1;
    hid_t f = io_h5_create(tmp, e);
    if (f >= 0) {
        rc = fill(f, ctx, path, e);
        if (H5Fclose(f) < 0 && rc == 0) rc = io_h5_fail(e, path, "cannot close file");
        if (rc == 0) rc = io_atomic_commit(tmp, path, e);
        if (rc) unlink(tmp);
    }
    io_h5_quiet_end(q);
    return rc;
}

int io_h5_kind(hid_t f, char *out, size_t n) {
    char *k = NULL;
    if (io_h5_attr_get_str(f, "kind", &k, "", NULL)) return -1;
    snprintf(out, n, "%s", k);
    free(k);
    return 0;
}

hid_t io_h5_open(const char *path, const char *kind, char *kind_out, lm_err *e) {
    struct stat st;
    if (stat(path, &st) != 0) return lm_err_set(e, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return lm_err_set(e, "%s: is a directory", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return lm_err_set(e, "%s: %s", path, strerror(errno));
    fclose(fp);
    if (st.st_size == 0) return lm_err_set(e, "%s: empty file, not an HDF5 file", path);
    if (io_zstd_register(e)) return -1;
    if (H5Fis_hdf5(path) <= 0)
        return lm_err_set(e, "%s: not an HDF5 file (no HDF5 signature; truncated or another format)",
                          path);
    hid_t fapl = io_h5_fapl();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) io_h5_fail(e, path, "cannot open HDF5 file (truncated or corrupt)");
    H5Pclose(fapl);
    if (f < 0) return -1;
    char k[IO_KIND_MAX];
    if (io_h5_kind(f, k, sizeof k)) {
        H5Fclose(f);
        return lm_err_set(e, "%s: HDF5 file without a LyricMind 'kind' attribute "
                             "(not a shard, vocabulary or checkpoint)", path);
    }
    if (kind && strcmp(k, kind) != 0) {
        H5Fclose(f);
        return lm_err_set(e, "%s: is a LyricMind %s file, expected a %s", path, k, kind);
    }
    if (kind_out) memcpy(kind_out, k, sizeof k);
    return f;
}

/* ---- attributes ---------------------------------------------------------------- */

static int attr_put(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v) {
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, mtype, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

int io_h5_attr_put_u64(hid_t obj, const char *name, uint64_t v) {
    return attr_put(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}
int io_h5_attr_put_i64(hid_t obj, const char *name, int64_t v) {
    return attr_put(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}
int io_h5_attr_put_f64(hid_t obj, const char *name, double v) {
    return attr_put(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int io_h5_attr_put_str(hid_t obj, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    size_t len = strlen(s);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = attr_put(obj, name, t, t, len ? s : "");
    H5Tclose(t);
    return rc;
}

/* Opens attribute `name` and checks its class; -1 with a message otherwise. */
static hid_t attr_open(hid_t obj, const char *name, H5T_class_t cls, const char *path, lm_err *e) {
    if (H5Aexists(obj, name) <= 0)
        return lm_err_set(e, "%s: attribute '%s' missing", path, name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return io_h5_fail(e, path, "cannot open attribute");
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = H5Tget_class(t) == cls && H5Sget_simple_extent_npoints(sp) == 1;
    H5Tclose(t);
    H5Sclose(sp);
    if (!ok) {
        H5Aclose(a);
        return lm_err_set(e, "%s: attribute '%s' has the wrong type or shape", path, name);
    }
    return a;
}

static int attr_get(hid_t obj, const char *name, H5T_class_t cls, hid_t mtype, void *v,
                    const char *path, lm_err *e) {
    hid_t a = attr_open(obj, name, cls, path, e);
    if (a < 0) return -1;
    herr_t rc = H5Aread(a, mtype, v);
    H5Aclose(a);
    if (rc < 0) return lm_err_set(e, "%s: attribute '%s' unreadable", path, name);
    return 0;
}

int io_h5_attr_get_u64(hid_t obj, const char *name, uint64_t *v, const char *path, lm_err *e) {
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_UINT64, v, path, e);
}
int io_h5_attr_get_i64(hid_t obj, const char *name, int64_t *v, const char *path, lm_err *e) {
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT64, v, path, e);
}
int io_h5_attr_get_f64(hid_t obj, const char *name, double *v, const char *path, lm_err *e) {
    return attr_get(obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v, path, e);
}

int io_h5_attr_get_str(hid_t obj, const char *name, char **s, const char *path, lm_err *e) {
    *s = NULL;
    hid_t a = attr_open(obj, name, H5T_STRING, path, e);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a);
    size_t n = H5Tget_size(ft);
    int rc = -1;
    /* Only fixed-length strings: variable-length ones live in the global heap. */
    if (H5Tis_variable_str(ft) == 0 && n > 0 && n <= 65536 && (*s = calloc(n + 1, 1)) &&
        H5Aread(a, ft, *s) >= 0)
        rc = 0;
    H5Tclose(ft);
    H5Aclose(a);
    if (rc) {
        free(*s);
        *s = NULL;
        return lm_err_set(e, "%s: attribute '%s' is not a readable fixed-length string", path, name);
    }
    return 0;
}

/* ---- datasets ------------------------------------------------------------------ */

hid_t io_h5_file_type(io_h5_type t) {
    switch (t) {
    case IO_H5_U8: return H5T_STD_U8LE;
    case IO_H5_U16: return H5T_STD_U16LE;
    case IO_H5_U64: return H5T_STD_U64LE;
    case IO_H5_I64: return H5T_STD_I64LE;
    case IO_H5_F32: return H5T_IEEE_F32LE;
    case IO_H5_F64: return H5T_IEEE_F64LE;
    }
    return -1;
}

hid_t io_h5_mem_type(io_h5_type t) {
    switch (t) {
    case IO_H5_U8: return H5T_NATIVE_UINT8;
    case IO_H5_U16: return H5T_NATIVE_UINT16;
    case IO_H5_U64: return H5T_NATIVE_UINT64;
    case IO_H5_I64: return H5T_NATIVE_INT64;
    case IO_H5_F32: return H5T_NATIVE_FLOAT;
    case IO_H5_F64: return H5T_NATIVE_DOUBLE;
    }
    return -1;
}

size_t io_h5_type_size(io_h5_type t) {
    static const size_t sz[] = {1, 2, 8, 8, 4, 8};
    return sz[t];
}

const char *io_h5_type_name(io_h5_type t) {
    static const char *nm[] = {"uint8", "uint16", "uint64", "int64", "float32", "float64"};
    return nm[t];
}

int io_h5_write(hid_t loc, const char *name, io_h5_type t, int rank, const uint64_t *dims,
                const void *data, const char *path, lm_err *e) {
    hsize_t hd[8];
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) n *= (hd[i] = dims[i]);
    hid_t sp = rank ? H5Screate_simple(rank, hd, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = io_h5_ocpl(H5P_DATASET_CREATE);
    hid_t d = H5Dcreate2(loc, name, io_h5_file_type(t), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    herr_t rc = d < 0 ? -1 : 0;
    if (d >= 0 && n > 0) rc = H5Dwrite(d, io_h5_mem_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (rc < 0) io_h5_fail(e, path, name);
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

static int type_matches(hid_t ft, io_h5_type t) {
    H5T_class_t cls = H5Tget_class(ft);
    size_t size = H5Tget_size(ft);
    if (t == IO_H5_F32 || t == IO_H5_F64) return cls == H5T_FLOAT && size == io_h5_type_size(t);
    if (cls != H5T_INTEGER || size != io_h5_type_size(t)) return 0;
    return H5Tget_sign(ft) == (t == IO_H5_I64 ? H5T_SGN_2 : H5T_SGN_NONE);
}

hid_t io_h5_open_dataset(hid_t loc, const char *name, io_h5_type t, int rank, uint64_t *dims,
                         const char *path, lm_err *e) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return lm_err_set(e, "%s: dataset '%s' missing", path, name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return io_h5_fail(e, path, "cannot open dataset");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    int ok_type = type_matches(ft, t);
    int r = H5Sget_simple_extent_ndims(sp);
    hsize_t hd[8] = {0};
    if (r == rank && r >= 0 && r <= 8) H5Sget_simple_extent_dims(sp, hd, NULL);
    H5Tclose(ft);
    H5Sclose(sp);
    if (!ok_type) {
        H5Dclose(d);
        return lm_err_set(e, "%s: dataset '%s' is not %s", path, name, io_h5_type_name(t));
    }
    if (r != rank) {
        H5Dclose(d);
        return lm_err_set(e, "%s: dataset '%s' has rank %d, expected %d", path, name, r, rank);
    }
    for (int i = 0; i < rank; i++) dims[i] = hd[i];
    return d;
}

int io_h5_read(hid_t loc, const char *name, io_h5_type t, int rank, const uint64_t *dims,
               void *out, const char *path, lm_err *e) {
    uint64_t got[8];
    hid_t d = io_h5_open_dataset(loc, name, t, rank, got, path, e);
    if (d < 0) return -1;
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        n *= got[i];
        if (got[i] != dims[i]) {
            H5Dclose(d);
            return lm_err_set(e, "%s: dataset '%s' dimension %d is %llu, expected %llu", path, name,
                              i, (unsigned long long)got[i], (unsigned long long)dims[i]);
        }
    }
    herr_t rc = n ? H5Dread(d, io_h5_mem_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) : 0;
    if (rc < 0) io_h5_fail(e, path, name);
    H5Dclose(d);
    return rc < 0 ? -1 : 0;
}

/* ---- strings -------------------------------------------------------------------
 * Fixed-length (NUL-padded) UTF-8 strings stored inline in a deflated chunked
 * dataset: no HDF5 global heap, whose unchecksummed records a corrupt file
 * can use to crash the HDF5 library, and deflate is in every HDF5 build. */

static hid_t fixed_utf8(size_t len) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

int io_h5_write_strings(hid_t loc, const char *name, char *const *s, size_t n, const char *path,
                        lm_err *e) {
    size_t len = 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(s[i]);
        if (l > len) len = l;
    }
    if (len > IO_H5_STR_MAX) return lm_err_set(e, "%s: a string in '%s' is longer than %d bytes", path, name, IO_H5_STR_MAX);
    char *buf = calloc(n ? n : 1, len);
    if (!buf) return lm_err_set(e, "%s: out of memory writing '%s'", path, name);
    for (size_t i = 0; i < n; i++) memcpy(buf + i * len, s[i], strlen(s[i]));
    hsize_t dim = n, chunk = (1 << 20) / len;
    if (chunk > dim) chunk = dim;
    hid_t t = fixed_utf8(len), sp = H5Screate_simple(1, &dim, NULL), dcpl = io_h5_ocpl(H5P_DATASET_CREATE);
    if (n > 0) {
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_deflate(dcpl, 6);
    }
    hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : 0;
    if (d >= 0 && n > 0) rc = H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (rc < 0) io_h5_fail(e, path, name);
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(t);
    free(buf);
    return rc < 0 ? -1 : 0;
}

void io_h5_free_strings(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

int io_h5_read_strings(hid_t loc, const char *name, char ***out, size_t *n, const char *path,
                       lm_err *e) {
    *out = NULL;
    *n = 0;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return lm_err_set(e, "%s: dataset '%s' missing", path, name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return io_h5_fail(e, path, "cannot open dataset");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    size_t len = H5Tget_size(ft);
    int ok = H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) == 0 &&
             H5Sget_simple_extent_ndims(sp) == 1 && len >= 1 && len <= IO_H5_STR_MAX;
    hssize_t cnt = ok ? H5Sget_simple_extent_npoints(sp) : 0;
    char *raw = NULL, **res = NULL;
    hid_t mt = ok ? fixed_utf8(len) : -1;
    int rc = -1;
    if (!ok || cnt < 0 || cnt > (1 << 24)) {
        lm_err_set(e, "%s: dataset '%s' is not a 1-D fixed-length string array", path, name);
        cnt = 0;
    } else if (!(raw = calloc(cnt ? (size_t)cnt : 1, len)) ||
               !(res = calloc(cnt ? (size_t)cnt : 1, sizeof *res))) {
        lm_err_set(e, "%s: out of memory reading '%s'", path, name);
    } else if (cnt && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        io_h5_fail(e, path, name);
    } else {
        rc = 0;
        for (hssize_t i = 0; i < cnt && rc == 0; i++)
            if (!(res[i] = strndup(raw + (size_t)i * len, len)))
                rc = lm_err_set(e, "%s: out of memory reading '%s'", path, name);
    }
    free(raw);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    if (rc) {
        io_h5_free_strings(res, (size_t)cnt);
        return -1;
    }
    *out = res;
    *n = (size_t)cnt;
    return 0;
}
