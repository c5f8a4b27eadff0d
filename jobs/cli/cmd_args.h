/* cmd_args: the argument pattern of commands that take exactly one
 * positional argument (export CKPT, report RUN). */
#ifndef CMD_ARGS_H
#define CMD_ARGS_H

#include "cli.h"

/* Parses argv with cmd; on success stores the one positional in *arg and
 * returns -1 (go on). Otherwise returns the exit code: LM_EXIT_OK after
 * --help, LM_EXIT_USAGE for bad flags or not exactly one positional (one
 * line naming `what`, e.g. "checkpoint CKPT"). */
int cmd_parse_one(cli_cmd *cmd, int argc, char **argv, const char *what, char **arg);

#endif
