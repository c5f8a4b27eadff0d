/* io_fixtures: writes fixture files for the ctest integration tests, with the
 * io library itself (never copies of real lyrics).
 *   io_fixtures shard SHARD TOKENS_TXT   multi-chunk shard + its ids as text
 *                                        (for the h5dump/h5py test)
 *   io_fixtures dir DIR                  files for the inspect tests:
 *     good/{vocab.h5,train-00000.h5,ckpt-000000100.h5,genre-classifier.h5}   valid
 *     mismatch/{vocab.h5,train-00000.h5}   shard built for another vocabulary
 *     badgenre/{vocab.h5,train-00000.h5}   song genre ids beyond the vocab's
 *     bad/{truncated.h5,noise.h5,bitflip.h5,plain.txt}   damaged files
 *     bad/vocab.h5                         one byte of /counts changed
 *     bad/genre-classifier.h5              one byte of /word_counts changed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io_classifier.h"
#include "io_test_util.h"

static int fail(const char *what, const lm_err *e) {
    fprintf(stderr, "io_fixtures: %s: %s\n", what, e ? e->msg : "failed");
    return 1;
}

static int write_shard_tokens(const char *shard, const char *txt) {
    const uint32_t V = 50000;
    const uint64_t songs = 300;
    if (iot_write_shard(shard, songs, V, 42, 8192, NULL)) return fail(shard, NULL);
    FILE *f = fopen(txt, "w");
    if (!f) return fail(txt, NULL);
    for (uint64_t s = 0; s < songs; s++)
        for (size_t i = 0; i < iot_song_len(s); i++) fprintf(f, "%u\n", iot_token(s, i, V));
    return fclose(f) ? fail(txt, NULL) : 0;
}

static char *sub(const char *dir, const char *name) {
    char *p = iot_path(dir, name);
    mkdir(p, 0755);
    return p;
}

/* A 2-genre classifier over v (genre songs 3 and 5, counts i*i/2). */
static int write_classifier(const char *path, const io_vocab *v, lm_err *e) {
    io_classifier c;
    if (io_classifier_alloc(&c, 2, v->size, (int32_t)(IO_TOK_FIRST_GENRE + v->n_genres), v->hash, e)) return -1;
    for (size_t i = 0; i < (size_t)c.G * c.V; i++) c.word_counts[i] = (double)(i * i) / 2;
    c.song_counts[0] = 3, c.song_counts[1] = 5;
    c.corpus_hash = 0x7;
    int rc = io_classifier_save(&c, path, e);
    io_classifier_free(&c);
    return rc;
}

static int write_dir(const char *dir) {
    lm_err e;
    io_vocab v;
    iot_make_vocab(&v);
    mkdir(dir, 0755);
    char *good = sub(dir, "good"), *mis = sub(dir, "mismatch"), *bg = sub(dir, "badgenre"),
         *bad = sub(dir, "bad");
    char p[4200];
    int rc = 0;
    const char *vdirs[] = {good, mis, bg};
    for (int i = 0; i < 3 && !rc; i++) {
        snprintf(p, sizeof p, "%s/vocab.h5", vdirs[i]);
        if (io_vocab_write(p, &v, &e)) rc = fail(p, &e);
    }
    /* shards: genre ids are s % 2, so the 2-genre vocabulary fits them */
    snprintf(p, sizeof p, "%s/train-00000.h5", good);
    if (!rc && iot_write_shard(p, 40, v.size, v.hash, 256, NULL)) rc = fail(p, NULL);
    snprintf(p, sizeof p, "%s/train-00000.h5", mis);
    if (!rc && iot_write_shard(p, 40, v.size, v.hash ^ 1, 256, NULL)) rc = fail(p, NULL);
    snprintf(p, sizeof p, "%s/train-00000.h5", bg);
    io_shard_writer *w = rc ? NULL : io_shard_writer_open(p, v.hash, v.size, &e);
    uint16_t song[] = {IO_TOK_BOS, IO_TOK_FIRST_GENRE, 9, IO_TOK_EOS};
    if (!rc && (!w || io_shard_writer_add(w, song, 4, 7, &e) || io_shard_writer_close(w, &e)))
        rc = fail(p, &e);
    iot_ckpt c;
    iot_ckpt_make(&c, (lm_dims){16, 4, 3}, 1);
    const char *names[] = {"good/ckpt-000000100.h5", "bad/truncated.h5", "bad/bitflip.h5"};
    for (int i = 0; i < 3 && !rc; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (iot_ckpt_save(p, &c, 100, &e)) rc = fail(p, &e);
    }
    iot_ckpt_free(&c);
    if (!rc) {
        snprintf(p, sizeof p, "%s/truncated.h5", bad);
        iot_truncate(p, iot_file_size(p) * 2 / 3);
        snprintf(p, sizeof p, "%s/bitflip.h5", bad);
        iot_corrupt(p, iot_dataset_offset(p, "model/fc.weight") + 6, 1);
        snprintf(p, sizeof p, "%s/vocab.h5", bad);
        if (io_vocab_write(p, &v, &e)) rc = fail(p, &e);
        iot_corrupt(p, iot_dataset_offset(p, "counts") + 8 * 9, 1);
        snprintf(p, sizeof p, "%s/genre-classifier.h5", good);
        if (write_classifier(p, &v, &e)) rc = fail(p, &e);
        snprintf(p, sizeof p, "%s/genre-classifier.h5", bad);
        if (!rc && write_classifier(p, &v, &e)) rc = fail(p, &e);
        if (!rc) iot_corrupt(p, iot_dataset_offset(p, "word_counts") + 8 * 20, 1);
        snprintf(p, sizeof p, "%s/noise.h5", bad);
        iot_random_file(p, 4096);
        snprintf(p, sizeof p, "%s/plain.txt", bad);
        FILE *f = fopen(p, "w");
        fputs("not hdf5\n", f);
        fclose(f);
    }
    io_vocab_free(&v);
    free(good);
    free(mis);
    free(bg);
    free(bad);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "shard")) return write_shard_tokens(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "dir")) return write_dir(argv[2]);
    fprintf(stderr, "usage: io_fixtures shard SHARD TOKENS_TXT | io_fixtures dir DIR\n");
    return 2;
}
