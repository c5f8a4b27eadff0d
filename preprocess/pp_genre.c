/* pp_genre: built-in genre aliases (see pp_genre.h). */
#include "pp_genre.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct { const char *alias, *canon; } ALIASES[] = {
    {"pop", "Pop"},         {"rock", "Rock"},       {"hip-hop", "Hip-Hop"},
    {"hip-hop/rap", "Hip-Hop"}, {"hip hop", "Hip-Hop"}, {"hiphop", "Hip-Hop"},
    {"rap", "Hip-Hop"},     {"country", "Country"}, {"r&b", "R&B"},
    {"r&b/soul", "R&B"},    {"rnb", "R&B"},         {"soul", "R&B"},
    {"metal", "Metal"},     {"indie", "Indie"},     {"alternative/indie", "Indie"},
    {"alternative", "Indie"}, {"folk", "Folk"},
};

const char *pp_genre_builtin(const char *raw) {
    char buf[128];
    size_t n = 0;
    /* strip whitespace, brackets and quotes around the label */
    const char *s = raw;
    while (*s && (isspace((unsigned char)*s) || *s == '[' || *s == '\'' || *s == '"')) s++;
    const char *end = s + strlen(s);
    while (end > s && (isspace((unsigned char)end[-1]) || end[-1] == ']' || end[-1] == '\'' || end[-1] == '"')) end--;
    n = (size_t)(end - s);
    if (n == 0 || n >= sizeof buf) return NULL;
    memcpy(buf, s, n);
    buf[n] = 0;
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcasecmp(buf, ALIASES[i].alias) == 0) return ALIASES[i].canon;
    return NULL;
}
