/* cmd_export: 'lyricmind export CKPT --out FILE' writes a weights-only copy
 * of a checkpoint: /model, the vocabulary, the settings text and the header
 * (step, epoch, val_loss), without /optim (the Adam moments, two thirds of a
 * checkpoint) and with an empty /state (no data cursor, no carried LSTM
 * states). generate, eval and inspect read it like any checkpoint; train
 * --resume refuses it (no optimizer state). The output is written
 * atomically by io_ckpt_save (temp file, fsync, rename). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd_args.h"
#include "cmds.h"
#include "io_ckpt.h"

/* 1 when a and b name the same existing file. */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int export_weights(const char *in, const char *out, lm_err *e) {
    io_ckpt ck;
    lm_model m;
    if (io_ckpt_load_model(&ck, in, &m, e)) return -1;
    io_ckpt_save_args a = {.model = &m, .vocab = &ck.vocab, .config = ck.config, .step = ck.step,
                           .epoch = ck.epoch, .val_loss = ck.val_loss};
    int rc = io_ckpt_save(out, &a, e);
    lm_model_free(&m);
    io_ckpt_close(&ck);
    return rc;
}

int cmd_export(int argc, char **argv) {
    const char *out = NULL;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "FILE", "weights-only file to write (required; replaced atomically)", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"export", "CKPT --out FILE",
                   "Writes the weights of checkpoint CKPT (e.g. RUN/best.h5) without the optimizer\n"
                   "state: /model, the vocabulary and the settings, about a third of the size.\n"
                   "generate, eval and inspect read the file; train --resume refuses it.",
                   opts};
    char *in;
    int rc = cmd_parse_one(&cmd, argc, argv, "checkpoint CKPT", &in);
    if (rc >= 0) return rc;
    if (!out) return cli_error(&cmd, "--out FILE is required");
    if (same_file(in, out)) return cli_error(&cmd, "--out %s is the input checkpoint itself", out);
    lm_err e = {{0}};
    if (export_weights(in, out, &e)) {
        fprintf(stderr, "lyricmind export: %s\n", e.msg);
        return LM_EXIT_FAILURE;
    }
    printf("lyricmind export: wrote %s (weights only) from %s\n", out, in);
    return LM_EXIT_OK;
}
