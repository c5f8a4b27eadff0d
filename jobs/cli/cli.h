/* cli: the flag parser every lyricmind subcommand uses.
 *
 * A subcommand declares a NULL-terminated table of cli_opt (flag name without
 * dashes, type, destination, metavar, help). cli_parse accepts `--name value`
 * and `--name=value`, `--` to end flags, and collects positional arguments.
 * Numbers are parsed strictly (whole string, range-checked). On any problem it
 * prints ONE line "lyricmind CMD: ..." to stderr and returns CLI_USAGE_ERROR
 * (the caller exits 2); on --help/-h it prints the usage and returns CLI_HELP.
 * Options given on the command line are marked in cli_opt.seen (CLI_SEEN_FLAG)
 * and those set by a job file CLI_SEEN_FILE, so a caller can layer defaults <
 * config file < flags and tell a given setting from a default. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

enum { CLI_OK = 0, CLI_HELP = 1, CLI_USAGE_ERROR = 2 };

/* Exit codes of the lyricmind command (docs/cli.md). */
enum {
    LM_EXIT_OK = 0,
    LM_EXIT_FAILURE = 1,   /* runtime error: bad input file, I/O, ... */
    LM_EXIT_USAGE = 2,     /* bad command line */
    LM_EXIT_REQUEUE = 75   /* train stopped by a signal after checkpointing (EX_TEMPFAIL) */
};

typedef enum { CLI_INT, CLI_LONG, CLI_FLOAT, CLI_DOUBLE, CLI_STR, CLI_BOOL } cli_type;

/* Where an option's value came from (cli_opt.seen). */
enum { CLI_SEEN_DEFAULT = 0, CLI_SEEN_FLAG = 1, CLI_SEEN_FILE = 2 };

typedef struct cli_opt {
    const char *name;  /* "batch-size" for --batch-size */
    cli_type type;
    void *dest;        /* int*, long*, float*, double*, const char**, int* (bool) */
    const char *meta;  /* "N", "FILE", ...; ignored for CLI_BOOL */
    const char *help;  /* one line; the default is shown from *dest */
    double min, max;   /* numeric range when min < max */
    int seen;          /* CLI_SEEN_*: set by cli_set (FLAG) and cli_load_ini (FILE) */
} cli_opt;

typedef struct cli_cmd {
    const char *name;     /* "train" */
    const char *synopsis; /* "--data DIR --run DIR [options]" */
    const char *summary;  /* one paragraph shown by --help */
    cli_opt *opts;        /* terminated by an entry with name == NULL */
} cli_cmd;

/* Parses argv[1..argc) (argv[0] is the subcommand name). Positional arguments
 * are stored in pos (at most max_pos; more is a usage error) and counted in
 * *npos; pass pos NULL and max_pos 0 to refuse all positionals. */
int cli_parse(cli_cmd *cmd, int argc, char **argv, char **pos, int max_pos, int *npos);
void cli_usage(FILE *f, const cli_cmd *cmd);
/* Prints "lyricmind CMD: msg" on stderr (one line) and returns CLI_USAGE_ERROR. */
int cli_error(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets an option by name from a string (used by config files too).
 * Returns 0, or -1 with a message in err (errlen bytes). */
int cli_set(cli_cmd *cmd, const char *name, const char *value, char *err, size_t errlen);
cli_opt *cli_find(cli_cmd *cmd, const char *name);
/* Writes o's current value as text: integers in decimal, floats and doubles
 * as the shortest decimal that reads back (strtof/strtod) to the same value
 * (0.01f prints "0.01"), bools true/false, strings as they are ("" if unset). */
void cli_format_value(const cli_opt *o, char *buf, size_t n);

#endif

/* Reads an INI job file: `key = value` lines (keys are flag names; '_' may
 * stand for '-'), '#' or ';' comments, blank lines and `[section]` headers.
 * Every key belongs to a section; a section is named after a lyricmind command
 * (the list is in cli_ini.c): `[section_name]` (e.g. "train") is read, the
 * other known ones are skipped. Keys already set on the command line
 * (opt->seen) keep the command-line value. An unknown section or key, a key
 * outside a section, a malformed line, a directory, an unreadable file or a
 * read error -> -1 with "FILE:LINE: problem" (or "FILE: problem") in err.
 * *text receives the file's text (NULL if it could not be read): the CLI_STR
 * options set from the file point into it, so the caller frees it once they
 * are no longer used, after an error too. */
int cli_load_ini(cli_cmd *cmd, const char *path, const char *section_name, char **text,
                 char *err, size_t errlen);
/* The --config step of a subcommand: reads job file `path` (nothing when
 * NULL), section [cmd->name], under the flags given (cli_load_ini). The
 * file's text, which string settings point into, lives until the process
 * ends. On a problem prints one line "lyricmind CMD: FILE:LINE: ..." on
 * stderr and returns CLI_USAGE_ERROR; else CLI_OK. */
int cli_load_config(cli_cmd *cmd, const char *path);
/* Writes a `[cmd->name]` header and every option (but config) as an INI
 * `key = value` line into buf (size n); the output is a valid --config file.
 * Returns the length needed. */
size_t cli_dump_ini(const cli_cmd *cmd, char *buf, size_t n);
