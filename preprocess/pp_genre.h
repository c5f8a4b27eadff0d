/* pp_genre: canonical genre names, the built-in alias table that maps the
 * labels found in real corpora (e.g. "['Hip-Hop/Rap']", "rap") onto them, and
 * user alias maps (--genre-map FILE) layered on top.
 *
 * A raw label is compared through its key: surrounding whitespace, brackets
 * and quotes removed, the first element of a Python-list string
 * ("['Pop', 'Rock']" -> "pop"), ASCII lower case. User aliases win over the
 * built-in ones. A genre name is a token suffix ("<genre:NAME>"), so it is
 * 1..64 bytes without '<', '>' or control characters. */
#ifndef PP_GENRE_H
#define PP_GENRE_H

#include <stddef.h>
#include <stdint.h>

#include "io_vocab.h"
#include "lm_err.h"

#define PP_N_CANONICAL 8
#define PP_GENRE_NAME_MAX 64
#define PP_MAX_GENRES IO_VOCAB_MAX_GENRES /* genre ids are one byte in the shards */

/* Canonical genre i (0..PP_N_CANONICAL-1), in the fixed order Pop, Rock,
 * Hip-Hop, Country, R&B, Metal, Indie, Folk. */
const char *pp_genre_canonical(int i);
/* Index of a canonical name (case-insensitive), or -1. */
int pp_genre_canonical_index(const char *name);

/* Writes the label's display form (stripped, case kept) into buf and returns
 * its length; 0 if the label is empty or does not fit in n bytes. */
size_t pp_genre_strip(const char *raw, char *buf, size_t n);
/* As pp_genre_strip, lower-cased: the comparison key of a label. */
size_t pp_genre_key(const char *raw, char *buf, size_t n);
/* 1 if name can be a genre name (see above). */
int pp_genre_name_ok(const char *name);

typedef struct pp_genre_map pp_genre_map;

/* Returns the canonical name for a raw label using the built-in aliases, or
 * NULL if the label is unknown. */
const char *pp_genre_builtin(const char *raw);

pp_genre_map *pp_genre_map_new(void);
void pp_genre_map_free(pp_genre_map *m);
/* Adds alias -> genre (a canonical name is respelled canonically). */
int pp_genre_map_add(pp_genre_map *m, const char *alias, const char *genre, lm_err *e);
/* Loads "alias<TAB>genre" or "alias=genre" lines; blank lines and lines
 * starting with '#' are ignored. Errors name the file and line. */
int pp_genre_map_load(pp_genre_map *m, const char *path, lm_err *e);
/* The genre of a raw label: user aliases, then built-in; NULL if unknown.
 * m may be NULL (built-in only). */
const char *pp_genre_map_lookup(const pp_genre_map *m, const char *raw);

/* The genres of a corpus in order of first appearance, as songs' raw labels
 * are resolved one by one, with a cache of labels already seen. */
#define PP_GENRE_LABEL_CACHE 1024
typedef struct pp_genres {
    int n;
    char name[PP_MAX_GENRES][PP_GENRE_NAME_MAX + 1];
    uint64_t songs[PP_MAX_GENRES]; /* for the caller's counts */
    int n_labels;
    char *label_key[PP_GENRE_LABEL_CACHE];
    int16_t label_gid[PP_GENRE_LABEL_CACHE];
} pp_genres;

/* Genre id of a raw label (NULL or empty: no label). A label that maps to no
 * genre follows `unknown`: "keep" gives it its own genre named after the
 * stripped label ("Unknown" for no label; characters a name cannot hold
 * become '_', cut to 64 bytes at a UTF-8 boundary), "skip" returns -1, any
 * other value is the genre to use. Returns -2 when a new genre would be the
 * 257th. */
int pp_genre_resolve(pp_genres *t, const pp_genre_map *m, const char *unknown, const char *raw);
void pp_genres_free(pp_genres *t);

#endif
