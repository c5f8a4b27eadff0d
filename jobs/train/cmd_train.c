/* cmd_train: 'lyricmind train' flags and job file (defaults < --config INI <
 * flags), then train_run. Everything the command parses into lives in one
 * train_cmd_state of cmd_train's, passed down; nothing here is global. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "train.h"
#include "train_settings.h"

void train_config_defaults(train_config *c) {
    memset(c, 0, sizeof *c);
    c->resume = "auto";
    c->lr_schedule = "plateau";
    c->state = "carry";
    c->epochs = 5;
    c->batch_size = 8;
    c->seq_len = 30;
    c->accumulate = 1;
    c->wire_dtype = "fp32";
    c->overlap = "auto";
    c->exchange = "auto";
    c->embed = 64;
    c->hidden = 128;
    c->threads = 1;
    c->keep = 3;
    c->lr = 0.001f;
    c->clip = 1.0f;
    c->dropout = 0.3f;
    c->min_lr = 1e-5f;
    c->step_size = 1000;
    c->gamma = 0.5f;
    c->warmup_steps = 200;
    c->plateau_factor = 0.5f;
    c->plateau_patience = 1;
    c->plateau_threshold = 1e-3f;
    c->patience = 3;
    c->min_delta = 1e-3f;
    c->eval_every = 0;
    c->eval_tokens = 100000;
    c->checkpoint_every = 0;
    c->checkpoint_minutes = 10;
    c->seed = 1234;
    c->log_seconds = 10;
}

/* The settings, the flag table bound to them, the --help text and the
 * effective settings text stored in checkpoints. */
typedef struct train_cmd_state {
    train_config cfg;
    cli_opt opts[TRAIN_MAX_OPTS];
    cli_cmd cmd;
    char summary[8192];
    char settings[16384];
} train_cmd_state;

void train_cli_bind(train_config *c, cli_opt *opts, cli_cmd *cmd) {
    cli_opt t[] = {
        {"data", CLI_STR, &c->data, "DIR", "corpus directory written by 'lyricmind preprocess' (required)", 0, 0, 0},
        {"run", CLI_STR, &c->run, "DIR", "run directory: checkpoints, metrics.jsonl (required; created)", 0, 0, 0},
        {"config", CLI_STR, &c->config, "FILE", "INI job file ([train] section; keys are flag names); flags win", 0, 0, 0},
        {"epochs", CLI_INT, &c->epochs, "N", "passes over the training data", 1, 1e6, 0},
        {"batch-size", CLI_INT, &c->batch_size, "B", "streams per rank; global batch G = B x ranks", 1, 65536, 0},
        {"seq-len", CLI_INT, &c->seq_len, "T", "tokens per window (truncated BPTT length)", 1, 4096, 0},
        {"accumulate", CLI_INT, &c->accumulate, "K", "windows per optimizer step: one gradient exchange per K (global batch x K)", 1, 4096, 0},
        {"embed", CLI_INT, &c->embed, "E", "embedding size", 1, 65536, 0},
        {"hidden", CLI_INT, &c->hidden, "H", "LSTM hidden size", 1, 65536, 0},
        {"lr", CLI_FLOAT, &c->lr, "X", "Adam learning rate", 1e-9, 10, 0},
        {"weight-decay", CLI_FLOAT, &c->weight_decay, "X", "Adam L2 weight decay", 0, 1, 0},
        {"clip", CLI_FLOAT, &c->clip, "X", "clip gradients to this global L2 norm (0: off)", 0, 1e9, 0},
        {"dropout", CLI_FLOAT, &c->dropout, "P", "dropout after the LSTM", 0, 0.99, 0},
        {"lr-schedule", CLI_STR, &c->lr_schedule, "KIND", "constant|step|cosine|plateau", 0, 0, 0},
        {"min-lr", CLI_FLOAT, &c->min_lr, "X", "lowest LR of the cosine and plateau schedules", 0, 10, 0},
        {"step-size", CLI_LONG, &c->step_size, "N", "step schedule: multiply LR by --gamma every N steps", 1, 1e12, 0},
        {"gamma", CLI_FLOAT, &c->gamma, "X", "step schedule factor", 1e-6, 1, 0},
        {"warmup-steps", CLI_LONG, &c->warmup_steps, "N", "cosine schedule: linear warmup steps", 0, 1e12, 0},
        {"plateau-factor", CLI_FLOAT, &c->plateau_factor, "X", "plateau schedule: LR factor when validation stalls", 1e-6, 0.999999, 0},
        {"plateau-patience", CLI_INT, &c->plateau_patience, "N", "plateau schedule: evaluations without improvement", 0, 1e6, 0},
        {"plateau-threshold", CLI_FLOAT, &c->plateau_threshold, "X", "plateau schedule: relative improvement that counts", 0, 1, 0},
        {"patience", CLI_INT, &c->patience, "N", "early stopping: evaluations without improvement (0: off)", 0, 1e6, 0},
        {"min-delta", CLI_FLOAT, &c->min_delta, "X", "early stopping: improvement in loss that counts", 0, 1e3, 0},
        {"state", CLI_STR, &c->state, "MODE", "carry (LSTM state carried across windows) or reset (zero-state windows)", 0, 0, 0},
        {"eval-every", CLI_LONG, &c->eval_every, "STEPS", "evaluate every STEPS steps (0: 4 times per epoch); always at epoch end", 0, 1e12, 0},
        {"eval-tokens", CLI_LONG, &c->eval_tokens, "N", "validation tokens for routine evaluations (epoch ends use all)", 1, 1e15, 0},
        {"checkpoint-every", CLI_LONG, &c->checkpoint_every, "STEPS", "checkpoint every STEPS steps (0: off)", 0, 1e12, 0},
        {"checkpoint-minutes", CLI_DOUBLE, &c->checkpoint_minutes, "M", "checkpoint every M minutes (0: off); also at epoch ends", 0, 1e9, 0},
        {"keep", CLI_INT, &c->keep, "K", "keep the last K checkpoints (plus best.h5)", 1, 1e6, 0},
        {"max-steps", CLI_LONG, &c->max_steps, "N", "stop after N global steps in total (0: no limit)", 0, 1e15, 0},
        {"time-limit", CLI_DOUBLE, &c->time_limit, "MIN", "checkpoint and stop after MIN minutes of this run (0: none)", 0, 1e9, 0},
        {"seed", CLI_LONG, &c->seed, "S", "seed of initialisation, data order and dropout", 0, 9.2e18, 0},
        {"resume", CLI_STR, &c->resume, "WHAT", "auto (newest valid checkpoint in --run), none, or a checkpoint PATH", 0, 0, 0},
        {"threads", CLI_INT, &c->threads, "N", "threads per rank for the whole step: output layer, LSTM, clip, Adam (results do not depend on it)", 1, 1024, 0},
        {"log-seconds", CLI_DOUBLE, &c->log_seconds, "S", "progress line interval when output is not a terminal", 0.1, 1e6, 0},
        {"wire-dtype", CLI_STR, &c->wire_dtype, "TYPE", "fp32, or bf16|fp16: the output-layer gradient travels in 16 bits (summed in fp32)", 0, 0, 0},
        {"exchange", CLI_STR, &c->exchange, "HOW", "auto (shared when every rank is on one host, unless --wire-dtype or --overlap on ask for messages), shared: ranks of one host share parameters and optimizer state in memory and each updates its slice, mpi: every rank all-reduces the gradient (bitwise the same at 2 ranks; from 3 the last bit may differ)", 0, 0, 0},
        {"overlap", CLI_STR, &c->overlap, "WHEN", "auto (on when the ranks span several hosts), on, off: send the output-layer gradient while the backward runs (same results)", 0, 0, 0},
        {"check-params", CLI_BOOL, &c->check_params, NULL, "debug: verify parameters are bitwise identical on all ranks every step", 0, 0, 0},
        {"quiet", CLI_BOOL, &c->quiet, NULL, "no progress output (errors and the summary only)", 0, 0, 0},
        {"verbose", CLI_BOOL, &c->verbose, NULL, "start-up: list every setting (default: those that differ from the defaults)", 0, 0, 0},
        {0},
    };
    _Static_assert(sizeof t / sizeof t[0] <= TRAIN_MAX_OPTS, "TRAIN_MAX_OPTS too small");
    memcpy(opts, t, sizeof t);
    *cmd = (cli_cmd){"train", "--data DIR --run DIR [options]", NULL, opts};
    c->cli = cmd;
}

/* The flag table and the --help text, bound to st->cfg. */
static cli_cmd *train_cli(train_cmd_state *st) {
    train_cli_bind(&st->cfg, st->opts, &st->cmd);
    st->cmd.summary = st->summary;
    size_t n = (size_t)snprintf(st->summary, sizeof st->summary, "%s",
        "Trains the LSTM language model data-parallel: run it under mpirun or srun for N ranks\n"
        "(each rank takes --batch-size streams of every global step; gradients are averaged\n"
        "with MPI allreduce). Rank 0 evaluates, schedules the LR, stops early and writes\n"
        "checkpoints to --run; --resume auto continues the newest valid one exactly.\n"
        "Exit codes: 0 done (epochs, --max-steps, --time-limit or early stop), 1 error,\n"
        "2 bad flags or a resume that changes what must match, 75 stopped by SIGTERM/SIGUSR1/SIGINT\n"
        "after checkpointing (requeue me).\n\n");
    if (n < sizeof st->summary) train_settings_describe(&st->cmd, st->summary + n, sizeof st->summary - n);
    return &st->cmd;
}

/* The checks of flags that need the job file applied, then the run. */
static int check_and_run(train_cmd_state *st, int *argc, char ***argv) {
    cli_cmd *cmd = &st->cmd;
    train_config *c = &st->cfg;
    if (!c->data) return cli_error(cmd, "--data DIR is required"), LM_EXIT_USAGE;
    if (!c->run) return cli_error(cmd, "--run DIR is required"), LM_EXIT_USAGE;
    if (strcmp(c->state, "carry") && strcmp(c->state, "reset"))
        return cli_error(cmd, "--state must be carry or reset, got '%s'", c->state), LM_EXIT_USAGE;
    if (strcmp(c->wire_dtype, "fp32") && strcmp(c->wire_dtype, "bf16") && strcmp(c->wire_dtype, "fp16"))
        return cli_error(cmd, "--wire-dtype must be fp32, bf16 or fp16, got '%s'", c->wire_dtype), LM_EXIT_USAGE;
    if (strcmp(c->overlap, "auto") && strcmp(c->overlap, "on") && strcmp(c->overlap, "off"))
        return cli_error(cmd, "--overlap must be auto, on or off, got '%s'", c->overlap), LM_EXIT_USAGE;
    if (strcmp(c->exchange, "auto") && strcmp(c->exchange, "shared") && strcmp(c->exchange, "mpi"))
        return cli_error(cmd, "--exchange must be auto, shared or mpi, got '%s'", c->exchange), LM_EXIT_USAGE;
    if (strcmp(c->lr_schedule, "constant") && strcmp(c->lr_schedule, "step") &&
        strcmp(c->lr_schedule, "cosine") && strcmp(c->lr_schedule, "plateau"))
        return cli_error(cmd, "--lr-schedule must be constant, step, cosine or plateau, got '%s'", c->lr_schedule),
               LM_EXIT_USAGE;
    c->settings = st->settings;
    c->settings_cap = sizeof st->settings;
    cli_dump_ini(cmd, st->settings, sizeof st->settings);
    return train_run(c, st->settings, argc, argv);
}

static int parse_and_run(train_cmd_state *st, int *argc, char ***argv) {
    train_config_defaults(&st->cfg);
    cli_cmd *cmd = train_cli(st);
    int rc = cli_parse(cmd, *argc, *argv, NULL, 0, NULL);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    if (cli_load_config(cmd, st->cfg.config)) return LM_EXIT_USAGE;
    return check_and_run(st, argc, argv);
}

int cmd_train(int argc, char **argv) {
    train_cmd_state *st = calloc(1, sizeof *st);
    if (!st) return fprintf(stderr, "lyricmind train: out of memory\n"), LM_EXIT_FAILURE;
    int rc = parse_and_run(st, &argc, &argv);
    free(st);
    return rc;
}
