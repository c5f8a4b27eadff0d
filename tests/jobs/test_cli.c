/* test_cli: the flag parser accepts what --help promises and rejects the rest. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

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

Test(cli, help_lists_every_flag_with_default, .init = cr_redirect_stdout) {
    opts_t o = {8, 0, 0, 0.001f, NULL};
    cli_opt tab[6];
    cli_cmd c = make_cmd(&o, tab);
    char *argv[] = {"train", "--help"};
    cr_assert_eq(cli_parse(&c, 2, argv, NULL, 0, NULL), CLI_HELP);
    fflush(stdout);
    cr_assert_stdout_neq_str("");
}
