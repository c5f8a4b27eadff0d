/* gen_lyrics: what `generate` and `eval` share (docs/generation.md).
 *
 * - gen_model: a checkpoint loaded for inference: /model only (no optimizer
 *   state), plus the vocabulary and settings kept by io_ckpt.
 * - Prompts go through exactly preprocess's cleaner and tokenizer
 *   (pp_clean_song); words outside the vocabulary become <unk>.
 * - gen_ctx: ONE LSTM state (h, c [H]) and ONE logits row [V] plus the
 *   sampler's scratch; a song is primed on <bos> <genre:NAME> prompt..., then
 *   sampled token by token until <eos>, a word limit or a token limit.
 * - Sampling never proposes <pad>, <bos>, a genre token or <unk> (their
 *   logits are set to -inf before the sampler); the log-probabilities
 *   reported are nevertheless those of the model's own softmax at
 *   temperature 1 over the whole vocabulary.
 * - Rendering: words separated by spaces, <nl> a line break, <sep> a blank
 *   line, leading/trailing/repeated breaks collapsed, no special token shown.
 * Invariant: a song depends only on the model, the prefix, the sampler
 * settings and the rng state it is given (same seed, same song). */
#ifndef GEN_LYRICS_H
#define GEN_LYRICS_H

#include <stddef.h>
#include <stdint.h>

#include "io_ckpt.h"
#include "io_vocab.h"
#include "lm_err.h"
#include "lm_model.h"
#include "lm_rng.h"
#include "lm_sample.h"

typedef struct gen_model {
    io_ckpt ck;          /* vocabulary and config; /optim is never read */
    lm_model m;          /* inference only (no gradient buffer) */
    const io_vocab *v;   /* &ck.vocab */
    int32_t first_word;  /* IO_TOK_FIRST_GENRE + genres: ids >= it are words */
} gen_model;

int gen_model_open(gen_model *g, const char *path, lm_err *e);
void gen_model_close(gen_model *g);
/* Bytes of the parameters (n_params floats). */
size_t gen_model_bytes(const gen_model *g);

/* A word is a vocabulary word or <unk> (the place of one). */
static inline int gen_is_word(int32_t first_word, int32_t id) {
    return id >= first_word || id == IO_TOK_UNK;
}

/* Genre index of name: a genre of the vocabulary compared case-insensitively,
 * else preprocess's built-in alias ("rap" -> Hip-Hop) if that genre is in the
 * vocabulary; -1 if none. */
int gen_genre_find(const io_vocab *v, const char *name);
/* "Pop, Rock, ..." (the vocabulary's genres in id order) into buf. */
void gen_genre_list(const io_vocab *v, char *buf, size_t n);

/* A growable token sequence with a log-probability per token. */
typedef struct gen_seq {
    int32_t *id;
    float *lp; /* lp[i] = log p(id[i] | id[0..i)); lp[0] = 0 */
    size_t n, cap;
} gen_seq;
int gen_seq_push(gen_seq *s, int32_t id, float lp);
void gen_seq_free(gen_seq *s);

/* A cleaned prompt: ids plus, per id, the cleaned spelling (so that an
 * unknown word is shown as written, although the model sees <unk>). */
typedef struct gen_prompt {
    gen_seq ids;
    char **spell;      /* [ids.n]: owned strings */
    char **unknown;    /* distinct words that became <unk>, in order */
    size_t n_unknown;
} gen_prompt;
/* Cleans and tokenizes text like preprocess. If the text ends with a line
 * break (after trailing blanks), an <nl> is appended so the continuation
 * starts a new line. Fails (-1) on invalid UTF-8 (with the byte offset). */
int gen_prompt_parse(gen_prompt *p, const io_vocab *v, const char *text, lm_err *e);
void gen_prompt_free(gen_prompt *p);

/* The sampler's flags, shared by generate and eval (cli.h rows for an
 * lm_sampler lvalue s). */
#define GEN_SAMPLER_FLAGS(s)                                                                              \
    {"temperature", CLI_FLOAT, &(s).temperature, "T", "softmax temperature (0 = greedy)", 0, 100, 0},    \
    {"top-k", CLI_INT, &(s).top_k, "K", "sample among the K most likely tokens (0 = all, 1 = greedy)", 0, \
     1 << 24, 0},                                                                                         \
    {"top-p", CLI_FLOAT, &(s).top_p, "P", "nucleus: smallest set of likeliest tokens with this mass (1 = all)", \
     0, 1, 0}

/* One state, one logits row, scratch. */
typedef struct gen_ctx {
    const gen_model *g;
    lm_sampler s;
    float *h, *c, *logits, *step, *samp, *tmp;
} gen_ctx;
int gen_ctx_init(gen_ctx *x, const gen_model *g, lm_sampler s, lm_err *e);
void gen_ctx_free(gen_ctx *x);

/* Zero state, then feeds prefix[0..n) (n >= 1), pushing each id onto out
 * with its log-probability. Afterwards x->logits predict the next token. */
int gen_prime(gen_ctx *x, const int32_t *prefix, size_t n, gen_seq *out, lm_err *e);
/* After gen_prime([<bos>]): draws a genre among the genre tokens only, from
 * the model's logits with the ctx sampler. Returns the genre index. */
int gen_draw_genre(gen_ctx *x, lm_rng *rng);

typedef struct gen_limits {
    long max_words;  /* stop after this many generated words (>= 1) */
    long max_tokens; /* and after this many generated tokens (<= 0: 2*max_words+32) */
} gen_limits;
typedef enum { GEN_END_EOS = 0, GEN_END_WORDS, GEN_END_TOKENS } gen_end;
const char *gen_end_name(gen_end end); /* "eos", "max-words", "max-tokens" */

/* Samples after gen_prime until <eos> (pushed too) or a limit; appends to
 * out. Writes the generated word count and why it stopped. */
int gen_continue(gen_ctx *x, lm_rng *rng, const gen_limits *lim, gen_seq *out, long *words,
                 gen_end *end, lm_err *e);

/* A growable string. */
typedef struct gen_text {
    char *s;
    size_t n, cap;
} gen_text;
int gen_text_add(gen_text *t, const char *s, size_t n);
void gen_text_free(gen_text *t);
/* Renders ids[0..n) as lyrics onto t (ending with one '\n' if anything was
 * written). spell (may be NULL) gives, for i < n_spell, the spelling of
 * ids[i] (a prompt's cleaned words). */
int gen_render(const io_vocab *v, const int32_t *ids, size_t n, char *const *spell, size_t n_spell,
               gen_text *t);

#endif
