/* io_vocab: the vocabulary file vocab.h5, see docs/formats.md.
 * /tokens: UTF-8 strings [V] (id = index; fixed-length, NUL-padded, deflated),
 * /counts uint64 [V], /genres: strings [G] (same type; genre g has the token
 * "<genre:NAME>" in /tokens);
 * attributes format_version, vocab_hash, counts_checksum, and the ids of the
 * specials. Format version 2 adds counts_checksum (version 1 files, whose
 * /counts no checksum covers, are still read; docs/formats.md says why).
 * Specials come first with fixed ids: <pad>=0 <unk>=1 <bos>=2 <eos>=3 <nl>=4
 * <sep>=5, then one <genre:NAME> per genre, then words by descending count
 * (ties by byte order of the word). */
#ifndef IO_VOCAB_H
#define IO_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"

#define IO_VOCAB_FORMAT_VERSION 2 /* written; 1 and 2 are read */
/* The most genres a corpus's vocabulary can have: a shard stores each song's
 * genre id in one byte (io_shard.h, /song_genre). preprocess makes at most
 * this many, generate refuses a vocabulary with more. */
#define IO_VOCAB_MAX_GENRES 256
enum { IO_TOK_PAD = 0, IO_TOK_UNK = 1, IO_TOK_BOS = 2, IO_TOK_EOS = 3,
       IO_TOK_NL = 4, IO_TOK_SEP = 5, IO_TOK_FIRST_GENRE = 6 };

typedef struct io_vocab {
    uint32_t size;      /* V */
    char **tokens;      /* V NUL-terminated UTF-8 strings */
    uint64_t *counts;   /* V */
    uint32_t n_genres;
    char **genres;      /* n_genres canonical names; token id = IO_TOK_FIRST_GENRE + g */
    uint64_t hash;      /* io_vocab_hash of tokens */
    uint32_t format_version; /* as read: 1 means /counts was not checksummed */
} io_vocab;

/* Name of special id (0..5), e.g. "<nl>"; NULL otherwise. */
const char *io_vocab_special(int id);
/* FNV-1a 64 over every token followed by a 0 byte, in id order. */
uint64_t io_vocab_hash(char *const *tokens, uint32_t n);
/* FNV-1a 64 over the n counts as 8-byte little-endian integers, in id
 * order (counts NULL: n zeros): attribute counts_checksum of version 2. */
uint64_t io_vocab_counts_checksum(const uint64_t *counts, uint32_t n);
/* Writes path (exact path, not atomic: preprocess renames its whole output
 * directory). Checks the invariants above first; stores the hash computed
 * from tokens (v->hash is ignored). counts may be NULL (stored as zeros). */
int io_vocab_write(const char *path, const io_vocab *v, lm_err *e);
/* Reads and fully validates (invariants, stored hash == recomputed hash,
 * and for version 2 the stored counts_checksum == the recomputed one). */
int io_vocab_read(const char *path, io_vocab *v, lm_err *e);
void io_vocab_free(io_vocab *v);
/* Token id of a word, or -1. Linear scan is fine for callers that build their
 * own hash table; io_vocab_lookup is for small use (prompts, genres). */
int64_t io_vocab_lookup(const io_vocab *v, const char *word);

#endif
