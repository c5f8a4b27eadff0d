/* io_test_util: fixtures for the io tests (see io_test_util.h). */
#include "io_test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

char *iot_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/lm-io-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

char *iot_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

uint16_t iot_token(uint64_t s, uint64_t i, uint32_t V) {
    uint64_t x = (s * 0x9E3779B97F4A7C15ULL) ^ (i * 0xBF58476D1CE4E5B9ULL);
    x ^= x >> 31;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 29;
    /* skewed like word frequencies: small ids are frequent */
    uint64_t r = x % V;
    return (uint16_t)((i & 3) ? r % (V / 8 + 1) : r);
}

size_t iot_song_len(uint64_t s) { return 3 + (size_t)((s * 7919u) % 600u); }

int iot_write_shard(const char *path, uint64_t n_songs, uint32_t V, uint64_t hash,
                    size_t chunk_tokens, uint64_t *n_tokens_out) {
    io_shard_opts o = {chunk_tokens, 0};
    lm_err e;
    io_shard_writer *w = io_shard_writer_open_opts(path, hash, V, &o, &e);
    if (!w) return -1;
    uint16_t *buf = malloc(1024 * sizeof *buf);
    for (uint64_t s = 0; s < n_songs; s++) {
        size_t n = iot_song_len(s);
        for (size_t i = 0; i < n; i++) buf[i] = iot_token(s, i, V);
        if (io_shard_writer_add(w, buf, n, (uint8_t)(s % 2), &e)) {
            free(buf);
            io_shard_writer_abort(w);
            return -1;
        }
    }
    free(buf);
    if (n_tokens_out) *n_tokens_out = io_shard_writer_tokens(w);
    return io_shard_writer_close(w, &e);
}

void iot_make_vocab(io_vocab *v) {
    static const char *words[] = {"<pad>", "<unk>", "<bos>", "<eos>", "<nl>", "<sep>",
                                  "<genre:Rock>", "<genre:Hip-Hop>", "love", "café",
                                  "naïve", "don't", "日本語", "straße", "ñandú", "🎵la"};
    static const char *genres[] = {"Rock", "Hip-Hop"};
    uint32_t n = sizeof words / sizeof words[0];
    memset(v, 0, sizeof *v);
    v->size = n;
    v->tokens = malloc(n * sizeof *v->tokens);
    v->counts = malloc(n * sizeof *v->counts);
    for (uint32_t i = 0; i < n; i++) {
        v->tokens[i] = strdup(words[i]);
        v->counts[i] = 1000 - i;
    }
    v->n_genres = 2;
    v->genres = malloc(2 * sizeof *v->genres);
    for (int g = 0; g < 2; g++) v->genres[g] = strdup(genres[g]);
    v->hash = io_vocab_hash(v->tokens, v->size);
}

void iot_truncate(const char *path, long keep) {
    if (truncate(path, keep) != 0) abort();
}

void iot_corrupt(const char *path, long at, long n) {
    FILE *f = fopen(path, "r+b");
    if (!f) abort();
    for (long i = 0; i < n; i++) {
        fseek(f, at + i, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at + i, SEEK_SET);
        fputc((c ^ 0x5a) & 0xff, f);
    }
    fclose(f);
}

long iot_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

void iot_random_file(const char *path, size_t n) {
    FILE *f = fopen(path, "wb");
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        fputc((int)(x & 0xff), f);
    }
    fclose(f);
}

int iot_system(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- checkpoints ------------------------------------------------------------- */

void iot_fill(float *x, size_t n, uint32_t seed) {
    uint32_t r = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)((int32_t)r) / 2147483648.0f;
    }
}

void iot_ckpt_make(iot_ckpt *c, lm_dims d, uint32_t seed) {
    memset(c, 0, sizeof *c);
    iot_make_vocab(&c->vocab);
    if (lm_model_init(&c->model, d, 0, NULL)) abort();
    size_t n = c->model.n_params;
    c->m = malloc(n * sizeof *c->m);
    c->v = malloc(n * sizeof *c->v);
    iot_fill(c->model.params, n, seed);
    iot_fill(c->m, n, seed + 1);
    iot_fill(c->v, n, seed + 2);
    lm_adam_defaults(&c->adam);
    c->adam.step = 1234 + seed;
    c->epoch = 3;
    c->rng[0] = 0xdeadbeefcafef00dULL;
    c->rng[1] = UINT64_MAX;
    c->rng[2] = 0;
    c->rng[3] = seed;
    c->lr = 0.000123456789;
    c->best = -1.5e-30f;
    c->G = 3;
    c->hc = malloc((size_t)c->G * d.H * sizeof *c->hc);
    iot_fill(c->hc, (size_t)c->G * d.H, seed + 3);
}

void iot_ckpt_free(iot_ckpt *c) {
    lm_model_free(&c->model);
    io_vocab_free(&c->vocab);
    free(c->m);
    free(c->v);
    free(c->hc);
}

int iot_ckpt_save(const char *path, const iot_ckpt *c, int64_t step, lm_err *e) {
    io_array st[] = {
        io_array_scalar("epoch", IO_I64, &c->epoch),
        io_array_1d("rng.train", IO_U64, 4, c->rng),
        io_array_scalar("lr", IO_F64, &c->lr),
        io_array_1d("sched.best", IO_F32, 1, &c->best),
        io_array_2d("carry.h", IO_F32, (uint64_t)c->G, (uint64_t)c->model.d.H, c->hc),
    };
    io_ckpt_save_args a = {
        .model = &c->model, .adam_m = c->m, .adam_v = c->v, .adam = &c->adam,
        .vocab = &c->vocab, .config = "epochs = 5\nlr = 0.001\ngenre = Café\n",
        .step = step, .epoch = c->epoch, .val_loss = 4.25, .state = st,
        .n_state = sizeof st / sizeof st[0],
    };
    return io_ckpt_save(path, &a, e);
}

long iot_dataset_offset(const char *path, const char *name) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, name, H5P_DEFAULT);
    haddr_t a = d < 0 ? HADDR_UNDEF : H5Dget_offset(d);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return a == HADDR_UNDEF ? -1 : (long)a;
}
