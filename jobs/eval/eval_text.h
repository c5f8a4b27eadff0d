/* eval_text: songs as token sequences, seen as words, lines and n-grams, and
 * the surface statistics of a set of songs (docs/evaluation.md).
 *
 * A song is any id sequence as stored or generated (<bos> <genre:..> ...
 * <eos>). Words are the vocabulary words and <unk> (ids >= first_word or
 * <unk>); <nl> ends a line, <sep> ends a line and a stanza; every other
 * special token is ignored. A line is a maximal run of words between breaks
 * (so empty lines do not exist). N-grams (order 1..4) never cross songs and
 * are keyed exactly: ids < 65536 packed 16 bits each into a uint64. */
#ifndef EVAL_TEXT_H
#define EVAL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define EVAL_MAX_ORDER 4

typedef struct eval_doc {
    const int32_t *id;
    size_t n;
} eval_doc;

/* Writes the words of ids[0..n) into out (room for n); returns how many. */
size_t eval_words(const int32_t *ids, size_t n, int32_t first_word, int32_t *out);

/* Keys of the n-grams of order k (1..4) of w[0..n) into out (room for n);
 * returns n - k + 1 (0 when n < k). Every id must be < 65536. */
size_t eval_ngrams(const int32_t *w, size_t n, int k, uint64_t *out);
/* Sorts keys ascending. */
void eval_sort_keys(uint64_t *a, size_t n);
/* Number of distinct values in a sorted array. */
size_t eval_count_unique(const uint64_t *a, size_t n);

typedef struct eval_line {
    size_t first, last;   /* positions in ids of the line's first and last word */
    size_t words;
    int new_stanza;       /* first line of the song or after a <sep> */
} eval_line;
/* Splits ids[0..n) into its lines (room for n in out); returns how many. */
size_t eval_lines(const int32_t *ids, size_t n, int32_t first_word, eval_line *out);

/* Surface statistics of a set of songs. */
typedef struct eval_surface {
    long songs, words, lines;
    double mean_line_words;  /* words / lines (0 if no lines) */
    double mean_song_words;  /* words / songs */
    long ngrams[2], unique[2];
    double distinct[2];      /* distinct-1, distinct-2: unique / total n-grams */
} eval_surface;
/* Returns 0, or -1 on out of memory. */
int eval_surface_of(const eval_doc *docs, size_t n_docs, int32_t first_word, eval_surface *s);

#endif
