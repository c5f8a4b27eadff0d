/* test_cli: the flag parser accepts what --help promises and rejects the rest. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
    int batch, verbose;
    long steps;
    float lr;
    const char *data;
} opts_t;

static cli_cmd make_cmd(opts_t *o, cli_opt *tab) {
    cli_opt t[] = {
        {"batch-size", CLI_INT, &o->batch, "N", "per-rank batch", 1, 1 << 20, 0},
        {"max-steps", CLI_LONG, &o->steps, "N", "stop after N steps", 0, 0, 0},
        {"lr", CLI_FLOAT, &o->lr, "X", "learning rate", 0, 10, 0},
        {"data", CLI_STR, &o->data, "DIR", "corpus directory", 0, 0, 0},
        {"verbose", CLI_BOOL, &o->verbose, NULL, "chatty", 0, 0, 0},
        {0},
    };
    memcpy(tab, t, sizeof t);
    return (cli_cmd){"train", "[options]", "test command", tab};
}

Test(cli, parses_both_spellings_and_positionals) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char *argv[] = {"train", "--batch-size", "16", "--lr=0.01", "pos1", "--verbose", "--data", "d", "--", "--pos2"};
    char *pos[4];
    int np = 0;
    cr_assert_eq(cli_parse(&c, 10, argv, pos, 4, &np), CLI_OK);
    cr_assert_eq(o.batch, 16);
    cr_assert_float_eq(o.lr, 0.01f, 1e-9);
    cr_assert_eq(o.verbose, 1);
    cr_assert_str_eq(o.data, "d");
    cr_assert_eq(np, 2);
    cr_assert_str_eq(pos[0], "pos1");
    cr_assert_str_eq(pos[1], "--pos2");
    cr_assert(cli_find(&c, "batch-size")->seen);
    cr_assert_not(cli_find(&c, "max-steps")->seen);
}

Test(cli, rejects_bad_values, .init = cr_redirect_stderr) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char *bad[][3] = {
        {"train", "--batch-size", "8x"}, {"train", "--batch-size", "0"},
        {"train", "--lr", "nan"},        {"train", "--nope", "1"},
        {"train", "--max-steps", ""},    {"train", "-x", "1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *pos[1];
        int np;
        cr_assert_eq(cli_parse(&c, 3, bad[i], pos, 0, &np), CLI_USAGE_ERROR, "case %zu", i);
    }
    char *missing[] = {"train", "--data"};
    cr_assert_eq(cli_parse(&c, 2, missing, NULL, 0, NULL), CLI_USAGE_ERROR);
    cr_assert_eq(o.batch, 8, "a rejected value must not be stored");
}

/* The error of a value out of range, by cli_set. */
static void range_error(const char *flag, const char *value, const char *want) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char err[256] = "";
    cr_assert_neq(cli_set(&c, flag, value, err, sizeof err), 0);
    cr_assert_str_eq(err, want);
}

Test(cli, ranges_print_integers_as_integers) {
    range_error("batch-size", "2000000", "--batch-size must be between 1 and 1048576, got 2000000");
    range_error("batch-size", "0", "--batch-size must be between 1 and 1048576, got 0");
    range_error("lr", "10.5", "--lr must be between 0 and 10, got 10.5");
}

Test(cli, help_lists_every_flag_with_default, .init = cr_redirect_stdout) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char *argv[] = {"train", "--help"};
    cr_assert_eq(cli_parse(&c, 2, argv, NULL, 0, NULL), CLI_HELP);
    fflush(stdout);
    cr_assert_stdout_neq_str("");
}

static char *write_tmp(const char *text) {
    static char path[64];
    strcpy(path, "/tmp/lm_test_ini_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

Test(cli_ini, file_sets_values_but_flags_win) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char *argv[] = {"train", "--lr", "0.5"};
    cr_assert_eq(cli_parse(&c, 3, argv, NULL, 0, NULL), CLI_OK);
    char *path = write_tmp("# job\n[generate]\nnope = 1\n[train]\nbatch_size = 32\nlr = 0.25\n"
                           "data = \"/x y\"\n[ eval ]\nnope = 2\n");
    char err[256], *text = NULL;
    cr_assert_eq(cli_load_ini(&c, path, "train", &text, err, sizeof err), 0, "%s", err);
    cr_assert_eq(o.batch, 32);
    cr_assert_float_eq(o.lr, 0.5f, 1e-9, "the command line must win over the file");
    cr_assert_str_eq(o.data, "/x y");
    cr_assert(o.data > text && o.data < text + 200, "string values live in the text the caller owns");
    free(text);
    unlink(path);
}

Test(cli_ini, errors_name_file_and_line) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    const char *bad[][2] = {
        {"[train]\nbatch-size = 4\nbogus = 1\n", ":3: unknown key 'bogus' in [train]"},
        {"[train]\nlr = fast\n", ":2: --lr expects a number"},
        {"[train\n", ":1: malformed section"},
        {"[train]\njusttext\n", ":2: expected 'key = value'"},
        {"[trian]\nlr = 0.1\n", ":1: unknown section [trian] (known: [preprocess], [train], [generate], [eval])"},
        {"[train]\nlr = 0.1\n\n[Train]\n", ":4: unknown section [Train]"},
        {"# no header\nbatch-size = 4\n[train]\n", ":2: 'batch-size' is outside any section (put it under [train])"},
        {"[train]\nconfig = other.ini\n", ":2: a job file cannot name another job file"},
        {"[generate]\njusttext\n", ":2: expected 'key = value'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = write_tmp(bad[i][0]);
        char err[512], *text = NULL;
        cr_assert_eq(cli_load_ini(&c, path, "train", &text, err, sizeof err), -1, "case %zu", i);
        cr_assert(strstr(err, path) && strstr(err, bad[i][1]), "case %zu: %s", i, err);
        free(text);
        unlink(path);
    }
}

/* Errors of the file as a whole name the file, and no line. */
static void assert_file_error(cli_cmd *c, const char *path, const char *want) {
    char err[512], *text = (char *)1;
    cr_assert_eq(cli_load_ini(c, path, "train", &text, err, sizeof err), -1, "%s", path);
    cr_assert_null(text);
    cr_assert(!strncmp(err, path, strlen(path)) && !strncmp(err + strlen(path), ": ", 2), "%s", err);
    cr_assert(strstr(err, want), "%s: %s", path, err);
}

Test(cli_ini, unreadable_files_are_errors) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    assert_file_error(&c, "/nonexistent/job.ini", "cannot open job file: No such file or directory");
    assert_file_error(&c, "/tmp", "is a directory");
    /* Reading address 0 of one's own memory fails with EIO: a read error that
     * must not pass for the end of an empty file. */
    assert_file_error(&c, "/proc/self/mem", "read error: Input/output error");
    char *path = write_tmp("[train]\nlr = 0.1\n");
    FILE *f = fopen(path, "a");
    fwrite("x\0y\n", 1, 4, f);
    fclose(f);
    assert_file_error(&c, path, "contains a NUL byte");
    f = fopen(path, "w");
    for (int i = 0; i < (1 << 20) / 16 + 1; i++) fputs("# ..............\n", f);
    fclose(f);
    assert_file_error(&c, path, "larger than 1048576 bytes");
    unlink(path);
    cr_assert_float_eq(o.lr, 0.001f, 0, "nothing is set from a file that cannot be read");
}

Test(cli_ini, dump_round_trips) {
    opts_t o = {12, 1, 77, 0.125f, "dir"};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char buf[1024];
    size_t n = cli_dump_ini(&c, buf, sizeof buf);
    cr_assert(n > 0 && n < sizeof buf);
    cr_assert(!strncmp(buf, "[train]\n", 8), "%s", buf);
    opts_t p = {8, 0, 0, 0.001f, NULL};
    cli_opt tab2[6];
    cli_cmd c2 = make_cmd(&p, tab2);
    char *path = write_tmp(buf);
    char err[256], *text = NULL;
    cr_assert_eq(cli_load_ini(&c2, path, "train", &text, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.batch, 12);
    cr_assert_eq(p.verbose, 1);
    cr_assert_eq(p.steps, 77);
    cr_assert_float_eq(p.lr, 0.125f, 0);
    cr_assert_str_eq(p.data, "dir");
    free(text);
    unlink(path);
}

Test(cli, seen_tells_flag_file_and_default_apart) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char *argv[] = {"train", "--lr", "0.001"}; /* equal to the default: still given */
    cr_assert_eq(cli_parse(&c, 3, argv, NULL, 0, NULL), CLI_OK);
    char *path = write_tmp("[train]\nbatch_size = 8\nlr = 0.5\n");
    char err[256], *text = NULL;
    cr_assert_eq(cli_load_ini(&c, path, "train", &text, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cli_find(&c, "lr")->seen, CLI_SEEN_FLAG);
    cr_assert_eq(cli_find(&c, "batch-size")->seen, CLI_SEEN_FILE, "a file value equal to the default is given");
    cr_assert_eq(cli_find(&c, "max-steps")->seen, CLI_SEEN_DEFAULT);
    cr_assert_float_eq(o.lr, 0.001f, 0);
    free(text);
    unlink(path);
}

Test(cli, floats_print_as_the_shortest_round_trip) {
    opts_t o = {8, 0, 0, 0.01f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char buf[64];
    const float vals[] = {0.01f, 0.001f, 1e-5f, 0.3f, 1.0f, 0.1f + 0.2f, 2.5e-7f, 10.0f, 250.0f, 1e6f, 1234567.0f, 1.5e12f};
    const char *want[] = {"0.01", "0.001", "1e-05", "0.3", "1", "0.3", "2.5e-07", "10", "250", "1e+06", "1234567",
                          "1.5e+12"};
    for (int i = 0; i < 12; i++) {
        o.lr = vals[i];
        cli_format_value(cli_find(&c, "lr"), buf, sizeof buf);
        cr_assert_str_eq(buf, want[i], "%.9g", (double)vals[i]);
        cr_assert_eq(strtof(buf, NULL), vals[i]);
    }
    char dump[1024];
    o.lr = 0.01f;
    cli_dump_ini(&c, dump, sizeof dump);
    cr_assert(strstr(dump, "lr = 0.01\n"), "%s", dump);
}
