/* test_io_vocab: vocab.h5 round-trips UTF-8 tokens exactly and refuses
 * vocabularies that break the id conventions or were tampered with. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "io_test_cr.h"

TestSuite(io_vocab, .init = iot_setup, .fini = iot_teardown);

Test(io_vocab, hash_is_fnv1a_64_of_tokens_with_nul) {
    /* FNV-1a 64 of "a\0" and of "" + "a\0" ordering matters */
    char *a[] = {"a"};
    uint64_t h = 0xcbf29ce484222325ULL;
    h = (h ^ 'a') * 0x100000001b3ULL;
    h = (h ^ 0) * 0x100000001b3ULL;
    cr_assert_eq(io_vocab_hash(a, 1), h);
    char *ab[] = {"a", "b"}, *ba[] = {"b", "a"}, *one[] = {"ab"};
    cr_assert_neq(io_vocab_hash(ab, 2), io_vocab_hash(ba, 2));
    cr_assert_neq(io_vocab_hash(ab, 2), io_vocab_hash(one, 1));
}

Test(io_vocab, round_trip_utf8) {
    io_vocab v, r;
    char *p = iot_vocab_file("vocab.h5", &v);
    lm_err e;
    cr_assert_eq(io_vocab_read(p, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.size, v.size);
    cr_assert_eq(r.hash, v.hash);
    for (uint32_t i = 0; i < v.size; i++) {
        cr_assert_str_eq(r.tokens[i], v.tokens[i]);
        cr_assert_eq(r.counts[i], v.counts[i]);
    }
    cr_assert_eq(r.n_genres, 2);
    cr_assert_str_eq(r.genres[1], "Hip-Hop");
    cr_assert_eq(io_vocab_lookup(&r, "日本語"), 12);
    cr_assert_eq(io_vocab_lookup(&r, "<genre:Rock>"), IO_TOK_FIRST_GENRE);
    cr_assert_eq(io_vocab_lookup(&r, "nope"), -1);
    cr_assert_str_eq(io_vocab_special(IO_TOK_NL), "<nl>");
    io_vocab_free(&r);
    io_vocab_free(&v);
    free(p);
}

static void expect_write_refused(io_vocab *v, const char *what) {
    char *p = iot_path(iot_dir, "bad.h5");
    lm_err e;
    cr_assert_eq(io_vocab_write(p, v, &e), -1);
    cr_assert(strstr(e.msg, what), "%s", e.msg);
    cr_assert(strstr(e.msg, p), "%s", e.msg);
    free(p);
}

Test(io_vocab, write_refuses_broken_conventions) {
    io_vocab v;
    iot_make_vocab(&v);
    char *saved = v.tokens[9];
    v.tokens[9] = "love";
    expect_write_refused(&v, "duplicate token 'love'");
    v.tokens[9] = saved;
    saved = v.tokens[4];
    v.tokens[4] = "\n";
    expect_write_refused(&v, "expected the special '<nl>'");
    v.tokens[4] = saved;
    saved = v.tokens[7];
    v.tokens[7] = "<genre:Rap>";
    expect_write_refused(&v, "expected '<genre:Hip-Hop>'");
    v.tokens[7] = saved;
    io_vocab_free(&v);
}

Test(io_vocab, read_refuses_tampered_token) {
    io_vocab v, r;
    char *p = iot_vocab_file("vocab.h5", &v);
    lm_err e;
    /* rewrite /tokens with one word changed: the stored hash no longer matches */
    free(v.tokens[10]);
    v.tokens[10] = strdup("naive");
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "tokens", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    size_t len = H5Tget_size(t);
    char *buf = calloc(v.size, len);
    for (uint32_t i = 0; i < v.size; i++) memcpy(buf + i * len, v.tokens[i], strlen(v.tokens[i]));
    cr_assert_geq(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
    free(buf);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
    cr_assert_eq(io_vocab_read(p, &r, &e), -1);
    cr_assert(strstr(e.msg, "does not match its tokens"), "%s", e.msg);
    cr_assert_null(r.tokens);
    io_vocab_free(&v);
    free(p);
}

Test(io_vocab, read_refuses_a_shard) {
    char *p = iot_path(iot_dir, "s.h5");
    cr_assert_eq(iot_write_shard(p, 3, 100, 1, 0, NULL), 0);
    io_vocab r;
    lm_err e;
    cr_assert_eq(io_vocab_read(p, &r, &e), -1);
    cr_assert(strstr(e.msg, "is a LyricMind shard file, expected a vocab"), "%s", e.msg);
    free(p);
}

/* Rewrites /counts[i] = c in place and, when v1, makes the file a version-1
 * vocabulary (format_version 1, no counts_checksum) as older builds wrote. */
static void edit_counts(const char *p, uint32_t i, uint64_t c, int v1) {
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "counts", H5P_DEFAULT);
    hid_t fs = H5Dget_space(d);
    hsize_t at = i, one = 1;
    H5Sselect_elements(fs, H5S_SELECT_SET, 1, &at);
    hid_t ms = H5Screate_simple(1, &one, NULL);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_UINT64, ms, fs, H5P_DEFAULT, &c), 0);
    H5Sclose(ms), H5Sclose(fs), H5Dclose(d);
    if (v1) {
        uint64_t one_v = 1;
        cr_assert_geq(H5Adelete(f, "counts_checksum"), 0);
        hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
        cr_assert_geq(H5Awrite(a, H5T_NATIVE_UINT64, &one_v), 0);
        H5Aclose(a);
    }
    H5Fclose(f);
}

Test(io_vocab, writes_version_2_with_a_counts_checksum) {
    io_vocab v, r;
    char *p = iot_vocab_file("vocab.h5", &v);
    lm_err e;
    cr_assert_eq(io_vocab_read(p, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.format_version, 2);
    io_vocab_free(&r);
    edit_counts(p, 9, v.counts[9] + 1, 0);
    cr_assert_eq(io_vocab_read(p, &r, &e), -1);
    cr_assert(strstr(e.msg, "/counts checksum") && strstr(e.msg, p), "%s", e.msg);
    io_vocab_free(&v);
    free(p);
}

Test(io_vocab, reads_version_1_files_without_a_counts_checksum) {
    io_vocab v, r;
    char *p = iot_vocab_file("vocab.h5", &v);
    lm_err e;
    edit_counts(p, 9, 12345, 1);
    cr_assert_eq(io_vocab_read(p, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.format_version, 1);
    cr_assert_eq(r.counts[9], 12345);
    cr_assert_eq(r.hash, v.hash);
    io_vocab_free(&r);
    io_vocab_free(&v);
    free(p);
}

Test(io_vocab, counts_checksum_is_fnv1a_64_of_little_endian_counts) {
    uint64_t c[2] = {1, 0x0102030405060708ULL};
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char le[16] = {1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
    for (int i = 0; i < 16; i++) h = (h ^ le[i]) * 0x100000001b3ULL;
    cr_assert_eq(io_vocab_counts_checksum(c, 2), h);
}

Test(io_vocab, refuses_a_token_that_is_not_utf8) {
    io_vocab v;
    iot_make_vocab(&v);
    char *saved = v.tokens[10];
    v.tokens[10] = "\xc0\xaflove";
    expect_write_refused(&v, "token 10 is not valid UTF-8");
    v.tokens[10] = saved;
    /* the raw bytes of a bad genre label, as older preprocess builds wrote them */
    char *tok = v.tokens[7], *name = v.genres[1];
    v.tokens[7] = "<genre:\xc0\xafPop>";
    v.genres[1] = "\xc0\xafPop";
    expect_write_refused(&v, "token 7 is not valid UTF-8 (a genre name; re-run preprocess)");
    v.tokens[7] = tok, v.genres[1] = name;
    io_vocab_free(&v);
}
