/* test_io_json: reals are the shortest decimal that reads back to the same
 * float32 (null when not finite), strings survive bad UTF-8, a line is one
 * compact object with integers and booleans as such. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_json.h"

/* v dumped alone (JSON_ENCODE_ANY) into buf. */
static void dump_real(double v, char *buf, size_t n) {
    json_t *j = io_json_real(v);
    char *s = json_dumps(j, JSON_ENCODE_ANY | IO_JSON_PRECISION);
    cr_assert(s);
    snprintf(buf, n, "%s", s);
    free(s);
    json_decref(j);
}

Test(io_json, reals_are_shortest_float_decimals) {
    static const struct { double v; const char *want; } cases[] = {
        {0.001f, "0.001"}, {0.3f, "0.3"}, {0.3, "0.3"}, {6.1674027f, "6.1674027"}, {0.0, "0.0"},
        {1.0 / 3.0, "0.33333334"}, {53937.0, "53937.0"}, {1e-5f, "1e-5"}, {-2.5f, "-2.5"},
        {16777217.0, "16777216.0"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char got[64];
        dump_real(cases[i].v, got, sizeof got);
        cr_expect_str_eq(got, cases[i].want, "%.17g printed as %s, want %s", cases[i].v, got, cases[i].want);
    }
}

/* Significant digits of a decimal (leading and trailing zeros not counted). */
static int sig_digits(const char *s) {
    char m[64];
    int n = 0;
    for (const char *p = s; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && (n || *p != '0')) m[n++] = *p;
    while (n > 0 && m[n - 1] == '0') n--;
    return n;
}

Test(io_json, every_float_reads_back_bit_for_bit) {
    unsigned seed = 12345;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned bits = seed ^ (seed >> 7) << 13;
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f) || f == 0) continue;
        char got[64];
        dump_real(f, got, sizeof got);
        cr_assert_eq(strtof(got, NULL), f, "%.9g printed as %s", (double)f, got);
        cr_assert_gt(sig_digits(got), 0);
        char shorter[400]; /* and one digit fewer would not do */
        int d = sig_digits(got);
        snprintf(shorter, sizeof shorter, "%.*g", d - 1, (double)f);
        if (d > 1) cr_assert_neq(strtof(shorter, NULL), f, "%s is shorter than %s", shorter, got);
    }
}

Test(io_json, non_finite_reals_are_null) {
    json_t *a = io_json_real(NAN), *b = io_json_real(INFINITY);
    cr_assert(json_is_null(a) && json_is_null(b));
    json_decref(a);
    json_decref(b);
}

Test(io_json, strings_survive_bad_utf8) {
    json_t *j = io_json_str("caf\xc3\xa9 \xff end");
    cr_assert(j);
    cr_assert_str_eq(json_string_value(j), "caf\xc3\xa9 \xef\xbf\xbd end");
    json_decref(j);
    j = io_json_str(NULL);
    cr_assert(json_is_null(j));
    json_decref(j);
}

Test(io_json, write_line_is_one_compact_object) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    cr_assert(f);
    cr_assert_eq(io_json_write_line(f, json_pack("{s:I, s:b, s:o}", "targets", (json_int_t)53937,
                                                 "optimizer_state", 1, "lr", io_json_real(0.001f))), 0);
    cr_assert_eq(io_json_write_line(f, NULL), -1);
    fclose(f);
    cr_assert_str_eq(buf, "{\"targets\":53937,\"optimizer_state\":true,\"lr\":0.001}\n");
    free(buf);
}
