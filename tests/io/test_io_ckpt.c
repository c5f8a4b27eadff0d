/* test_io_ckpt: checkpoints round-trip bit for bit (parameters, Adam moments,
 * /state arrays), inference reads only /model, every kind of damage or
 * mismatch is one line naming the file, and the run-directory helpers keep
 * the right files and resume from the newest valid one. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_test_cr.h"

static const lm_dims DIMS = {16, 5, 3}; /* V must match iot_make_vocab */
TestSuite(io_ckpt, .init = iot_setup, .fini = iot_teardown);

/* Makes fixture c (seed) and saves it as iot_dir/name at `step`. */
static char *saved(const char *name, iot_ckpt *c, uint32_t seed, int64_t step) {
    iot_ckpt_make(c, DIMS, seed);
    char *p = iot_path(iot_dir, name);
    lm_err e;
    cr_assert_eq(iot_ckpt_save(p, c, step, &e), 0, "%s", e.msg);
    return p;
}

static void release(iot_ckpt *c, char *p) {
    iot_ckpt_free(c);
    free(p);
}

/* Loads like the trainer does; returns the rc and leaves ck closed. */
static int resume(const char *p, const uint64_t *hash, lm_dims d, lm_err *e) {
    lm_model m;
    cr_assert_eq(lm_model_init(&m, d, 0, NULL), 0);
    float *am = malloc(m.n_params * 4), *av = malloc(m.n_params * 4);
    io_ckpt ck;
    lm_adam adam;
    int rc = io_ckpt_load(&ck, p, hash, &m, am, av, &adam, e);
    if (rc == 0) io_ckpt_close(&ck);
    free(am);
    free(av);
    lm_model_free(&m);
    return rc;
}

static long dataset_offset(const char *p, const char *name) {
    long at = iot_dataset_offset(p, name);
    cr_assert_geq(at, 0, "no dataset %s", name);
    return at;
}

Test(io_ckpt, round_trip_is_bit_exact) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 7, 1200);
    lm_model m;
    cr_assert_eq(lm_model_init(&m, DIMS, 1, NULL), 0);
    float *am = malloc(m.n_params * 4), *av = malloc(m.n_params * 4);
    io_ckpt ck;
    lm_adam adam;
    lm_err e;
    uint64_t hash = c.vocab.hash;
    cr_assert_eq(io_ckpt_load(&ck, p, &hash, &m, am, av, &adam, &e), 0, "%s", e.msg);
    cr_assert_eq(memcmp(m.params, c.model.params, m.n_params * 4), 0, "params differ");
    cr_assert_eq(memcmp(am, c.m, m.n_params * 4), 0, "adam m differs");
    cr_assert_eq(memcmp(av, c.v, m.n_params * 4), 0, "adam v differs");
    cr_assert_eq(adam.step, c.adam.step);
    cr_assert_eq(adam.beta2, c.adam.beta2);
    cr_assert_eq(adam.eps, c.adam.eps);
    cr_assert_eq(ck.step, 1200);
    cr_assert_eq(ck.epoch, 3);
    cr_assert_eq(ck.val_loss, 4.25);
    cr_assert_str_eq(ck.config, "epochs = 5\nlr = 0.001\ngenre = Café\n");
    cr_assert_eq(ck.vocab.size, 16);
    cr_assert_str_eq(ck.vocab.tokens[12], "日本語");
    cr_assert_str_eq(ck.vocab.genres[0], "Rock");
    int64_t epoch;
    uint64_t rng[4];
    double lr;
    float best, *hc = malloc((size_t)c.G * DIMS.H * 4);
    cr_assert_eq(io_ckpt_state_get(&ck, "epoch", IO_I64, 1, &epoch, &e), 0, "%s", e.msg);
    cr_assert_eq(io_ckpt_state_get(&ck, "rng.train", IO_U64, 4, rng, &e), 0, "%s", e.msg);
    cr_assert_eq(io_ckpt_state_get(&ck, "lr", IO_F64, 1, &lr, &e), 0, "%s", e.msg);
    cr_assert_eq(io_ckpt_state_get(&ck, "sched.best", IO_F32, 1, &best, &e), 0, "%s", e.msg);
    cr_assert_eq(io_ckpt_state_get(&ck, "carry.h", IO_F32, (uint64_t)c.G * DIMS.H, hc, &e), 0,
                 "%s", e.msg);
    cr_assert_eq(epoch, 3);
    cr_assert_eq(memcmp(rng, c.rng, sizeof rng), 0);
    cr_assert_eq(lr, c.lr);
    cr_assert_eq(best, c.best);
    cr_assert_eq(memcmp(hc, c.hc, (size_t)c.G * DIMS.H * 4), 0);
    const io_array *a = io_ckpt_state_find(&ck, "carry.h");
    cr_assert(a && a->rank == 2 && a->dims[0] == (uint64_t)c.G && a->dims[1] == (uint64_t)DIMS.H);
    io_ckpt_close(&ck);
    io_ckpt_close(&ck); /* twice is harmless */
    free(hc);
    free(am);
    free(av);
    lm_model_free(&m);
    release(&c, p);
}

Test(io_ckpt, state_get_checks_name_dtype_and_count) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 1, 5);
    io_ckpt ck;
    lm_err e;
    cr_assert_eq(io_ckpt_open(&ck, p, &e), 0, "%s", e.msg);
    uint64_t u[4];
    double x;
    cr_assert_eq(io_ckpt_state_get(&ck, "rng.dropout", IO_U64, 4, u, &e), -1);
    iot_assert_one_line(&e, p, "state 'rng.dropout' missing");
    cr_assert_eq(io_ckpt_state_get(&ck, "rng.train", IO_I64, 4, u, &e), -1);
    iot_assert_one_line(&e, p, "is uint64 x 4, expected int64 x 4");
    cr_assert_eq(io_ckpt_state_get(&ck, "rng.train", IO_U64, 3, u, &e), -1);
    cr_assert_eq(io_ckpt_state_get(&ck, "epoch", IO_F64, 1, &x, &e), -1);
    io_ckpt_close(&ck);
    release(&c, p);
}

Test(io_ckpt, inference_load_reads_only_the_model) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 2, 9);
    /* damage the Adam moments: a full validation must notice, inference not */
    iot_corrupt(p, dataset_offset(p, "optim/adam/v/fc.weight") + 8, 4);
    lm_err e;
    cr_assert_eq(io_ckpt_validate(p, NULL, &e), -1);
    iot_assert_one_line(&e, p, "/optim checksum mismatch");
    io_ckpt ck;
    lm_model m;
    cr_assert_eq(io_ckpt_load_model(&ck, p, &m, &e), 0, "%s", e.msg);
    cr_assert_null(m.grads);
    cr_assert_eq(m.d.V, DIMS.V);
    cr_assert_eq(m.d.H, DIMS.H);
    cr_assert_eq(memcmp(m.params, c.model.params, m.n_params * 4), 0);
    cr_assert_eq(ck.vocab.size, 16, "generate needs the vocabulary from the checkpoint");
    lm_model_free(&m);
    io_ckpt_close(&ck);
    release(&c, p);
}

Test(io_ckpt, corrupt_parameter_byte_fails_the_checksum) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 3, 9);
    iot_corrupt(p, dataset_offset(p, "model/lstm.weight_hh") + 5, 1);
    lm_err e;
    cr_assert_eq(resume(p, NULL, DIMS, &e), -1);
    iot_assert_one_line(&e, p, "/model checksum mismatch");
    io_ckpt ck;
    lm_model m;
    cr_assert_eq(io_ckpt_load_model(&ck, p, &m, &e), -1);
    iot_assert_one_line(&e, p, "corrupt checkpoint");
    release(&c, p);
}

Test(io_ckpt, corrupt_state_fails_at_open) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 3, 9);
    iot_corrupt(p, dataset_offset(p, "state/rng.train") + 3, 1);
    io_ckpt ck;
    lm_err e;
    cr_assert_eq(io_ckpt_open(&ck, p, &e), -1);
    iot_assert_one_line(&e, p, "/state checksum mismatch");
    release(&c, p);
}

Test(io_ckpt, truncated_and_foreign_files_are_refused) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 4, 9);
    iot_truncate(p, iot_file_size(p) - 100);
    lm_err e;
    cr_assert_eq(resume(p, NULL, DIMS, &e), -1);
    iot_assert_one_line(&e, p, "truncated");
    char *s = iot_path(iot_dir, "train-00000.h5");
    cr_assert_eq(iot_write_shard(s, 3, 16, 1, 0, NULL), 0);
    cr_assert_eq(resume(s, NULL, DIMS, &e), -1);
    iot_assert_one_line(&e, s, "is a LyricMind shard file, expected a checkpoint");
    iot_random_file(s, 5000);
    cr_assert_eq(resume(s, NULL, DIMS, &e), -1);
    iot_assert_one_line(&e, s, "not an HDF5 file");
    release(&c, p);
    free(s);
}

Test(io_ckpt, wrong_vocab_hash_and_dims_are_refused) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 5, 9);
    lm_err e;
    uint64_t other = c.vocab.hash ^ 0x10;
    cr_assert_eq(resume(p, &other, DIMS, &e), -1);
    iot_assert_one_line(&e, p, "trained on another vocabulary");
    cr_assert_eq(resume(p, &c.vocab.hash, (lm_dims){16, 5, 4}, &e), -1);
    iot_assert_one_line(&e, p, "model dims V=16 E=5 H=3 differ from the expected V=16 E=5 H=4");
    cr_assert_eq(resume(p, &c.vocab.hash, DIMS, &e), 0, "%s", e.msg);
    release(&c, p);
}

Test(io_ckpt, unknown_format_version_is_refused) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 5, 9);
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    uint64_t v = 2;
    H5Awrite(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    H5Fclose(f);
    lm_err e;
    cr_assert_eq(io_ckpt_validate(p, NULL, &e), -1);
    iot_assert_one_line(&e, p, "format version 2 is not supported");
    release(&c, p);
}

Test(io_ckpt, failed_save_leaves_the_previous_file) {
    iot_ckpt c;
    char *p = saved("ckpt.h5", &c, 6, 1);
    long size = iot_file_size(p);
    io_array bad[] = {io_array_scalar("a/b", IO_I64, &c.epoch)};
    io_ckpt_save_args a = {.model = &c.model, .vocab = &c.vocab, .state = bad, .n_state = 1};
    lm_err e;
    cr_assert_eq(io_ckpt_save(p, &a, &e), -1);
    iot_assert_one_line(&e, p, "invalid state array name 'a/b'");
    io_array dup[] = {io_array_scalar("x", IO_I64, &c.epoch), io_array_scalar("x", IO_F64, &c.lr)};
    a.state = dup;
    a.n_state = 2;
    cr_assert_eq(io_ckpt_save(p, &a, &e), -1);
    iot_assert_one_line(&e, p, "given twice");
    cr_assert_eq(iot_file_size(p), size);
    cr_assert_eq(io_ckpt_validate(p, NULL, &e), 0, "%s", e.msg);
    /* a save into a missing directory fails cleanly */
    char *q = iot_path(iot_dir, "no/such/iot_dir/ckpt.h5");
    cr_assert_eq(iot_ckpt_save(q, &c, 1, &e), -1);
    cr_assert(strstr(e.msg, "no/such/iot_dir"), "%s", e.msg);
    /* a successful save replaces the file and leaves no temp file */
    cr_assert_eq(iot_ckpt_save(p, &c, 2, &e), 0, "%s", e.msg);
    io_ckpt_summary s;
    cr_assert_eq(io_ckpt_validate(p, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.step, 2);
    cr_assert_eq(iot_system("ls '%s' | grep -q tmp", iot_dir), 1, "temp file left behind");
    release(&c, p);
    free(q);
}

Test(io_ckpt, model_only_checkpoint_has_no_optimizer) {
    iot_ckpt c;
    iot_ckpt_make(&c, DIMS, 8);
    char *p = iot_path(iot_dir, "best.h5");
    io_ckpt_save_args a = {.model = &c.model, .vocab = &c.vocab, .val_loss = NAN};
    lm_err e;
    cr_assert_eq(io_ckpt_save(p, &a, &e), 0, "%s", e.msg);
    io_ckpt_summary s;
    cr_assert_eq(io_ckpt_validate(p, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.has_optim, 0);
    cr_assert_eq(s.n_state, 0);
    cr_assert(isnan(s.val_loss));
    cr_assert_eq(resume(p, NULL, DIMS, &e), -1);
    iot_assert_one_line(&e, p, "no optimizer state");
    release(&c, p);
}

static void touch(const char *name) {
    char *p = iot_path(iot_dir, name);
    FILE *f = fopen(p, "w");
    fputs("x", f);
    fclose(f);
    free(p);
}

Test(io_ckpt, keep_last_prunes_only_old_numbered_checkpoints) {
    iot_ckpt c;
    iot_ckpt_make(&c, DIMS, 9);
    lm_err e;
    for (int64_t s = 100; s <= 600; s += 100) {
        char p[4200];
        io_ckpt_path(p, sizeof p, iot_dir, s);
        cr_assert_eq(iot_ckpt_save(p, &c, s, &e), 0, "%s", e.msg);
    }
    touch("best.h5");
    touch("ckpt-000000700.h5.tmp.123");
    touch("ckpt-12x.h5");
    touch("notes.txt");
    cr_assert_eq(io_ckpt_keep_last(iot_dir, 2, &e), 4);
    int64_t *steps;
    size_t n;
    cr_assert_eq(io_ckpt_list(iot_dir, &steps, &n, &e), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(steps[0], 500);
    cr_assert_eq(steps[1], 600);
    free(steps);
    cr_assert_eq(iot_system("cd '%s' && test -f best.h5 && test -f ckpt-000000700.h5.tmp.123 && "
                            "test -f ckpt-12x.h5 && test -f notes.txt", iot_dir), 0);
    cr_assert_eq(io_ckpt_keep_last(iot_dir, 0, &e), 0, "keep 0 keeps all");
    cr_assert_eq(io_ckpt_keep_last(iot_dir, 5, &e), 0);
    iot_ckpt_free(&c);
}

static int skipped;
static char skipped_path[4200];
static void on_skip(void *ctx, const char *path, const char *why) {
    (void)ctx;
    skipped++;
    snprintf(skipped_path, sizeof skipped_path, "%s", path);
    cr_assert(strstr(why, path), "skip reason should name the file: %s", why);
}

Test(io_ckpt, newest_valid_skips_damaged_checkpoints) {
    iot_ckpt c;
    iot_ckpt_make(&c, DIMS, 10);
    lm_err e;
    char out[4200], p[4200];
    skipped = 0;
    cr_assert_eq(io_ckpt_newest_valid(iot_dir, out, sizeof out, on_skip, NULL, &e), 0, "empty iot_dir");
    char *missing = iot_path(iot_dir, "nope");
    cr_assert_eq(io_ckpt_newest_valid(missing, out, sizeof out, on_skip, NULL, &e), 0);
    for (int64_t s = 1; s <= 3; s++) {
        io_ckpt_path(p, sizeof p, iot_dir, s * 10);
        cr_assert_eq(iot_ckpt_save(p, &c, s * 10, &e), 0, "%s", e.msg);
    }
    touch("best.h5"); /* invalid, but never considered */
    io_ckpt_path(p, sizeof p, iot_dir, 30);
    iot_truncate(p, iot_file_size(p) / 2);
    cr_assert_eq(io_ckpt_newest_valid(iot_dir, out, sizeof out, on_skip, NULL, &e), 1);
    char want[4200];
    io_ckpt_path(want, sizeof want, iot_dir, 20);
    cr_assert_str_eq(out, want);
    cr_assert_eq(skipped, 1);
    cr_assert_str_eq(skipped_path, p);
    iot_ckpt_free(&c);
    free(missing);
}
