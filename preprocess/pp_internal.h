/* pp_internal: what the pipeline's .c files (pp_run, pp_pass1, pp_pass2,
 * pp_inputs, pp_outdir, pp_manifest) share. Not a public contract. */
#ifndef PP_INTERNAL_H
#define PP_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "pp.h"
#include "pp_clean.h"
#include "pp_vocab.h"

/* One input file after directory expansion. */
typedef struct pp_input {
    char *path;
    uint64_t bytes;
    uint64_t xxh64; /* of the file's bytes as stored (compressed for .zst) */
} pp_input;

typedef struct pp_inputs {
    pp_input *v;
    size_t n, cap;
} pp_inputs;

/* pp_inputs.c: expands files and directories (recursively, sorted by name;
 * in directories only files with a known extension, no dot files). Each path
 * must exist and be readable. */
int pp_inputs_expand(const char *const *paths, int n, pp_inputs *out, lm_err *e);
void pp_inputs_free(pp_inputs *in);
/* Fills every input's xxh64 by reading it once; stops early (returning 0)
 * once *cancel becomes non-zero. */
int pp_inputs_checksum(pp_inputs *in, const int *cancel, lm_err *e);

/* pp_outdir.c: OUT.tmp lifecycle. */
int pp_outdir_begin(const char *out, int force, char *tmp, size_t tmpn, lm_err *e);
int pp_outdir_commit(const char *tmp, const char *out, lm_err *e);
/* Removes the files the pipeline writes (and only those) and the directory. */
int pp_outdir_remove(const char *dir, lm_err *e);
/* 1 if name is a file the pipeline writes into a corpus directory. */
int pp_outdir_is_ours(const char *name);

/* The pass-1 files in OUT.tmp, one per split (0 train, 1 val). */
#define PP_PASS1_TRAIN "train.pass1"
#define PP_PASS1_VAL "val.pass1"

/* One kept song in a pass-1 file, followed by nunits uint16 that encode its
 * ntok provisional ids: 0 = <nl>, 1 = <sep>, 2 + i = word i of dict `owner`.
 * An id below 0xFFFF is one unit; a larger one is 0xFFFF and then its low
 * and high 16 bits. Ids are numbered in first-seen order, so nearly every
 * token is one unit: the file is half the size of plain uint32 ids. */
typedef struct pp_rec_hdr {
    uint32_t ntok, nunits;
    uint8_t genre, owner, pad[2];
} pp_rec_hdr;

#define PP_UNIT_ESCAPE 0xFFFFu

/* Appends id to units (room for 3 units needed); returns units used. */
static inline int pp_unit_put(uint16_t *u, uint32_t id) {
    if (id < PP_UNIT_ESCAPE) {
        u[0] = (uint16_t)id;
        return 1;
    }
    u[0] = PP_UNIT_ESCAPE;
    u[1] = (uint16_t)id;
    u[2] = (uint16_t)(id >> 16);
    return 3;
}

/* A shard as planned by pass 1: the byte range of its songs in its split's
 * pass-1 file, and its totals (tokens include <bos> <genre> <eos>). */
typedef struct pp_shard_plan {
    uint64_t start, end, tokens, songs;
} pp_shard_plan;

enum { PP_LOCAL_NL = 0, PP_LOCAL_SEP = 1, PP_LOCAL_WORD0 = 2 };

/* pp_encode.c: a cleaned song's tokens as pass-1 units, words interned in
 * d with inc added to their counts. units needs room for 3 * w->n. Returns
 * the units written (and the <nl>/<sep> counts), -1 when out of memory. */
int64_t pp_encode_words(pp_dict *d, const pp_words *w, uint64_t inc, uint16_t *units,
                        uint32_t *n_nl, uint32_t *n_sep);

/* What pass 1 hands to the vocabulary and pass 2. */
typedef struct pp_pass1 {
    int n_dicts;
    pp_dict *dicts;          /* one per worker */
    pp_genres genres;        /* provisional ids; songs = kept songs */
    uint64_t nl_count, sep_count;
    pp_shard_plan *plan[2]; /* per split: shards in order */
    uint32_t nplan[2], plancap[2];
} pp_pass1;

/* Pass 1: writes OUT.tmp/train.pass1 and val.pass1 and plans the shards. */
int pp_pass1_run(const pp_options *o, const pp_inputs *in, const pp_genre_map *gm,
                 const char *tmpdir, int threads, pp_pass1 *p1, pp_summary *s, lm_err *e);
void pp_pass1_free(pp_pass1 *p1);

/* pp_pass2.c: builds the vocabulary (writes vocab.h5, fills the summary's
 * vocabulary fields and final genres) and writes the planned shards, several
 * at once (one per thread). The shard lists are kept for the manifest. */
typedef struct pp_shard_info {
    char name[32];
    uint64_t tokens, songs;
} pp_shard_info;

typedef struct pp_shards {
    pp_shard_info *train, *val;
    uint32_t n_train, n_val;
} pp_shards;

int pp_pass2_run(const pp_options *o, const char *tmpdir, int threads, pp_pass1 *p1,
                 pp_shards *sh, pp_summary *s, lm_err *e);
void pp_shards_free(pp_shards *sh);

/* pp_manifest.c */
int pp_manifest_write(const char *path, const pp_options *o, const pp_inputs *in,
                      const pp_shards *sh, const pp_summary *s, lm_err *e);

#endif
