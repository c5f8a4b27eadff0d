/* test_io_shard: shards round-trip exactly across chunk boundaries, and every
 * kind of damaged or wrong file is refused with one line naming the file. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "io_test_cr.h"

#define V 5000
#define HASH 0x1234abcd5678ef00ULL

TestSuite(io_shard, .init = iot_setup, .fini = iot_teardown);

/* Opening and fully validating must fail with `what` in the message. */
static void assert_shard_refused(const char *path, const char *what) {
    io_shard s;
    lm_err e = {{0}};
    int rc = io_shard_open(&s, path, &e);
    if (rc == 0) {
        rc = io_shard_validate(&s, &e);
        io_shard_close(&s);
    }
    cr_assert_eq(rc, -1, "%s was accepted", path);
    iot_assert_one_line(&e, path, what);
}

static char *small_shard(const char *name, uint64_t songs, uint64_t *ntok) {
    char *p = iot_path(iot_dir, name);
    cr_assert_eq(iot_write_shard(p, songs, V, HASH, 1000, ntok), 0);
    return p;
}

Test(io_shard, round_trip_multi_chunk_exact) {
    char *p = iot_path(iot_dir, "train-00000.h5");
    uint64_t songs = 400, ntok = 0;
    cr_assert_eq(iot_write_shard(p, songs, V, HASH, 4096, &ntok), 0);
    cr_assert_gt(ntok, 20 * 4096, "fixture should span many chunks");
    io_shard s;
    lm_err e;
    cr_assert_eq(io_shard_open(&s, p, &e), 0, "%s", e.msg);
    cr_assert_eq(s.n_songs, songs);
    cr_assert_eq(s.n_tokens, ntok);
    cr_assert_eq(s.vocab_hash, HASH);
    cr_assert_eq(s.vocab_size, V);
    uint64_t at = 0;
    uint16_t *all = malloc(ntok * sizeof *all);
    cr_assert_eq(io_shard_read(&s, 0, ntok, all, &e), 0, "%s", e.msg);
    for (uint64_t song = 0; song < songs; song++) {
        cr_assert_eq(s.song_offsets[song], at);
        cr_assert_eq(s.song_genre[song], song % 2);
        for (size_t i = 0; i < iot_song_len(song); i++)
            cr_assert_eq(all[at + i], iot_token(song, i, V), "song %llu token %zu",
                         (unsigned long long)song, i);
        at += iot_song_len(song);
    }
    cr_assert_eq(s.song_offsets[songs], ntok);
    /* ranges straddling chunk edges, and the tail (partial last chunk) */
    uint64_t starts[] = {0, 4095, 4096, 8191, 12345, ntok - 5000, ntok - 1};
    uint16_t part[5000];
    for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
        uint64_t n = ntok - starts[k] < 5000 ? ntok - starts[k] : 5000;
        cr_assert_eq(io_shard_read(&s, starts[k], n, part, &e), 0, "%s", e.msg);
        cr_assert_eq(memcmp(part, all + starts[k], n * 2), 0, "range at %llu",
                     (unsigned long long)starts[k]);
    }
    cr_assert_eq(io_shard_validate(&s, &e), 0, "%s", e.msg);
    cr_assert_lt(io_shard_stored_bytes(&s), ntok * 2, "tokens should be compressed");
    cr_assert_eq(io_shard_read(&s, ntok - 2, 3, part, &e), -1, "read past the end accepted");
    iot_assert_one_line(&e, p, "beyond");
    io_shard_close(&s);
    io_shard_close(&s); /* twice is harmless */
    free(all);
    free(p);
}

Test(io_shard, default_chunk_larger_than_one_chunk) {
    char *p = iot_path(iot_dir, "big.h5");
    uint64_t ntok;
    cr_assert_eq(iot_write_shard(p, 1200, V, HASH, 0, &ntok), 0);
    cr_assert_gt(ntok, IO_SHARD_CHUNK_TOKENS + 1);
    io_shard s;
    lm_err e;
    cr_assert_eq(io_shard_open(&s, p, &e), 0, "%s", e.msg);
    cr_assert_eq(io_shard_validate(&s, &e), 0, "%s", e.msg);
    uint16_t t[4];
    uint64_t start = s.song_offsets[1199];
    cr_assert_eq(io_shard_read(&s, start, 4, t, &e), 0, "%s", e.msg);
    for (int i = 0; i < 4; i++) cr_assert_eq(t[i], iot_token(1199, i, V));
    io_shard_close(&s);
    free(p);
}

Test(io_shard, empty_shard_is_valid) {
    uint64_t ntok;
    char *p = small_shard("empty.h5", 0, &ntok);
    io_shard s;
    lm_err e;
    cr_assert_eq(io_shard_open(&s, p, &e), 0, "%s", e.msg);
    cr_assert_eq(s.n_tokens, 0);
    cr_assert_eq(s.n_songs, 0);
    cr_assert_eq(io_shard_validate(&s, &e), 0, "%s", e.msg);
    io_shard_close(&s);
    free(p);
}

Test(io_shard, writer_refuses_id_out_of_range) {
    char *p = iot_path(iot_dir, "bad.h5");
    lm_err e;
    io_shard_writer *w = io_shard_writer_open(p, HASH, 10, &e);
    cr_assert(w, "%s", e.msg);
    uint16_t song[] = {2, 7, 10, 3};
    cr_assert_eq(io_shard_writer_add(w, song, 4, 0, &e), -1);
    iot_assert_one_line(&e, p, "id 10 >= vocabulary size 10");
    io_shard_writer_abort(w);
    cr_assert_eq(iot_file_size(p), -1, "aborted writer left its file");
    cr_assert_null(io_shard_writer_open(p, HASH, 70000, &e));
    free(p);
}

/* Opens the shard read-write for surgery (HDF5 directly, as an attacker would). */
static hid_t h5_rw(const char *p) {
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    return f;
}

static void set_u64_attr(const char *p, const char *name, uint64_t v) {
    hid_t f = h5_rw(p);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    cr_assert_geq(a, 0);
    H5Awrite(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    H5Fclose(f);
}

Test(io_shard, refuses_non_monotone_offsets) {
    char *p = small_shard("s.h5", 20, NULL);
    hid_t f = h5_rw(p);
    hid_t d = H5Dopen2(f, "song_offsets", H5P_DEFAULT);
    uint64_t off[21];
    H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, off);
    uint64_t t = off[5];
    off[5] = off[6];
    off[6] = t;
    H5Dwrite(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, off);
    H5Dclose(d);
    H5Fclose(f);
    assert_shard_refused(p, "not monotone at song 5");
    free(p);
}

Test(io_shard, refuses_offsets_not_ending_at_n_tokens) {
    uint64_t ntok;
    char *p = small_shard("s.h5", 20, &ntok);
    set_u64_attr(p, "n_tokens", ntok - 1);
    assert_shard_refused(p, "/tokens has");
    free(p);
}

Test(io_shard, refuses_token_id_not_below_vocab_size) {
    char *p = small_shard("s.h5", 20, NULL);
    set_u64_attr(p, "vocab_size", 100); /* fixture ids go up to V-1 */
    assert_shard_refused(p, ">= vocab_size 100");
    free(p);
}

Test(io_shard, refuses_missing_dataset) {
    char *p = small_shard("s.h5", 20, NULL);
    hid_t f = h5_rw(p);
    H5Ldelete(f, "song_genre", H5P_DEFAULT);
    H5Fclose(f);
    assert_shard_refused(p, "dataset 'song_genre' missing");
    free(p);
}

Test(io_shard, refuses_missing_attribute_and_unknown_version) {
    char *p = small_shard("s.h5", 20, NULL);
    set_u64_attr(p, "format_version", 99);
    assert_shard_refused(p, "format version 99 is not supported");
    hid_t f = h5_rw(p);
    H5Adelete(f, "vocab_hash");
    H5Fclose(f);
    set_u64_attr(p, "format_version", IO_SHARD_FORMAT_VERSION);
    assert_shard_refused(p, "attribute 'vocab_hash' missing");
    free(p);
}

Test(io_shard, refuses_truncated_file) {
    char *p = small_shard("s.h5", 50, NULL);
    long n = iot_file_size(p);
    iot_truncate(p, n / 2);
    assert_shard_refused(p, "truncated");
    iot_truncate(p, 100); /* inside the superblock */
    assert_shard_refused(p, "");
    free(p);
}

Test(io_shard, refuses_random_bytes_and_empty_and_missing_files) {
    char *p = iot_path(iot_dir, "noise.h5");
    iot_random_file(p, 100000);
    assert_shard_refused(p, "not an HDF5 file");
    iot_truncate(p, 0);
    assert_shard_refused(p, "empty file");
    char *q = iot_path(iot_dir, "absent.h5");
    assert_shard_refused(q, "No such file");
    assert_shard_refused(iot_dir, "is a directory");
    free(p);
    free(q);
}

Test(io_shard, refuses_other_kinds) {
    io_vocab v;
    char *p = iot_vocab_file("vocab.h5", &v);
    assert_shard_refused(p, "is a LyricMind vocab file, expected a shard");
    io_vocab_free(&v);
    /* a plain HDF5 file that is not ours */
    char *q = iot_path(iot_dir, "other.h5");
    hid_t f = H5Fcreate(q, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    assert_shard_refused(q, "without a LyricMind 'kind' attribute");
    free(p);
    free(q);
}

Test(io_shard, refuses_corrupt_compressed_chunk) {
    char *p = small_shard("s.h5", 100, NULL);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "tokens", H5P_DEFAULT);
    hsize_t off;
    unsigned mask;
    haddr_t addr;
    hsize_t size;
    hid_t sp = H5Dget_space(d);
    cr_assert_geq(H5Dget_chunk_info(d, sp, 3, &off, &mask, &addr, &size), 0);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    iot_corrupt(p, (long)(addr + size / 2), 4);
    io_shard s;
    lm_err e;
    cr_assert_eq(io_shard_open(&s, p, &e), 0, "metadata intact: %s", e.msg);
    cr_assert_eq(io_shard_validate(&s, &e), -1, "corrupt chunk accepted");
    iot_assert_one_line(&e, p, "cannot read /tokens");
    io_shard_close(&s);
    free(p);
}

Test(io_shard, vocab_hash_mismatch_is_one_line) {
    char *p = small_shard("s.h5", 5, NULL);
    io_shard s;
    lm_err e;
    cr_assert_eq(io_shard_open(&s, p, &e), 0, "%s", e.msg);
    cr_assert_eq(io_shard_check_vocab(&s, HASH, V, "vocab.h5", &e), 0);
    cr_assert_eq(io_shard_check_vocab(&s, HASH ^ 1, V, "vocab.h5", &e), -1);
    iot_assert_one_line(&e, p, "another vocabulary");
    io_shard_close(&s);
    free(p);
}
