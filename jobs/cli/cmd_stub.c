/* cmd_stub: the shared "not implemented yet" path for subcommands that a
 * later issue delivers. It still honours --help and rejects unknown flags. */
#include <stdio.h>

#include "cli.h"
#include "cmds.h"

int cmd_not_implemented(const char *name, const char *synopsis, const char *summary,
                        int argc, char **argv) {
    cli_opt opts[] = {{0}};
    cli_cmd cmd = {name, synopsis, summary, opts};
    char *pos[64];
    int np = 0;
    int rc = cli_parse(&cmd, argc, argv, pos, 64, &np);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    fprintf(stderr, "lyricmind %s: not implemented yet\n", name);
    return LM_EXIT_NOT_IMPL;
}
