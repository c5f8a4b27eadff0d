/* test_io_bitflips: a single flipped bit anywhere in a shard, vocabulary or
 * checkpoint never crashes the reader: the file is either refused with one
 * line naming it, or (a bit in unused bytes) read back identical. The
 * positions are spread evenly over each file, so the run is deterministic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_test_cr.h"

TestSuite(io_bitflips, .init = iot_setup, .fini = iot_teardown);

typedef int (*reader_fn)(const char *path, lm_err *e);

static int read_shard(const char *p, lm_err *e) {
    io_shard s;
    if (io_shard_open(&s, p, e)) return -1;
    uint16_t first = 0;
    int rc = io_shard_validate(&s, e);
    /* an accepted shard must still hold the fixture's tokens and genres */
    if (!rc && s.n_songs != 60) rc = lm_err_set(e, "%s: accepted with %llu songs", p, (unsigned long long)s.n_songs);
    if (!rc && io_shard_read(&s, s.song_offsets[17], 1, &first, e) == 0 &&
        (first != iot_token(17, 0, 16) || s.song_genre[17] != 1))
        rc = lm_err_set(e, "%s: BUG accepted with wrong content", p);
    io_shard_close(&s);
    return rc;
}

static int read_vocab(const char *p, lm_err *e) {
    io_vocab v;
    if (io_vocab_read(p, &v, e)) return -1;
    int ok = v.size == 16 && !strcmp(v.tokens[12], "日本語");
    io_vocab_free(&v);
    return ok ? 0 : lm_err_set(e, "%s: BUG accepted with wrong content", p);
}

static int read_ckpt(const char *p, lm_err *e) { return io_ckpt_validate(p, NULL, e); }

/* The whole file (malloc'd), its size in *size. */
static unsigned char *load_bytes(const char *path, long *size) {
    *size = iot_file_size(path);
    unsigned char *bytes = malloc((size_t)*size);
    FILE *f = fopen(path, "rb");
    cr_assert_eq(fread(bytes, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return bytes;
}

/* iot_dir/ckpt.h5: the V=16 checkpoint fixture (c freed by the caller). */
static char *saved_ckpt(iot_ckpt *c) {
    iot_ckpt_make(c, (lm_dims){16, 4, 3}, 1);
    char *p = iot_path(iot_dir, "ckpt.h5");
    lm_err e;
    cr_assert_eq(iot_ckpt_save(p, c, 1, &e), 0, "%s", e.msg);
    return p;
}

static void flip_everywhere(const char *orig, reader_fn read, int positions) {
    lm_err e;
    cr_assert_eq(read(orig, &e), 0, "fixture invalid: %s", e.msg);
    long size;
    unsigned char *bytes = load_bytes(orig, &size);
    FILE *f;
    char *copy = iot_path(iot_dir, "flipped.h5");
    int refused = 0;
    for (int k = 0; k < positions; k++) {
        long at = (long)((double)size * k / positions);
        bytes[at] ^= (unsigned char)(1 << (k % 8));
        f = fopen(copy, "wb");
        cr_assert_eq(fwrite(bytes, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        bytes[at] ^= (unsigned char)(1 << (k % 8));
        memset(&e, 0, sizeof e);
        if (read(copy, &e) != 0) {
            refused++;
            cr_assert(strstr(e.msg, copy), "byte %ld: error does not name the file: %s", at, e.msg);
            cr_assert(!strchr(e.msg, '\n'), "byte %ld: error is not one line: %s", at, e.msg);
            cr_assert(!strstr(e.msg, "BUG"), "byte %ld: %s", at, e.msg);
        }
    }
    cr_assert_gt(refused, positions / 4, "only %d of %d flips noticed", refused, positions);
    free(bytes);
    free(copy);
}

Test(io_bitflips, shard) {
    char *p = iot_path(iot_dir, "train-00000.h5");
    cr_assert_eq(iot_write_shard(p, 60, 16, 7, 512, NULL), 0);
    flip_everywhere(p, read_shard, 160);
    free(p);
}

Test(io_bitflips, vocab) {
    io_vocab v;
    char *p = iot_vocab_file("vocab.h5", &v);
    flip_everywhere(p, read_vocab, 160);
    io_vocab_free(&v);
    free(p);
}

Test(io_bitflips, checkpoint) {
    iot_ckpt c;
    char *p = saved_ckpt(&c);
    flip_everywhere(p, read_ckpt, 160);
    iot_ckpt_free(&c);
    free(p);
}

Test(io_bitflips, shard_offset_shift_keeping_order_is_caught) {
    char *p = iot_path(iot_dir, "s.h5");
    cr_assert_eq(iot_write_shard(p, 60, 16, 7, 512, NULL), 0);
    long at = iot_dataset_offset(p, "song_offsets");
    cr_assert_geq(at, 0);
    lm_err e;
    cr_assert_eq(read_shard(p, &e), 0, "%s", e.msg);
    /* song 10 starts one token later: offsets stay monotone */
    FILE *f = fopen(p, "r+b");
    fseek(f, at + 8 * 10, SEEK_SET);
    unsigned char b = (unsigned char)fgetc(f);
    fseek(f, at + 8 * 10, SEEK_SET);
    fputc(b + 1, f);
    fclose(f);
    cr_assert_eq(read_shard(p, &e), -1);
    cr_assert(strstr(e.msg, "checksum mismatch"), "%s", e.msg);
    free(p);
}

/* Flips bit k % 8 of every byte of dataset `name` (V=16 counts: 128 bytes)
 * one at a time: each must be refused with a checksum error naming the file. */
static void flip_all_of(const char *orig, const char *name, reader_fn read) {
    long at = iot_dataset_offset(orig, name);
    cr_assert_geq(at, 0, "%s: no contiguous %s", orig, name);
    long size;
    unsigned char *bytes = load_bytes(orig, &size);
    FILE *f;
    char *copy = iot_path(iot_dir, "flipped.h5");
    for (long k = 0; k < 16 * 8; k++) {
        bytes[at + k] ^= (unsigned char)(1 << (k % 8));
        f = fopen(copy, "wb");
        cr_assert_eq(fwrite(bytes, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        bytes[at + k] ^= (unsigned char)(1 << (k % 8));
        lm_err e = {{0}};
        cr_assert_neq(read(copy, &e), 0, "flip in %s byte %ld accepted", name, k);
        cr_assert(strstr(e.msg, copy) && strstr(e.msg, "checksum"), "%s byte %ld: %s", name, k, e.msg);
    }
    free(bytes);
    free(copy);
}

Test(io_bitflips, every_flip_in_vocab_counts_is_caught) {
    io_vocab v;
    char *p = iot_vocab_file("vocab.h5", &v);
    flip_all_of(p, "counts", read_vocab);
    io_vocab_free(&v);
    free(p);
}

Test(io_bitflips, every_flip_in_checkpoint_vocab_counts_is_caught) {
    iot_ckpt c;
    char *p = saved_ckpt(&c);
    flip_all_of(p, "vocab/counts", read_ckpt);
    iot_ckpt_free(&c);
    free(p);
}
