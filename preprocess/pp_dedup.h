/* pp_dedup: the set of 128-bit song hashes that makes "identical cleaned songs
 * are kept once" cheap and deterministic with many threads.
 *
 * Each hash has two marks. pp_dedup_claim (any thread, any order) tells the
 * one caller that first inserts a hash that it is first: that copy's words are
 * counted for the vocabulary, and since equal hashes mean equal token
 * sequences the counts do not depend on which copy won. pp_dedup_commit,
 * called in input order by one thread, tells whether the hash was already
 * committed: the first copy in input order is kept, the others are
 * duplicates. Thread-safe: 64 stripes, each a mutex and an open-addressing
 * table, so claims from different threads rarely contend. Memory: 17 bytes
 * per slot at a load of 1/4 to 1/2, so 34 to 68 bytes per distinct song. */
#ifndef PP_DEDUP_H
#define PP_DEDUP_H

#include <stdint.h>

#include "pp_hash.h"

typedef struct pp_dedup pp_dedup;

pp_dedup *pp_dedup_new(void);
void pp_dedup_free(pp_dedup *d);
/* 1: h was not in the set (now claimed), 0: already there, -1: out of memory. */
int pp_dedup_claim(pp_dedup *d, pp_h128 h);
/* 1: first commit of h (keep the song), 0: already committed (duplicate),
 * -1: out of memory. A hash never claimed is inserted and committed. */
int pp_dedup_commit(pp_dedup *d, pp_h128 h);
/* Distinct hashes in the set. */
uint64_t pp_dedup_count(pp_dedup *d);

#endif
