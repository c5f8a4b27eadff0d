/* cli: strict flag parsing and --help rendering for lyricmind subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

cli_opt *cli_find(cli_cmd *cmd, const char *name) {
    for (cli_opt *o = cmd->opts; o && o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

static int reads_back(const char *s, double v, int is_float) {
    return is_float ? strtof(s, NULL) == (float)v : strtod(s, NULL) == v;
}

/* Shortest %.Ng (N = 1..max_digits) that reads back to v; when that is in
 * exponent form and the plain form is no longer, the plain one ("10", not
 * "1e+01"). */
static void shortest(char *buf, size_t n, double v, int is_float) {
    int max_digits = is_float ? 9 : 17, d = 1;
    for (; d <= max_digits; d++) {
        snprintf(buf, n, "%.*g", d, v);
        if (reads_back(buf, v, is_float)) break;
    }
    int ex = v != 0 && isfinite(v) ? (int)floor(log10(fabs(v))) : 0;
    if (strchr(buf, 'e') && ex >= 0 && ex < max_digits) {
        char plain[64];
        snprintf(plain, sizeof plain, "%.*g", ex + 1 > d ? ex + 1 : d, v);
        if (!strchr(plain, 'e') && strlen(plain) <= strlen(buf) && reads_back(plain, v, is_float))
            snprintf(buf, n, "%s", plain);
    }
}

void cli_format_value(const cli_opt *o, char *buf, size_t n) {
    switch (o->type) {
    case CLI_INT: snprintf(buf, n, "%d", *(int *)o->dest); break;
    case CLI_LONG: snprintf(buf, n, "%ld", *(long *)o->dest); break;
    case CLI_FLOAT: shortest(buf, n, *(float *)o->dest, 1); break;
    case CLI_DOUBLE: shortest(buf, n, *(double *)o->dest, 0); break;
    case CLI_STR: snprintf(buf, n, "%s", *(const char **)o->dest ? *(const char **)o->dest : ""); break;
    case CLI_BOOL: snprintf(buf, n, "%s", *(int *)o->dest ? "true" : "false"); break;
    }
}

/* v as the flag's type prints it: integers whole, reals as %g ("10",
 * "1e-09") when that reads back, else the shortest round trip. */
static void range_value(char *buf, size_t n, const cli_opt *o, double v) {
    int is_float = o->type == CLI_FLOAT;
    if (o->type == CLI_INT || o->type == CLI_LONG) snprintf(buf, n, "%.0f", v);
    else if (snprintf(buf, n, "%g", v), is_float ? strtof(buf, NULL) != (float)v : strtod(buf, NULL) != v)
        shortest(buf, n, v, is_float);
}

static int check_range(const cli_opt *o, double v, char *err, size_t n) {
    if (o->min < o->max && (v < o->min || v > o->max)) {
        char lo[32], hi[32], got[32];
        range_value(lo, sizeof lo, o, o->min);
        range_value(hi, sizeof hi, o, o->max);
        range_value(got, sizeof got, o, v);
        snprintf(err, n, "--%s must be between %s and %s, got %s", o->name, lo, hi, got);
        return -1;
    }
    return 0;
}

int cli_set(cli_cmd *cmd, const char *name, const char *value, char *err, size_t n) {
    cli_opt *o = cli_find(cmd, name);
    if (!o) {
        snprintf(err, n, "unknown flag --%s (see 'lyricmind %s --help')", name, cmd->name);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case CLI_INT:
    case CLI_LONG: {
        long long v = strtoll(value, &end, 10);
        if (!*value || *end || errno || (o->type == CLI_INT && (v < -2147483647LL || v > 2147483647LL))) {
            snprintf(err, n, "--%s expects an integer, got '%s'", o->name, value);
            return -1;
        }
        if (check_range(o, (double)v, err, n)) return -1;
        if (o->type == CLI_INT) *(int *)o->dest = (int)v;
        else *(long *)o->dest = (long)v;
        break;
    }
    case CLI_FLOAT:
    case CLI_DOUBLE: {
        double v = strtod(value, &end);
        if (!*value || *end || errno || !isfinite(v)) {
            snprintf(err, n, "--%s expects a number, got '%s'", o->name, value);
            return -1;
        }
        if (check_range(o, v, err, n)) return -1;
        if (o->type == CLI_FLOAT) *(float *)o->dest = (float)v;
        else *(double *)o->dest = v;
        break;
    }
    case CLI_STR:
        *(const char **)o->dest = value;
        break;
    case CLI_BOOL:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on"))
            *(int *)o->dest = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off"))
            *(int *)o->dest = 0;
        else {
            snprintf(err, n, "--%s expects true or false, got '%s'", o->name, value);
            return -1;
        }
        break;
    }
    o->seen = CLI_SEEN_FLAG;
    return 0;
}

int cli_error(const cli_cmd *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lyricmind %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_USAGE_ERROR;
}

/* The job file's text: string settings point into it, so it is kept (and
 * reachable) for the life of the process; one job file per process. */
static char *g_config_text;

int cli_load_config(cli_cmd *cmd, const char *path) {
    char err[1024];
    if (!path) return CLI_OK;
    free(g_config_text);
    g_config_text = NULL;
    if (cli_load_ini(cmd, path, cmd->name, &g_config_text, err, sizeof err)) return cli_error(cmd, "%s", err);
    return CLI_OK;
}

int cli_parse(cli_cmd *cmd, int argc, char **argv, char **pos, int max_pos, int *npos) {
    int np = 0, flags_done = 0;
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            cli_usage(stdout, cmd);
            return CLI_HELP;
        }
        if (!flags_done && !strcmp(a, "--")) { flags_done = 1; continue; }
        if (!flags_done && a[0] == '-' && a[1] == '-') {
            char name[128];
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            if (len == 0 || len >= sizeof name) return cli_error(cmd, "bad flag '%s'", a);
            memcpy(name, a + 2, len);
            name[len] = 0;
            cli_opt *o = cli_find(cmd, name);
            if (!o) return cli_error(cmd, "unknown flag --%s (see 'lyricmind %s --help')", name, cmd->name);
            const char *val;
            if (eq) val = eq + 1;
            else if (o->type == CLI_BOOL) val = "true";
            else {
                if (i + 1 >= argc) return cli_error(cmd, "--%s needs a value (%s)", name, o->meta ? o->meta : "VALUE");
                val = argv[++i];
            }
            if (cli_set(cmd, name, val, err, sizeof err)) return cli_error(cmd, "%s", err);
            continue;
        }
        if (!flags_done && a[0] == '-' && a[1] != 0)
            return cli_error(cmd, "unknown flag %s (flags start with --; see 'lyricmind %s --help')", a, cmd->name);
        if (np >= max_pos) return cli_error(cmd, "unexpected argument '%s'", a);
        pos[np++] = argv[i];
    }
    if (npos) *npos = np;
    return CLI_OK;
}

static void print_default(FILE *f, const cli_opt *o) {
    switch (o->type) {
    case CLI_INT: fprintf(f, " (default %d)", *(int *)o->dest); break;
    case CLI_LONG: fprintf(f, " (default %ld)", *(long *)o->dest); break;
    case CLI_FLOAT: fprintf(f, " (default %g)", *(float *)o->dest); break;
    case CLI_DOUBLE: fprintf(f, " (default %g)", *(double *)o->dest); break;
    case CLI_STR:
        if (*(const char **)o->dest) fprintf(f, " (default %s)", *(const char **)o->dest);
        break;
    case CLI_BOOL: break;
    }
}

void cli_usage(FILE *f, const cli_cmd *cmd) {
    fprintf(f, "usage: lyricmind %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis, cmd->summary);
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        char left[96];
        if (o->type == CLI_BOOL) snprintf(left, sizeof left, "--%s", o->name);
        else snprintf(left, sizeof left, "--%s %s", o->name, o->meta ? o->meta : "VALUE");
        fprintf(f, "  %-26s %s", left, o->help);
        print_default(f, o);
        fputc('\n', f);
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help and exit");
}
