/* pp_genre: canonical genre names and the alias table that maps the labels
 * found in real corpora (e.g. "['Hip-Hop/Rap']", "rap") onto them. */
#ifndef PP_GENRE_H
#define PP_GENRE_H

/* Returns the canonical name for a raw label using the built-in aliases
 * (case-insensitive, surrounding "['...']" and whitespace ignored), or NULL
 * if the label is unknown. */
const char *pp_genre_builtin(const char *raw);

#endif
