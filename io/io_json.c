/* io_json: shortest float reals, safe strings, one-line dumps (see io_json.h). */
#include "io_json.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The double nearest the shortest decimal that strtof reads back as (float)v.
 * Dumped with 9 digits it prints as that decimal, trailing zeros dropped by %g. */
static double shortest_f32(double v) {
    float f = (float)v;
    char buf[32];
    for (int p = 1; p < 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f) return strtod(buf, NULL);
    }
    return (double)f;
}

json_t *io_json_real(double v) {
    if (!isfinite(v)) return json_null();
    if (fabs(v) > FLT_MAX) return json_real(v);
    return json_real(shortest_f32(v));
}

/* Length of the valid UTF-8 sequence at p (0 if none). */
static size_t utf8_len(const unsigned char *p) {
    size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
             : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

json_t *io_json_str(const char *s) {
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *t = malloc(3 * n + 1), *q = t;
    if (!t) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = utf8_len(p);
        if (k) memcpy(q, p, k), q += k, p += k;
        else memcpy(q, "\xEF\xBF\xBD", 3), q += 3, p++;
    }
    *q = 0;
    j = json_string(t); /* overlong or surrogate forms jansson still refuses: plain ASCII then */
    for (char *c = t; !j && *c; c++)
        if ((unsigned char)*c >= 0x80) *c = '?';
    if (!j) j = json_string(t);
    free(t);
    return j;
}

char *io_json_dumps(const json_t *o) { return o ? json_dumps(o, IO_JSON_FLAGS) : NULL; }

int io_json_write_line(FILE *f, json_t *o) {
    char *s = io_json_dumps(o);
    json_decref(o);
    if (!s) return -1;
    int bad = fputs(s, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0;
    free(s);
    return bad ? -1 : 0;
}
