/* cli_ini: INI job files on top of the flag table (defaults < file < flags),
 * and the reverse: the effective settings as INI text for logs and
 * checkpoints. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

int cli_load_ini(cli_cmd *cmd, const char *path, const char *section_name, char *err, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: cannot open config: %s", path, strerror(errno));
        return -1;
    }
    /* Values must outlive this call (CLI_STR stores the pointer): keep them
     * in a buffer owned by the process, i.e. leaked on purpose, once per run. */
    char line[4096];
    int lineno = 0, in_section = 1, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, n, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1]) {
                snprintf(err, n, "%s:%d: malformed section header", path, lineno);
                rc = -1;
                break;
            }
            *close = 0;
            in_section = strcmp(trim(s + 1), section_name) == 0;
            continue;
        }
        if (!in_section) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, n, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = 0;
            val++;
        }
        for (char *p = key; *p; p++)
            if (*p == '_') *p = '-';
        cli_opt *o = cli_find(cmd, key);
        if (!o) {
            snprintf(err, n, "%s:%d: unknown key '%s'", path, lineno, key);
            rc = -1;
            break;
        }
        if (o->seen == CLI_SEEN_FLAG) continue; /* the command line wins */
        char *copy = strdup(val);
        char msg[512];
        if (!copy || cli_set(cmd, key, copy, msg, sizeof msg)) {
            snprintf(err, n, "%s:%d: %s", path, lineno, copy ? msg : "out of memory");
            rc = -1;
            break;
        }
        o->seen = CLI_SEEN_FILE; /* set from the file, not the command line */
    }
    fclose(f);
    return rc;
}

size_t cli_dump_ini(const cli_cmd *cmd, char *buf, size_t n) {
    size_t len = 0;
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        char v[512];
        cli_format_value(o, v, sizeof v);
        if (o->type == CLI_STR && !*(const char **)o->dest) continue;
        int w = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s = %s\n", o->name, v);
        if (w > 0) len += (size_t)w;
    }
    return len;
}
