/* cmds: the lyricmind subcommands. Each takes argv with argv[0] = its own
 * name and returns the process exit code (see LM_EXIT_* in cli.h). */
#ifndef CMDS_H
#define CMDS_H

int cmd_preprocess(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
