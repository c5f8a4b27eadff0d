/* pp_genre: canonical genres, built-in and user aliases (see pp_genre.h).
 * Invariants: every stored alias is a key (pp_genre_key form) and every
 * stored genre passes pp_genre_name_ok; a pp_genres never holds two names
 * equal but for case. The built-in tables are read-only. */
#include "pp_genre.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const CANONICAL[PP_N_CANONICAL] = {
    "Pop", "Rock", "Hip-Hop", "Country", "R&B", "Metal", "Indie", "Folk",
};

static const struct { const char *alias, *canon; } ALIASES[] = {
    {"pop", "Pop"},         {"rock", "Rock"},       {"hip-hop", "Hip-Hop"},
    {"hip-hop/rap", "Hip-Hop"}, {"hip hop", "Hip-Hop"}, {"hiphop", "Hip-Hop"},
    {"rap", "Hip-Hop"},     {"country", "Country"}, {"r&b", "R&B"},
    {"r&b/soul", "R&B"},    {"rnb", "R&B"},         {"soul", "R&B"},
    {"r and b", "R&B"},     {"rhythm and blues", "R&B"},
    {"metal", "Metal"},     {"heavy metal", "Metal"}, {"indie", "Indie"},
    {"alternative/indie", "Indie"}, {"alternative", "Indie"}, {"indie rock", "Indie"},
    {"folk", "Folk"},
};

const char *pp_genre_canonical(int i) {
    return i >= 0 && i < PP_N_CANONICAL ? CANONICAL[i] : NULL;
}

int pp_genre_canonical_index(const char *name) {
    for (int i = 0; i < PP_N_CANONICAL; i++)
        if (strcasecmp(name, CANONICAL[i]) == 0) return i;
    return -1;
}

static int is_trim(int c) { return isspace(c) || c == '[' || c == ']' || c == '\'' || c == '"'; }

size_t pp_genre_strip(const char *raw, char *buf, size_t n) {
    const char *s = raw;
    int list = 0;
    while (*s && is_trim((unsigned char)*s)) list |= *s++ == '[';
    const char *end = s + strlen(s);
    if (list) { /* "['Pop', 'Rock']": keep the first element */
        const char *comma = strchr(s, ',');
        if (comma) end = comma;
    }
    while (end > s && is_trim((unsigned char)end[-1])) end--;
    size_t len = (size_t)(end - s);
    if (len == 0 || len >= n) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    return len;
}

size_t pp_genre_key(const char *raw, char *buf, size_t n) {
    size_t len = pp_genre_strip(raw, buf, n);
    for (size_t i = 0; i < len; i++) buf[i] = (char)tolower((unsigned char)buf[i]);
    return len;
}

int pp_genre_name_ok(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > PP_GENRE_NAME_MAX) return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>') return 0;
    return 1;
}

const char *pp_genre_builtin(const char *raw) {
    char key[128];
    if (!pp_genre_key(raw, key, sizeof key)) return NULL;
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcmp(key, ALIASES[i].alias) == 0) return ALIASES[i].canon;
    int c = pp_genre_canonical_index(key);
    return c >= 0 ? CANONICAL[c] : NULL;
}

/* ---- user maps ---------------------------------------------------------------- */

struct pp_genre_map {
    char **alias, **genre;
    size_t n, cap;
};

pp_genre_map *pp_genre_map_new(void) { return calloc(1, sizeof(pp_genre_map)); }

void pp_genre_map_free(pp_genre_map *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->alias[i]), free(m->genre[i]);
    free(m->alias);
    free(m->genre);
    free(m);
}

int pp_genre_map_add(pp_genre_map *m, const char *alias, const char *genre, lm_err *e) {
    char key[256], name[256];
    if (!pp_genre_key(alias, key, sizeof key)) return lm_err_set(e, "empty or too long genre alias '%s'", alias);
    if (!pp_genre_strip(genre, name, sizeof name) || !pp_genre_name_ok(name))
        return lm_err_set(e, "bad genre name '%s' (1-%d bytes, no '<', '>' or control characters)",
                          genre, PP_GENRE_NAME_MAX);
    int c = pp_genre_canonical_index(name);
    const char *g = c >= 0 ? CANONICAL[c] : name;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->alias[i], key) == 0) { /* a later line overrides */
            char *dup = strdup(g);
            if (!dup) return lm_err_set(e, "out of memory");
            free(m->genre[i]);
            m->genre[i] = dup;
            return 0;
        }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        char **a = realloc(m->alias, cap * sizeof *a);
        if (!a) return lm_err_set(e, "out of memory");
        m->alias = a;
        char **gg = realloc(m->genre, cap * sizeof *gg);
        if (!gg) return lm_err_set(e, "out of memory");
        m->genre = gg;
        m->cap = cap;
    }
    m->alias[m->n] = strdup(key);
    m->genre[m->n] = strdup(g);
    if (!m->alias[m->n] || !m->genre[m->n]) {
        free(m->alias[m->n]), free(m->genre[m->n]);
        return lm_err_set(e, "out of memory");
    }
    m->n++;
    return 0;
}

int pp_genre_map_load(pp_genre_map *m, const char *path, lm_err *e) {
    FILE *f = fopen(path, "r");
    if (!f) return lm_err_set(e, "%s: cannot open genre map: %s", path, strerror(errno));
    char line[1024];
    int rc = 0;
    for (unsigned long ln = 1; fgets(line, sizeof line, f); ln++) {
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = lm_err_set(e, "%s:%lu: line too long", path, ln);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *sep = strchr(line, '\t');
        if (!sep) sep = strchr(line, '=');
        if (!sep) {
            rc = lm_err_set(e, "%s:%lu: expected 'alias<TAB>genre' or 'alias=genre'", path, ln);
            break;
        }
        *sep = 0;
        if (pp_genre_map_add(m, line, sep + 1, e)) {
            rc = lm_err_prefix(e, "%s:%lu", path, ln);
            break;
        }
    }
    if (!rc && ferror(f)) rc = lm_err_set(e, "%s: read error", path);
    fclose(f);
    return rc;
}

const char *pp_genre_map_lookup(const pp_genre_map *m, const char *raw) {
    if (m && m->n) {
        char key[256];
        if (pp_genre_key(raw, key, sizeof key))
            for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->alias[i], key) == 0) return m->genre[i];
    }
    return pp_genre_builtin(raw);
}

/* ---- a corpus's genres -------------------------------------------------------------- */

static int genre_id(pp_genres *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (strcasecmp(t->name[i], name) == 0) return i;
    if (t->n == PP_MAX_GENRES) return -2;
    snprintf(t->name[t->n], sizeof t->name[0], "%s", name);
    return t->n++;
}

static void label_name(const char *raw, char *name) {
    char buf[4096];
    size_t len = raw ? pp_genre_strip(raw, buf, sizeof buf) : 0;
    if (!len) {
        strcpy(name, "Unknown");
        return;
    }
    if (len > PP_GENRE_NAME_MAX) {
        len = PP_GENRE_NAME_MAX;
        while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80) len--;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        name[i] = (c < 0x20 || c == 0x7f || c == '<' || c == '>') ? '_' : (char)c;
    }
    name[len] = 0;
}

int pp_genre_resolve(pp_genres *t, const pp_genre_map *m, const char *unknown, const char *raw) {
    char key[256];
    if (!raw || !pp_genre_key(raw, key, sizeof key)) key[0] = 0;
    for (int i = 0; i < t->n_labels; i++)
        if (strcmp(t->label_key[i], key) == 0) return t->label_gid[i];
    const char *name = raw ? pp_genre_map_lookup(m, raw) : NULL;
    char own[PP_GENRE_NAME_MAX + 1];
    int gid;
    if (name) gid = genre_id(t, name);
    else if (!strcmp(unknown, "skip")) gid = -1;
    else if (!strcmp(unknown, "keep")) {
        label_name(raw, own);
        gid = genre_id(t, own);
    } else gid = genre_id(t, unknown);
    if (gid >= -1 && t->n_labels < PP_GENRE_LABEL_CACHE && (t->label_key[t->n_labels] = strdup(key)))
        t->label_gid[t->n_labels++] = (int16_t)gid;
    return gid;
}

void pp_genres_free(pp_genres *t) {
    for (int i = 0; i < t->n_labels; i++) free(t->label_key[i]);
    t->n_labels = 0;
}
