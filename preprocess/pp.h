/* pp: the preprocessing pipeline behind 'lyricmind preprocess' (docs/preprocess.md).
 *
 * pp_run turns raw lyrics files into a corpus directory: vocab.h5,
 * train-NNNNN.h5 / val-NNNNN.h5 token shards and manifest.json. It streams:
 * pass 1 reads (one reader thread), cleans, dedups and counts words (worker
 * threads), appending each kept song as provisional ids to a temporary file in
 * OUT.tmp; the vocabulary is chosen; pass 2 streams that file into shards. The
 * directory is built as OUT.tmp and renamed at the end, so OUT appears
 * complete or not at all; on failure neither OUT nor OUT.tmp is left behind.
 * Outputs depend only on the inputs and settings, never on the number of
 * threads or timing. Memory is bounded by the vocabulary counts, the dedup
 * set (tens of bytes per distinct song) and a few batches of text. */
#ifndef PP_H
#define PP_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"
#include "pp_genre.h"
#include "pp_read.h"

#define PP_CORPUS_FORMAT_VERSION 1
#define PP_MAX_CORPUS_WARNINGS 3

typedef struct pp_options {
    const char *out_dir;
    const char *const *inputs; /* files or directories (walked recursively, sorted) */
    int n_inputs;
    pp_read_opts read;         /* format, field names, boundary, text-file genre */
    const char *genre_map;     /* alias file or NULL */
    const char *unknown_genre; /* "keep" (own genre named after the label), "skip", or a genre name */
    uint32_t vocab_size;       /* V, including specials and <genre:..> tokens */
    const char *vocab_file;    /* use this vocab.h5 instead of choosing one (NULL: choose) */
    uint64_t min_count;        /* words rarer than this become <unk> */
    uint32_t min_words;        /* songs with fewer words are skipped as too short */
    double val_fraction;       /* share of songs in val-*.h5, by hash of the cleaned text */
    uint64_t shard_tokens;     /* a shard is closed before it would pass this */
    int zstd_level;            /* shard compression (zstd level; 0: io's default) */
    int threads;               /* worker threads; <= 0: all online cores */
    uint64_t seed;             /* salts the train/val split */
    int force;                 /* replace an existing corpus directory */
    int max_warnings;          /* per-song warnings reported one by one (then counted) */
    double oov_warn;           /* corpus warning when more word tokens than this share are <unk> */
    /* Per-song warnings (invalid UTF-8), in input order; may be NULL. */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
} pp_options;

/* Defaults: vocab 50000, min-count 2, min-words 5, val 0.05, shard 16 Mi
 * tokens, zstd level 1, all cores, seed 0, unknown genres kept, 20 warnings,
 * OOV warning above 0.2. */
void pp_options_default(pp_options *o);

enum {
    PP_REASON_EMPTY = 0,     /* no tokens after cleaning */
    PP_REASON_BAD_UTF8,      /* invalid UTF-8 in the text */
    PP_REASON_MISSING_TEXT,  /* the record has no text field */
    PP_REASON_TOO_SHORT,     /* fewer than min_words words */
    PP_REASON_UNKNOWN_GENRE, /* --unknown-genre skip and a label not mapped */
    PP_N_REASONS
};
/* "empty", "invalid_utf8", "missing_text", "too_short", "unknown_genre". */
const char *pp_reason_name(int reason);

typedef struct pp_summary {
    uint64_t files, bytes;          /* input files and their bytes on disk */
    uint64_t songs_read, songs_kept, duplicates;
    uint64_t skipped[PP_N_REASONS];
    uint64_t train_songs, val_songs, train_tokens, val_tokens; /* tokens incl. <bos> <genre> <eos> */
    uint32_t train_shards, val_shards;
    uint32_t vocab_size;            /* V actually written (<= requested when words run out) */
    uint64_t vocab_hash;
    uint64_t word_types;            /* distinct words in kept songs */
    uint64_t word_tokens, oov_tokens; /* word tokens in kept songs; those mapped to <unk> */
    double oov_rate;                /* oov_tokens / word_tokens */
    uint32_t n_genres;
    char genres[PP_MAX_GENRES][PP_GENRE_NAME_MAX + 1];
    uint64_t genre_songs[PP_MAX_GENRES];
    int threads;
    double wall_s, pass1_s, vocab_s, pass2_s, bytes_per_s;
    /* Corpus warnings (pp_summary_warn): a corpus train would refuse or learn
     * little from; each a line saying what to change. */
    int n_warnings;
    char warnings[PP_MAX_CORPUS_WARNINGS][512];
} pp_summary;

/* Fills s->warnings: no training songs, no validation songs, more than
 * o->oov_warn of the word tokens <unk>. pp_run calls it before the manifest,
 * which records them ("warnings"), as does pp_summary_json. */
void pp_summary_warn(const pp_options *o, pp_summary *s);

/* Runs the whole pipeline. Returns 0 with *s filled, or -1 with one line in e
 * naming the file (and line where it applies) and the problem. */
int pp_run(const pp_options *o, pp_summary *s, lm_err *e);

/* The files pp_run would read for these INPUT arguments, in its order
 * (directories walked recursively, sorted). Free with pp_list_free. */
int pp_list_inputs(const char *const *paths, int n, char ***files, size_t *nfiles, lm_err *e);
void pp_list_free(char **files, size_t n);

/* The summary as one JSON object (malloc'd string, no newline); timings and
 * threads are included only when with_timing is set, so that the manifest's
 * copy is the same for every run of the same inputs. NULL if out of memory. */
char *pp_summary_json(const pp_summary *s, int with_timing);

#endif
