/* io_vocab: vocab.h5 read/write and the vocabulary hash (see io_vocab.h).
 *
 * Invariants checked on both write and read, so a bad vocabulary can neither
 * be written nor loaded: 6 specials at their fixed ids, one "<genre:NAME>"
 * token per genre right after them, no empty or duplicate token, V <= 65536
 * (uint16 ids), and on read the stored hash equals the recomputed one and
 * (format version 2) so does the checksum of /counts.
 * The same layout is stored in a checkpoint's /vocab group (io_vocab_write_loc
 * / io_vocab_read_loc), so generate runs from a checkpoint alone. */
#include "io_vocab.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io_atomic.h"
#include "io_vocab_int.h"

static const char *const SPECIALS[IO_TOK_FIRST_GENRE] = {"<pad>", "<unk>", "<bos>",
                                                         "<eos>", "<nl>",  "<sep>"};

const char *io_vocab_special(int id) {
    return id >= 0 && id < IO_TOK_FIRST_GENRE ? SPECIALS[id] : NULL;
}

uint64_t io_vocab_hash(char *const *tokens, uint32_t n) {
    uint64_t h = LM_SYS_FNV_OFFSET;
    for (uint32_t i = 0; i < n; i++) h = lm_sys_fnv1a64(h, tokens[i], strlen(tokens[i]) + 1);
    return h;
}

uint64_t io_vocab_counts_checksum(const uint64_t *counts, uint32_t n) {
    uint64_t h = LM_SYS_FNV_OFFSET;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = counts ? counts[i] : 0;
        unsigned char le[8];
        for (int b = 0; b < 8; b++) le[b] = (unsigned char)(c >> (8 * b));
        h = lm_sys_fnv1a64(h, le, sizeof le);
    }
    return h;
}

/* 1 if s is well-formed UTF-8 (no overlong form, surrogate or code point
 * above U+10FFFF): every token and genre name is, so it can be printed and
 * used as a JSON key. */
static int utf8_ok(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s++;
        if (c < 0x80) continue;
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
        if (more < 0 || c < 0xC2 || c > 0xF4) return 0;
        uint32_t cp = c & (0x3Fu >> more);
        for (int k = 0; k < more; k++, s++) {
            if ((*s & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (*s & 0x3Fu);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int vocab_check(const io_vocab *v, const char *path, lm_err *e) {
    if (v->size > 65536 || v->size < IO_TOK_FIRST_GENRE + v->n_genres)
        return lm_err_set(e, "%s: vocabulary size %u must be in %u..65536 (6 specials + %u genres)",
                          path, v->size, IO_TOK_FIRST_GENRE + v->n_genres, v->n_genres);
    for (int i = 0; i < IO_TOK_FIRST_GENRE; i++)
        if (strcmp(v->tokens[i], SPECIALS[i]) != 0)
            return lm_err_set(e, "%s: token %d is '%s', expected the special '%s'", path, i,
                              v->tokens[i], SPECIALS[i]);
    for (uint32_t g = 0; g < v->n_genres; g++) {
        const char *t = v->tokens[IO_TOK_FIRST_GENRE + g], *name = v->genres[g];
        size_t n = strlen(name);
        if (!n || strncmp(t, "<genre:", 7) != 0 || strncmp(t + 7, name, n) != 0 ||
            strcmp(t + 7 + n, ">") != 0)
            return lm_err_set(e, "%s: token %u is '%s', expected '<genre:%s>'", path,
                              IO_TOK_FIRST_GENRE + g, t, name);
    }
    for (uint32_t i = 0; i < v->size; i++)
        if (!utf8_ok(v->tokens[i]))
            return lm_err_set(e, "%s: token %u is not valid UTF-8%s", path, i,
                              i >= IO_TOK_FIRST_GENRE && i < IO_TOK_FIRST_GENRE + v->n_genres
                                  ? " (a genre name; re-run preprocess)" : "");
    char **sorted = malloc((v->size ? v->size : 1) * sizeof *sorted);
    if (!sorted) return lm_err_set(e, "%s: out of memory", path);
    memcpy(sorted, v->tokens, v->size * sizeof *sorted);
    qsort(sorted, v->size, sizeof *sorted, cmp_str);
    int rc = 0;
    for (uint32_t i = 0; i < v->size && rc == 0; i++) {
        if (!sorted[i][0]) rc = lm_err_set(e, "%s: empty token in the vocabulary", path);
        else if (i && strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = lm_err_set(e, "%s: duplicate token '%s'", path, sorted[i]);
    }
    free(sorted);
    return rc;
}

int io_vocab_write_loc(hid_t loc, const io_vocab *v, const char *path, lm_err *e) {
    if (vocab_check(v, path, e)) return -1;
    uint64_t n = v->size;
    uint64_t *zeros = v->counts ? NULL : calloc(n, sizeof *zeros);
    if (!v->counts && !zeros) return lm_err_set(e, "%s: out of memory", path);
    int rc = io_h5_write_strings(loc, "tokens", v->tokens, v->size, path, e) ||
             io_h5_write(loc, "counts", IO_H5_U64, 1, &n, v->counts ? v->counts : zeros, path, e) ||
             io_h5_write_strings(loc, "genres", v->genres, v->n_genres, path, e);
    free(zeros);
    if (rc) return -1;
    if (io_h5_attr_put_u64(loc, "format_version", IO_VOCAB_FORMAT_VERSION) ||
        io_h5_attr_put_u64(loc, "vocab_hash", io_vocab_hash(v->tokens, v->size)) ||
        io_h5_attr_put_u64(loc, "counts_checksum", io_vocab_counts_checksum(v->counts, v->size)) ||
        io_h5_attr_put_u64(loc, "vocab_size", v->size) ||
        io_h5_attr_put_u64(loc, "n_genres", v->n_genres) ||
        io_h5_attr_put_u64(loc, "pad_id", IO_TOK_PAD) || io_h5_attr_put_u64(loc, "unk_id", IO_TOK_UNK) ||
        io_h5_attr_put_u64(loc, "bos_id", IO_TOK_BOS) || io_h5_attr_put_u64(loc, "eos_id", IO_TOK_EOS) ||
        io_h5_attr_put_u64(loc, "nl_id", IO_TOK_NL) || io_h5_attr_put_u64(loc, "sep_id", IO_TOK_SEP) ||
        io_h5_attr_put_u64(loc, "first_genre_id", IO_TOK_FIRST_GENRE))
        return io_h5_fail(e, path, "cannot write vocabulary attributes");
    return 0;
}

int io_vocab_write(const char *path, const io_vocab *v, lm_err *e) {
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = -1;
    hid_t f = io_h5_create(path, e);
    if (f >= 0) {
        rc = io_h5_attr_put_str(f, "kind", IO_KIND_VOCAB) ? io_h5_fail(e, path, "cannot write kind")
                                                          : io_vocab_write_loc(f, v, path, e);
        if (H5Fclose(f) < 0 && rc == 0) rc = io_h5_fail(e, path, "cannot close");
        if (rc == 0) rc = io_fsync_path(path, e);
    }
    io_h5_quiet_end(q);
    return rc;
}

void io_vocab_free(io_vocab *v) {
    io_h5_free_strings(v->tokens, v->size);
    io_h5_free_strings(v->genres, v->n_genres);
    free(v->counts);
    memset(v, 0, sizeof *v);
}

/* Version 2: the stored checksum of /counts must match (version 1 has none). */
static int counts_verify(hid_t loc, const io_vocab *v, const char *path, lm_err *e) {
    if (v->format_version < 2) return 0;
    uint64_t stored;
    if (io_h5_attr_get_u64(loc, "counts_checksum", &stored, path, e)) return -1;
    uint64_t got = io_vocab_counts_checksum(v->counts, v->size);
    if (stored != got)
        return lm_err_set(e, "%s: /counts checksum %016" PRIx64 " does not match the stored %016" PRIx64 ": corrupt",
                          path, got, stored);
    return 0;
}

int io_vocab_read_loc(hid_t loc, const char *path, io_vocab *v, lm_err *e) {
    memset(v, 0, sizeof *v);
    uint64_t version, hash, size;
    if (io_h5_attr_get_u64(loc, "format_version", &version, path, e)) return -1;
    if (version < 1 || version > IO_VOCAB_FORMAT_VERSION)
        return lm_err_set(e, "%s: vocabulary format version %" PRIu64 " is not supported (this build reads 1..%d)",
                          path, version, IO_VOCAB_FORMAT_VERSION);
    if (io_h5_attr_get_u64(loc, "vocab_hash", &hash, path, e) ||
        io_h5_attr_get_u64(loc, "vocab_size", &size, path, e))
        return -1;
    size_t n_tok = 0, n_gen = 0;
    if (io_h5_read_strings(loc, "tokens", &v->tokens, &n_tok, path, e)) return -1;
    v->size = (uint32_t)n_tok;
    v->format_version = (uint32_t)version;
    if (io_h5_read_strings(loc, "genres", &v->genres, &n_gen, path, e)) goto fail;
    v->n_genres = (uint32_t)n_gen;
    if (n_tok != size) {
        lm_err_set(e, "%s: /tokens has %zu entries, attribute vocab_size says %" PRIu64, path, n_tok, size);
        goto fail;
    }
    if (vocab_check(v, path, e)) goto fail;
    uint64_t n = n_tok;
    v->counts = malloc((n ? n : 1) * sizeof *v->counts);
    if (!v->counts) {
        lm_err_set(e, "%s: out of memory", path);
        goto fail;
    }
    if (io_h5_read(loc, "counts", IO_H5_U64, 1, &n, v->counts, path, e) || counts_verify(loc, v, path, e))
        goto fail;
    v->hash = io_vocab_hash(v->tokens, v->size);
    if (v->hash != hash) {
        lm_err_set(e, "%s: vocabulary hash %016" PRIx64 " does not match its tokens (%016" PRIx64 "): corrupt",
                   path, hash, v->hash);
        goto fail;
    }
    return 0;
fail:
    io_vocab_free(v);
    return -1;
}

int io_vocab_read(const char *path, io_vocab *v, lm_err *e) {
    memset(v, 0, sizeof *v);
    io_h5_quiet q = io_h5_quiet_begin();
    int rc = -1;
    hid_t f = io_h5_open(path, IO_KIND_VOCAB, NULL, e);
    if (f >= 0) {
        rc = io_vocab_read_loc(f, path, v, e);
        H5Fclose(f);
    }
    io_h5_quiet_end(q);
    return rc;
}

int64_t io_vocab_lookup(const io_vocab *v, const char *word) {
    for (uint32_t i = 0; i < v->size; i++)
        if (strcmp(v->tokens[i], word) == 0) return i;
    return -1;
}
