/* io_ckpt_load: opening, checking and reading checkpoints (see io_ckpt.h).
 *
 * Invariants: io_ckpt_open reads only the header, the vocabulary and /state
 * (small); /model and /optim are read on request, each verified against its
 * checksum before the caller sees success. Any mismatch is one line naming
 * the file and what differs. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_ckpt_int.h"
#include "io_vocab_int.h"

void io_ckpt_close(io_ckpt *ck) {
    if (ck->h5file > 0) {
        io_h5_quiet q = io_h5_quiet_begin();
        H5Fclose(ck->h5file);
        io_h5_quiet_end(q);
    }
    ck->h5file = -1;
    free(ck->config);
    ck->config = NULL;
    io_vocab_free(&ck->vocab);
    for (size_t i = 0; i < ck->n_state; i++) {
        free((void *)ck->state[i].name);
        free((void *)ck->state[i].data);
    }
    free(ck->state);
    ck->state = NULL;
    ck->n_state = 0;
}

/* Classifies a stored element type into io_dtype; -1 if none fits. */
static int dtype_of(hid_t ft) {
    H5T_class_t c = H5Tget_class(ft);
    size_t sz = H5Tget_size(ft);
    if (c == H5T_FLOAT) return sz == 4 ? IO_F32 : sz == 8 ? IO_F64 : -1;
    if (c == H5T_INTEGER && sz == 8) return H5Tget_sign(ft) == H5T_SGN_2 ? IO_I64 : IO_U64;
    return -1;
}

/* Reads /state/<name> (index i in name order) into a. */
static int read_state_array(hid_t g, hsize_t i, io_array *a, const char *path, lm_err *e) {
    char name[IO_CKPT_NAME_MAX + 1];
    ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    if (len < 0) return io_h5_fail(e, path, "cannot list /state");
    if (len >= (ssize_t)sizeof name || !io_ckpt_name_ok(name))
        return lm_err_set(e, "%s: /state holds an invalid name", path);
    if (!(a->name = strdup(name))) return lm_err_set(e, "%s: out of memory", path);
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return io_h5_fail(e, path, "cannot open a /state dataset");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    int t = dtype_of(ft), r = H5Sget_simple_extent_ndims(sp);
    hsize_t hd[IO_CKPT_MAX_RANK] = {0};
    int rc = 0;
    if (t < 0 || r < 0 || r > IO_CKPT_MAX_RANK)
        rc = lm_err_set(e, "%s: /state/%s has an unsupported type or rank", path, name);
    else {
        H5Sget_simple_extent_dims(sp, hd, NULL);
        a->dtype = (io_dtype)t;
        a->rank = r;
        for (int k = 0; k < r; k++) a->dims[k] = hd[k];
        uint64_t n = io_array_count(a);
        void *buf = n > ((uint64_t)1 << 32) ? NULL : malloc(n ? n * io_dtype_size(a->dtype) : 1);
        a->data = buf;
        if (!buf) rc = lm_err_set(e, "%s: /state/%s too large", path, name);
        else if (n && H5Dread(d, io_h5_mem_type(io_ckpt_h5_type(a->dtype)), H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, buf) < 0)
            rc = io_h5_fail(e, path, name);
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static int read_state(io_ckpt *ck, const char *path, lm_err *e) {
    if (H5Lexists(ck->h5file, "state", H5P_DEFAULT) <= 0)
        return lm_err_set(e, "%s: group /state missing", path);
    hid_t g = H5Gopen2(ck->h5file, "state", H5P_DEFAULT);
    H5G_info_t gi;
    uint64_t stored;
    if (g < 0 || H5Gget_info(g, &gi) < 0) return io_h5_fail(e, path, "cannot open /state");
    int rc = io_h5_attr_get_u64(g, "checksum", &stored, path, e);
    ck->state = calloc(gi.nlinks ? gi.nlinks : 1, sizeof *ck->state);
    if (!rc && !ck->state) rc = lm_err_set(e, "%s: out of memory", path);
    for (hsize_t i = 0; !rc && i < gi.nlinks; i++) {
        ck->n_state = i + 1;
        rc = read_state_array(g, i, &ck->state[i], path, e);
    }
    H5Gclose(g);
    if (rc) return -1;
    const io_array **sorted = malloc((ck->n_state ? ck->n_state : 1) * sizeof *sorted);
    if (!sorted) return lm_err_set(e, "%s: out of memory", path);
    for (size_t i = 0; i < ck->n_state; i++) sorted[i] = &ck->state[i];
    io_ckpt_sort_arrays(sorted, ck->n_state);
    uint64_t h = io_ckpt_state_hash(sorted, ck->n_state);
    free(sorted);
    if (h != stored)
        return lm_err_set(e, "%s: /state checksum mismatch (stored %016" PRIx64 ", computed %016" PRIx64
                             "): corrupt checkpoint", path, stored, h);
    return 0;
}

static int read_adam_attrs(io_ckpt *ck, const char *path, lm_err *e) {
    hid_t g = H5Gopen2(ck->h5file, "optim/adam", H5P_DEFAULT);
    if (g < 0) return io_h5_fail(e, path, "cannot open /optim/adam");
    int64_t step;
    int rc = io_h5_attr_get_i64(g, "step", &step, path, e) ||
             io_h5_attr_get_f64(g, "beta1", &ck->adam.beta1, path, e) ||
             io_h5_attr_get_f64(g, "beta2", &ck->adam.beta2, path, e) ||
             io_h5_attr_get_f64(g, "eps", &ck->adam.eps, path, e) ||
             io_h5_attr_get_f64(g, "weight_decay", &ck->adam.weight_decay, path, e);
    ck->adam.step = (long)step;
    H5Gclose(g);
    return rc ? -1 : 0;
}

static int open_impl(io_ckpt *ck, const char *path, lm_err *e) {
    uint64_t version, V, E, H, n_params, vhash, vsize;
    hid_t f = ck->h5file = io_h5_open(path, IO_KIND_CHECKPOINT, NULL, e);
    if (f < 0) return -1;
    if (io_h5_attr_get_u64(f, "format_version", &version, path, e)) return -1;
    if (version != IO_CKPT_FORMAT_VERSION)
        return lm_err_set(e, "%s: checkpoint format version %" PRIu64 " is not supported (this build reads %d)",
                          path, version, IO_CKPT_FORMAT_VERSION);
    ck->format_version = (int)version;
    if (io_h5_attr_get_u64(f, "V", &V, path, e) || io_h5_attr_get_u64(f, "E", &E, path, e) ||
        io_h5_attr_get_u64(f, "H", &H, path, e) || io_h5_attr_get_u64(f, "n_params", &n_params, path, e) ||
        io_h5_attr_get_i64(f, "step", &ck->step, path, e) ||
        io_h5_attr_get_i64(f, "epoch", &ck->epoch, path, e) ||
        io_h5_attr_get_f64(f, "val_loss", &ck->val_loss, path, e) ||
        io_h5_attr_get_str(f, "config", &ck->config, path, e) ||
        io_h5_attr_get_u64(f, "vocab_hash", &vhash, path, e) ||
        io_h5_attr_get_u64(f, "vocab_size", &vsize, path, e))
        return -1;
    if (V < 1 || V > 65536 || E < 1 || E > 65536 || H < 1 || H > 65536)
        return lm_err_set(e, "%s: implausible model dims V=%" PRIu64 " E=%" PRIu64 " H=%" PRIu64,
                          path, V, E, H);
    ck->dims = (lm_dims){(int)V, (int)E, (int)H};
    ck->n_params = lm_model_count_params(ck->dims);
    if (n_params != ck->n_params)
        return lm_err_set(e, "%s: n_params %" PRIu64 " does not match dims V=%d E=%d H=%d (%zu)",
                          path, n_params, ck->dims.V, ck->dims.E, ck->dims.H, ck->n_params);
    if (H5Lexists(f, "vocab", H5P_DEFAULT) <= 0 || H5Lexists(f, "model", H5P_DEFAULT) <= 0)
        return lm_err_set(e, "%s: group /vocab or /model missing", path);
    hid_t g = H5Gopen2(f, "vocab", H5P_DEFAULT);
    int rc = g < 0 ? io_h5_fail(e, path, "cannot open /vocab") : io_vocab_read_loc(g, path, &ck->vocab, e);
    if (g >= 0) H5Gclose(g);
    if (rc) return -1;
    if (ck->vocab.size != V || vsize != V || ck->vocab.hash != vhash)
        return lm_err_set(e, "%s: vocabulary (size %u, hash %016" PRIx64 ") does not match the header "
                             "(V=%" PRIu64 ", hash %016" PRIx64 ")", path, ck->vocab.size, ck->vocab.hash, V, vhash);
    g = H5Gopen2(f, "model", H5P_DEFAULT);
    rc = g < 0 ? io_h5_fail(e, path, "cannot open /model")
               : io_h5_attr_get_u64(g, "checksum", &ck->model_checksum, path, e);
    if (g >= 0) H5Gclose(g);
    if (rc) return -1;
    ck->has_optim = H5Lexists(f, "optim", H5P_DEFAULT) > 0;
    if (ck->has_optim && read_adam_attrs(ck, path, e)) return -1;
    return read_state(ck, path, e);
}

int io_ckpt_open(io_ckpt *ck, const char *path, lm_err *e) {
    memset(ck, 0, sizeof *ck);
    ck->h5file = -1;
    snprintf(ck->path, sizeof ck->path, "%s", path);
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = open_impl(ck, ck->path, e);
    io_h5_quiet_end(q);
    if (rc) io_ckpt_close(ck);
    return rc;
}

int io_ckpt_check(const io_ckpt *ck, const lm_dims *d, const uint64_t *vocab_hash, lm_err *e) {
    if (d && (d->V != ck->dims.V || d->E != ck->dims.E || d->H != ck->dims.H))
        return lm_err_set(e, "%s: model dims V=%d E=%d H=%d differ from the expected V=%d E=%d H=%d",
                          ck->path, ck->dims.V, ck->dims.E, ck->dims.H, d->V, d->E, d->H);
    if (vocab_hash && *vocab_hash != ck->vocab.hash)
        return lm_err_set(e, "%s: trained on another vocabulary (hash %016" PRIx64 ") than the data's "
                             "(hash %016" PRIx64 ")", ck->path, ck->vocab.hash, *vocab_hash);
    return 0;
}

/* Reads the model-shaped tensors under group `grp` into buf (model layout). */
static int read_tensors(io_ckpt *ck, const char *grp, const lm_model *m, float *buf, lm_err *e) {
    if (io_ckpt_check(ck, &m->d, NULL, e)) return -1;
    hid_t g = H5Gopen2(ck->h5file, grp, H5P_DEFAULT);
    if (g < 0) return io_h5_fail(e, ck->path, grp);
    int rc = 0;
    for (int i = 0; i < LM_P_COUNT && !rc; i++) {
        const lm_param_info *p = &m->info[i];
        uint64_t dims[2] = {(uint64_t)p->rows, (uint64_t)p->cols};
        rc = io_h5_read(g, p->name, IO_H5_F32, p->cols ? 2 : 1, dims, buf + p->offset, ck->path, e);
    }
    H5Gclose(g);
    return rc;
}

int io_ckpt_read_model(io_ckpt *ck, lm_model *m, lm_err *e) {
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = read_tensors(ck, "model", m, m->params, e);
    io_h5_quiet_end(q);
    if (rc) return -1;
    uint64_t h = io_ckpt_tensors_hash(LM_SYS_FNV_OFFSET, m->info, m->params);
    if (h != ck->model_checksum)
        return lm_err_set(e, "%s: /model checksum mismatch (stored %016" PRIx64 ", computed %016" PRIx64
                             "): corrupt checkpoint", ck->path, ck->model_checksum, h);
    return 0;
}

int io_ckpt_read_optim(io_ckpt *ck, const lm_model *model, float *m, float *v, lm_adam *adam,
                       lm_err *e) {
    if (!ck->has_optim) return lm_err_set(e, "%s: holds no optimizer state (a weights-only file, e.g. from "
                                 "'lyricmind export'): resume from a full checkpoint (RUN/ckpt-*.h5 "
                                 "or RUN/best.h5)", ck->path);
    io_h5_quiet q = io_h5_quiet_begin();
    uint64_t stored = 0;
    hid_t g = H5Gopen2(ck->h5file, "optim", H5P_DEFAULT);
    int rc = g < 0 ? io_h5_fail(e, ck->path, "cannot open /optim")
                   : io_h5_attr_get_u64(g, "checksum", &stored, ck->path, e);
    if (g >= 0) H5Gclose(g);
    if (!rc) rc = read_tensors(ck, "optim/adam/m", model, m, e);
    if (!rc) rc = read_tensors(ck, "optim/adam/v", model, v, e);
    io_h5_quiet_end(q);
    if (rc) return -1;
    uint64_t h = io_ckpt_tensors_hash(LM_SYS_FNV_OFFSET, model->info, m);
    h = io_ckpt_tensors_hash(h, model->info, v);
    if (h != stored)
        return lm_err_set(e, "%s: /optim checksum mismatch (stored %016" PRIx64 ", computed %016" PRIx64
                             "): corrupt checkpoint", ck->path, stored, h);
    if (adam) *adam = ck->adam;
    return 0;
}

const io_array *io_ckpt_state_find(const io_ckpt *ck, const char *name) {
    for (size_t i = 0; i < ck->n_state; i++)
        if (!strcmp(ck->state[i].name, name)) return &ck->state[i];
    return NULL;
}

int io_ckpt_state_get(const io_ckpt *ck, const char *name, io_dtype t, uint64_t n, void *out,
                      lm_err *e) {
    const io_array *a = io_ckpt_state_find(ck, name);
    if (!a) return lm_err_set(e, "%s: state '%s' missing", ck->path, name);
    if (a->dtype != t || io_array_count(a) != n)
        return lm_err_set(e, "%s: state '%s' is %s x %" PRIu64 ", expected %s x %" PRIu64, ck->path,
                          name, io_dtype_name(a->dtype), io_array_count(a), io_dtype_name(t), n);
    memcpy(out, a->data, n * io_dtype_size(t));
    return 0;
}

int io_ckpt_load(io_ckpt *ck, const char *path, const uint64_t *vocab_hash, lm_model *m,
                 float *adam_m, float *adam_v, lm_adam *adam, lm_err *e) {
    if (io_ckpt_open(ck, path, e)) return -1;
    if (io_ckpt_check(ck, &m->d, vocab_hash, e) || io_ckpt_read_model(ck, m, e) ||
        (adam_m && io_ckpt_read_optim(ck, m, adam_m, adam_v, adam, e))) {
        io_ckpt_close(ck);
        return -1;
    }
    return 0;
}

int io_ckpt_load_model(io_ckpt *ck, const char *path, lm_model *m, lm_err *e) {
    if (io_ckpt_open(ck, path, e)) return -1;
    if (lm_model_init(m, ck->dims, 0, e)) {
        lm_err_prefix(e, "%s", path);
        io_ckpt_close(ck);
        return -1;
    }
    if (io_ckpt_read_model(ck, m, e)) {
        lm_model_free(m);
        io_ckpt_close(ck);
        return -1;
    }
    return 0;
}

int io_ckpt_validate(const char *path, io_ckpt_summary *s, lm_err *e) {
    io_ckpt ck;
    lm_model m;
    if (io_ckpt_load_model(&ck, path, &m, e)) return -1;
    int rc = 0;
    if (ck.has_optim) {
        float *am = malloc(ck.n_params * sizeof *am), *av = malloc(ck.n_params * sizeof *av);
        rc = am && av ? io_ckpt_read_optim(&ck, &m, am, av, NULL, e)
                      : lm_err_set(e, "%s: out of memory", path);
        free(am);
        free(av);
    }
    if (!rc && s)
        *s = (io_ckpt_summary){ck.format_version, ck.step, ck.epoch, ck.val_loss, ck.dims,
                               ck.n_params, ck.vocab.hash, ck.model_checksum, ck.vocab.size,
                               ck.has_optim, ck.n_state};
    lm_model_free(&m);
    io_ckpt_close(&ck);
    return rc;
}
