/* eval_rhyme: do the last words of consecutive lines rhyme?
 * (docs/evaluation.md, "Rhyme consistency")
 *
 * Two words rhyme when their pronunciations agree from the last stressed
 * vowel to the end ("night"/"light": AY T). Pronunciations come from the CMU
 * Pronouncing Dictionary as Debian's pocketsphinx-en-us ships it
 * (EVAL_RHYME_DICT); a word with several pronunciations rhymes if any pair
 * agrees. That file carries no stress marks, so the stressed vowel is
 * approximated: the last vowel, or the one before it when the last is weak
 * (and there is one before): a final IY ("baby"), an ER ("water"), an AH
 * followed only by L, M, N, S, Z, T, D or R ("table", "button"), or an IH
 * followed by exactly one of NG, Z, D, K ("singing", "roses").
 * Fallback, when either word is missing from the dictionary: both are
 * compared by spelling, from the last group of vowel letters (a e i o u, y
 * after the first letter) to the end, after dropping a final silent e that
 * follows a consonant ("nite" -> "it", "light" -> "ight").
 * <unk> has no spelling: a pair with an <unk> line end is not judged. */
#ifndef EVAL_RHYME_H
#define EVAL_RHYME_H

#include <stddef.h>
#include <stdint.h>

#include "lm_err.h"

#define EVAL_RHYME_DICT "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

/* The rhyme part of a space-separated ARPAbet pronunciation, e.g.
 * "AH B AH V" -> "AH V", "W AO T ER" -> "AO T ER", into out (size n). */
void eval_rhyme_part(const char *phones, char *out, size_t n);
/* The spelling fallback key of a word, e.g. "nite" -> "it". */
void eval_rhyme_spelling(const char *word, char *out, size_t n);

typedef struct eval_rhymer eval_rhymer;
/* Loads the dictionary entries of words[0..n_words) (the vocabulary: id ->
 * word; entries that are not words, e.g. "<nl>", simply find nothing). */
eval_rhymer *eval_rhymer_open(const char *dict_path, char *const *words, uint32_t n_words,
                              lm_err *e);
void eval_rhymer_free(eval_rhymer *r);
/* Words of the vocabulary that have a pronunciation. */
uint32_t eval_rhymer_known(const eval_rhymer *r);
/* 1 if words a and b rhyme, else 0; *by_spelling (may be NULL) tells
 * whether the fallback decided. Ids must be < n_words. */
int eval_rhymer_rhymes(const eval_rhymer *r, int32_t a, int32_t b, int *by_spelling);

typedef struct eval_rhyme_stats {
    long pairs;     /* consecutive line pairs within a stanza that were judged */
    long rhymes;    /* of which the last words rhyme (identical words included) */
    long identical; /* of which the last words are the same word */
    long spelled;   /* of which the spelling fallback judged */
    long unjudged;  /* pairs left out because a line ends in <unk> */
} eval_rhyme_stats;
/* Adds the line pairs of one song (token ids, see eval_text.h) to st. */
int eval_rhyme_song(const eval_rhymer *r, const int32_t *ids, size_t n, int32_t first_word,
                    eval_rhyme_stats *st);

#endif
