/* cmd_args: one-positional parsing shared by export and report (see cmd_args.h). */
#include "cmd_args.h"

int cmd_parse_one(cli_cmd *cmd, int argc, char **argv, const char *what, char **arg) {
    char *pos[2];
    int np = 0;
    int rc = cli_parse(cmd, argc, argv, pos, 2, &np);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    if (np != 1) return cli_error(cmd, "give exactly one %s (see 'lyricmind %s --help')", what, cmd->name);
    *arg = pos[0];
    return -1;
}
