/* io_test_util: fixtures for the io tests (see io_test_util.h). */
#include "io_test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
        if (io_shard_writer_add(w, buf, n, (uint8_t)(s % 5), &e)) {
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
