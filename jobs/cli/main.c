/* lyricmind: entry point; dispatches to the subcommands in cmd_*.c. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "lm_isa.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *what;
} subcommand;

static const subcommand SUBCOMMANDS[] = {
    {"preprocess", cmd_preprocess, "clean and tokenize a lyrics corpus into HDF5 shards"},
    {"train", cmd_train, "train the LSTM language model (run under mpirun/srun for N ranks)"},
    {"generate", cmd_generate, "sample lyrics from a checkpoint"},
    {"eval", cmd_eval, "perplexity and lyric-quality metrics of a checkpoint"},
    {"inspect", cmd_inspect, "validate and summarise a shard, vocabulary, checkpoint or genre classifier"},
    {"export", cmd_export, "write a checkpoint's weights without the optimizer state"},
    {"plot", cmd_plot, "loss, learning rate and speed curves of runs (PNG/SVG via gnuplot, CSV)"},
    {"report", cmd_report, "one self-contained HTML page about a run"},
    {"bench", cmd_bench, "benchmarks: training step, generation, preprocessing at scale"},
};
#define N_SUBCOMMANDS (sizeof SUBCOMMANDS / sizeof SUBCOMMANDS[0])

static void usage(FILE *f) {
    fprintf(f, "usage: lyricmind <command> [options]\n\n"
               "LyricMind trains a word-level LSTM language model on song lyrics.\n\ncommands:\n");
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        fprintf(f, "  %-12s %s\n", SUBCOMMANDS[i].name, SUBCOMMANDS[i].what);
    fprintf(f, "\n'lyricmind <command> --help' documents every flag of a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return LM_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return LM_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lyricmind 0.1.0\n");
        return LM_EXIT_OK;
    }
    /* One BLAS thread unless a command asks for more (--threads): an idle
     * OpenBLAS pool spins and would steal a core from preprocess's workers. */
    openblas_set_num_threads(1);
    /* A misspelt LM_ISA cap is refused by every command, not silently run
     * at the host's level (docs/model.md). */
    lm_err e = {{0}};
    if (lm_isa_check_env(&e)) {
        fprintf(stderr, "lyricmind: %s\n", e.msg);
        return LM_EXIT_USAGE;
    }
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (!strcmp(argv[1], SUBCOMMANDS[i].name)) return SUBCOMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lyricmind: unknown command '%s' (see 'lyricmind --help')\n", argv[1]);
    return LM_EXIT_USAGE;
}
