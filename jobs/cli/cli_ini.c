/* cli_ini: INI job files on top of the flag table (defaults < file < flags),
 * and the reverse: the effective settings as INI text for logs and
 * checkpoints. Job files are strict: anything the reader does not understand
 * is an error naming FILE:LINE, never silently skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* The sections a job file may hold: one per lyricmind command that reads (or
 * will read) job files. A command reads its own section and skips the
 * others, so one file can drive a whole pipeline; any other name is a typo. */
static const char *const KNOWN_SECTIONS[] = {"preprocess", "train", "generate", "eval", NULL};

/* A job file larger than this is not a job file. */
#define CLI_INI_MAX_BYTES (1 << 20)

static int known_section(const char *name) {
    for (const char *const *s = KNOWN_SECTIONS; *s; s++)
        if (!strcmp(*s, name)) return 1;
    return 0;
}

/* "[preprocess], [train], ..." for error messages. */
static void section_list(char *buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    for (const char *const *s = KNOWN_SECTIONS; *s && len < n; s++) {
        int w = snprintf(buf + len, n - len, "%s[%s]", s == KNOWN_SECTIONS ? "" : ", ", *s);
        if (w > 0) len += (size_t)w;
    }
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

/* The whole file as one NUL-terminated string (malloc'd), or NULL with
 * "FILE: problem" in err: cannot open, a directory, a read error (never taken
 * for end of file), too large, or a NUL byte. */
static char *read_text(const char *path, char *err, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: cannot open job file: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, n, "%s: is a directory, not a job file", path);
        fclose(f);
        return NULL;
    }
    char *buf = malloc(CLI_INI_MAX_BYTES + 1);
    if (!buf) {
        snprintf(err, n, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    size_t len = fread(buf, 1, CLI_INI_MAX_BYTES + 1, f);
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (read_errno) snprintf(err, n, "%s: read error: %s", path, strerror(read_errno));
    else if (len > CLI_INI_MAX_BYTES) snprintf(err, n, "%s: larger than %d bytes, not a job file", path, CLI_INI_MAX_BYTES);
    else if (memchr(buf, 0, len)) snprintf(err, n, "%s: contains a NUL byte, not a text file", path);
    else {
        buf[len] = 0;
        return buf;
    }
    free(buf);
    return NULL;
}

/* A `[name]` header: sets *section (NULL while before the first header). */
static int parse_header(char *s, const char **section, const char *path, int lineno, char *err, size_t n) {
    char *close = strchr(s, ']');
    if (!close || close[1]) {
        snprintf(err, n, "%s:%d: malformed section header", path, lineno);
        return -1;
    }
    *close = 0;
    char *name = trim(s + 1);
    if (!known_section(name)) {
        char known[128];
        section_list(known, sizeof known);
        snprintf(err, n, "%s:%d: unknown section [%.64s] (known: %s)", path, lineno, name, known);
        return -1;
    }
    *section = name;
    return 0;
}

/* `key = value` of the command's own section: sets the option unless the
 * command line set it. The value stays inside the job file's text. */
static int set_pair(cli_cmd *cmd, char *key, char *val, const char *path, int lineno, const char *section_name,
                    char *err, size_t n) {
    size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
        val[vl - 1] = 0;
        val++;
    }
    char flag[128]; /* the flag name: '_' stands for '-' */
    size_t kl = strlen(key);
    for (size_t i = 0; i <= kl && kl < sizeof flag; i++) flag[i] = key[i] == '_' ? '-' : key[i];
    if (kl < sizeof flag && !strcmp(flag, "config")) {
        snprintf(err, n, "%s:%d: a job file cannot name another job file (config)", path, lineno);
        return -1;
    }
    cli_opt *o = kl < sizeof flag ? cli_find(cmd, flag) : NULL;
    if (!o) {
        snprintf(err, n, "%s:%d: unknown key '%.64s' in [%s]", path, lineno, key, section_name);
        return -1;
    }
    if (o->seen == CLI_SEEN_FLAG) return 0; /* the command line wins */
    char msg[512];
    if (cli_set(cmd, flag, val, msg, sizeof msg)) {
        snprintf(err, n, "%s:%d: %s", path, lineno, msg);
        return -1;
    }
    o->seen = CLI_SEEN_FILE; /* set from the file, not the command line */
    return 0;
}

int cli_load_ini(cli_cmd *cmd, const char *path, const char *section_name, char **text, char *err, size_t n) {
    /* CLI_STR values point into the text, which the caller owns and frees. */
    *text = read_text(path, err, n);
    if (!*text) return -1;
    const char *section = NULL;
    int lineno = 0;
    for (char *line = *text, *next; line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            if (parse_header(s, &section, path, lineno, err, n)) return -1;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, n, "%s:%d: expected 'key = value'", path, lineno);
            return -1;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        if (!section) {
            snprintf(err, n, "%s:%d: '%.64s' is outside any section (put it under [%s])", path, lineno, key,
                     section_name);
            return -1;
        }
        if (strcmp(section, section_name)) continue; /* another command's section */
        if (set_pair(cmd, key, val, path, lineno, section_name, err, n)) return -1;
    }
    return 0;
}

size_t cli_dump_ini(const cli_cmd *cmd, char *buf, size_t n) {
    int w = snprintf(buf, n, "[%s]\n", cmd->name);
    size_t len = w > 0 ? (size_t)w : 0;
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        char v[512];
        cli_format_value(o, v, sizeof v);
        if (o->type == CLI_STR && !*(const char **)o->dest) continue;
        if (!strcmp(o->name, "config")) continue; /* a job file names no job file */
        w = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s = %s\n", o->name, v);
        if (w > 0) len += (size_t)w;
    }
    return len;
}
