/* io_ckpt: checkpoint save, the checksums and /state arrays (see io_ckpt.h).
 *
 * Invariants: a checkpoint is written under a temp name and renamed only once
 * complete and fsynced; the checksums are defined on little-endian bytes in a
 * fixed order (model layout order for tensors, name order for /state), so
 * they do not depend on HDF5's storage or iteration order. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_atomic.h"
#include "io_ckpt_int.h"
#include "io_vocab_int.h"

/* ---- arrays ------------------------------------------------------------------ */

io_array io_array_scalar(const char *name, io_dtype t, const void *data) {
    return (io_array){name, t, 0, {0}, data};
}

io_array io_array_1d(const char *name, io_dtype t, uint64_t n, const void *data) {
    return (io_array){name, t, 1, {n}, data};
}

io_array io_array_2d(const char *name, io_dtype t, uint64_t rows, uint64_t cols,
                     const void *data) {
    return (io_array){name, t, 2, {rows, cols}, data};
}

uint64_t io_array_count(const io_array *a) {
    uint64_t n = 1;
    for (int i = 0; i < a->rank; i++) n *= a->dims[i];
    return n;
}

const char *io_dtype_name(io_dtype t) {
    static const char *nm[] = {"int64", "uint64", "float32", "float64"};
    return t >= IO_I64 && t <= IO_F64 ? nm[t] : "?";
}

size_t io_dtype_size(io_dtype t) { return t == IO_F32 ? 4 : 8; }

io_h5_type io_ckpt_h5_type(io_dtype t) {
    static const io_h5_type m[] = {IO_H5_I64, IO_H5_U64, IO_H5_F32, IO_H5_F64};
    return m[t];
}

int io_ckpt_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= IO_CKPT_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- checksums ----------------------------------------------------------------- */

uint64_t io_ckpt_tensors_hash(uint64_t h, const lm_param_info *info, const float *buf) {
    for (int i = 0; i < LM_P_COUNT; i++) {
        size_t n = (size_t)info[i].rows * (size_t)(info[i].cols ? info[i].cols : 1);
        h = lm_sys_fnv1a64(h, buf + info[i].offset, n * sizeof(float));
    }
    return h;
}

static int cmp_array(const void *a, const void *b) {
    return strcmp((*(const io_array *const *)a)->name, (*(const io_array *const *)b)->name);
}

void io_ckpt_sort_arrays(const io_array **p, size_t n) { qsort(p, n, sizeof *p, cmp_array); }

uint64_t io_ckpt_state_hash(const io_array *const *sorted, size_t n) {
    uint64_t h = LM_SYS_FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        const io_array *a = sorted[i];
        uint8_t tr[2] = {(uint8_t)a->dtype, (uint8_t)a->rank};
        h = lm_sys_fnv1a64(h, a->name, strlen(a->name) + 1);
        h = lm_sys_fnv1a64(h, tr, 2);
        h = lm_sys_fnv1a64(h, a->dims, (size_t)a->rank * sizeof(uint64_t));
        h = lm_sys_fnv1a64(h, a->data, io_array_count(a) * io_dtype_size(a->dtype));
    }
    return h;
}

/* ---- save ------------------------------------------------------------------------ */

static int check_args(const io_ckpt_save_args *a, const char *path, lm_err *e) {
    if (!a->model || !a->model->params || !a->vocab)
        return lm_err_set(e, "%s: checkpoint needs a model and a vocabulary", path);
    if (a->vocab->size != (uint32_t)a->model->d.V)
        return lm_err_set(e, "%s: vocabulary size %u differs from model V=%d", path,
                          a->vocab->size, a->model->d.V);
    if ((a->adam_m == NULL) != (a->adam_v == NULL) || (a->adam_m && !a->adam))
        return lm_err_set(e, "%s: optimizer state needs adam_m, adam_v and adam together", path);
    if (a->config && strlen(a->config) > 60000)
        return lm_err_set(e, "%s: config text longer than 60000 bytes", path);
    for (size_t i = 0; i < a->n_state; i++) {
        const io_array *s = &a->state[i];
        if (!io_ckpt_name_ok(s->name))
            return lm_err_set(e, "%s: invalid state array name '%s'", path, s->name ? s->name : "");
        if (s->dtype < IO_I64 || s->dtype > IO_F64 || s->rank < 0 || s->rank > IO_CKPT_MAX_RANK ||
            (!s->data && io_array_count(s) > 0))
            return lm_err_set(e, "%s: state array '%s' has a bad dtype, rank or data", path, s->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->state[j].name, s->name))
                return lm_err_set(e, "%s: state array '%s' given twice", path, s->name);
    }
    return 0;
}

static hid_t new_group(hid_t loc, const char *name, const char *path, lm_err *e) {
    hid_t gcpl = io_h5_ocpl(H5P_GROUP_CREATE);
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0) io_h5_fail(e, path, name);
    return g;
}

/* Writes the model's tensors (from buf, in model layout) into group g. */
static int write_tensors(hid_t g, const lm_model *m, const float *buf, const char *path, lm_err *e) {
    for (int i = 0; i < LM_P_COUNT; i++) {
        const lm_param_info *p = &m->info[i];
        uint64_t dims[2] = {(uint64_t)p->rows, (uint64_t)p->cols};
        if (io_h5_write(g, p->name, IO_H5_F32, p->cols ? 2 : 1, dims, buf + p->offset, path, e))
            return -1;
    }
    return 0;
}

static int write_model(hid_t f, const io_ckpt_save_args *a, const char *path, lm_err *e) {
    const lm_model *m = a->model;
    hid_t g = new_group(f, "model", path, e);
    if (g < 0) return -1;
    int rc = write_tensors(g, m, m->params, path, e);
    if (!rc && io_h5_attr_put_u64(g, "checksum", io_ckpt_tensors_hash(LM_SYS_FNV_OFFSET, m->info, m->params)))
        rc = io_h5_fail(e, path, "cannot write /model checksum");
    H5Gclose(g);
    return rc;
}

static int write_optim(hid_t f, const io_ckpt_save_args *a, const char *path, lm_err *e) {
    const lm_model *m = a->model;
    hid_t go = new_group(f, "optim", path, e), ga = -1, gm = -1, gv = -1;
    int rc = go < 0 || (ga = new_group(go, "adam", path, e)) < 0 ||
             (gm = new_group(ga, "m", path, e)) < 0 || (gv = new_group(ga, "v", path, e)) < 0 ||
             write_tensors(gm, m, a->adam_m, path, e) || write_tensors(gv, m, a->adam_v, path, e);
    if (!rc) {
        uint64_t h = io_ckpt_tensors_hash(LM_SYS_FNV_OFFSET, m->info, a->adam_m);
        h = io_ckpt_tensors_hash(h, m->info, a->adam_v);
        if (io_h5_attr_put_u64(go, "checksum", h) || io_h5_attr_put_i64(ga, "step", a->adam->step) ||
            io_h5_attr_put_f64(ga, "beta1", a->adam->beta1) ||
            io_h5_attr_put_f64(ga, "beta2", a->adam->beta2) ||
            io_h5_attr_put_f64(ga, "eps", a->adam->eps) ||
            io_h5_attr_put_f64(ga, "weight_decay", a->adam->weight_decay))
            rc = io_h5_fail(e, path, "cannot write /optim attributes");
    }
    hid_t ids[] = {gv, gm, ga, go};
    for (int i = 0; i < 4; i++)
        if (ids[i] >= 0) H5Gclose(ids[i]);
    return rc ? -1 : 0;
}

static int write_state(hid_t f, const io_ckpt_save_args *a, const char *path, lm_err *e) {
    const io_array **sorted = malloc((a->n_state ? a->n_state : 1) * sizeof *sorted);
    if (!sorted) return lm_err_set(e, "%s: out of memory", path);
    for (size_t i = 0; i < a->n_state; i++) sorted[i] = &a->state[i];
    io_ckpt_sort_arrays(sorted, a->n_state);
    hid_t g = new_group(f, "state", path, e);
    int rc = g < 0 ? -1 : 0;
    for (size_t i = 0; i < a->n_state && !rc; i++) {
        const io_array *s = sorted[i];
        rc = io_h5_write(g, s->name, io_ckpt_h5_type(s->dtype), s->rank, s->dims, s->data, path, e);
    }
    if (!rc && io_h5_attr_put_u64(g, "checksum", io_ckpt_state_hash(sorted, a->n_state)))
        rc = io_h5_fail(e, path, "cannot write /state checksum");
    if (g >= 0) H5Gclose(g);
    free(sorted);
    return rc;
}

static int write_all(hid_t f, const void *ctx, const char *path, lm_err *e) {
    const io_ckpt_save_args *a = ctx;
    const lm_dims d = a->model->d;
    if (io_h5_attr_put_str(f, "kind", IO_KIND_CHECKPOINT) ||
        io_h5_attr_put_u64(f, "format_version", IO_CKPT_FORMAT_VERSION) ||
        io_h5_attr_put_i64(f, "step", a->step) || io_h5_attr_put_i64(f, "epoch", a->epoch) ||
        io_h5_attr_put_f64(f, "val_loss", a->val_loss) ||
        io_h5_attr_put_str(f, "config", a->config ? a->config : "") ||
        io_h5_attr_put_u64(f, "vocab_hash", io_vocab_hash(a->vocab->tokens, a->vocab->size)) ||
        io_h5_attr_put_u64(f, "vocab_size", a->vocab->size) || io_h5_attr_put_u64(f, "V", (uint64_t)d.V) ||
        io_h5_attr_put_u64(f, "E", (uint64_t)d.E) || io_h5_attr_put_u64(f, "H", (uint64_t)d.H) ||
        io_h5_attr_put_u64(f, "n_params", a->model->n_params))
        return io_h5_fail(e, path, "cannot write checkpoint attributes");
    if (write_model(f, a, path, e)) return -1;
    if (a->adam_m && write_optim(f, a, path, e)) return -1;
    if (write_state(f, a, path, e)) return -1;
    hid_t g = new_group(f, "vocab", path, e);
    if (g < 0) return -1;
    int rc = io_vocab_write_loc(g, a->vocab, path, e);
    H5Gclose(g);
    return rc;
}

int io_ckpt_save(const char *path, const io_ckpt_save_args *a, lm_err *e) {
    if (check_args(a, path, e)) return -1;
    return io_h5_save_atomic(path, write_all, a, e);
}
