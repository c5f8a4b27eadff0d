/* train_banner: the start-up lines of 'lyricmind train' and RUN/config.ini
 * (see train_banner.h). */
#include "train_banner.h"

#include <string.h>

#include "io_atomic.h"
#include "train_ctx.h"

int train_banner_settings(FILE *f, const train_config *c, int all) {
    train_config d;
    train_config_defaults(&d);
    cli_opt dopts[TRAIN_MAX_OPTS];
    cli_cmd dcmd;
    train_cli_bind(&d, dopts, &dcmd);
    int lines = 0;
    /* both tables come from train_cli_bind: the same flags in the same order */
    for (const cli_opt *o = c->cli->opts, *p = dopts; o->name; o++, p++) {
        if (o->type == CLI_STR && !*(const char *const *)o->dest) continue;
        char v[4096], dv[4096];
        cli_format_value(o, v, sizeof v);
        cli_format_value(p, dv, sizeof dv);
        if (!all && (!strcmp(v, dv) || !strcmp(o->name, "data") || !strcmp(o->name, "run"))) continue;
        fprintf(f, "  %s = %s\n", o->name, v);
        lines++;
    }
    return lines;
}

size_t train_banner_config_ini(const train_config *c, long step, char *buf, size_t n) {
    train_config copy = *c;
    cli_opt opts[TRAIN_MAX_OPTS];
    cli_cmd cmd;
    train_cli_bind(&copy, opts, &cmd);
    copy.resume = NULL; /* unset strings are not written; cli_dump_ini skips config */
    int w = snprintf(buf, n, "# The effective settings of run %s, written by 'lyricmind train' at every start\n"
                             "# (this one at step %ld). A job file: lyricmind train --config %s/config.ini\n",
                     c->run, step, c->run);
    size_t len = w > 0 ? (size_t)w : 0;
    return len + cli_dump_ini(&cmd, len < n ? buf + len : NULL, len < n ? n - len : 0);
}

void train_banner_print(const train_ctx *t, long steps_per_epoch, long total_steps) {
    if (t->world.rank != 0) return;
    const train_config *c = t->cfg;
    const io_corpus *k = &t->corpus;
    printf("lyricmind train: %d rank%s x %d thread%s, batch %d per rank = global batch %d streams x %d tokens\n",
           t->world.size, t->world.size == 1 ? "" : "s", c->threads, c->threads == 1 ? "" : "s", t->B, t->G,
           t->T);
    printf("corpus: %s: %llu train / %llu val songs, %llu train / %llu val tokens, V=%d\n", c->data,
           (unsigned long long)k->train.n_songs, (unsigned long long)k->val.n_songs,
           (unsigned long long)k->train.n_tokens, (unsigned long long)k->val.n_tokens, t->dims.V);
    printf("model: E=%d H=%d, %zu parameters (%.1f MB)\n", t->dims.E, t->dims.H, t->model.n_params,
           (double)t->model.n_params * sizeof(float) / (1024.0 * 1024.0));
    printf("run: %s (effective settings in %s/config.ini)\n", c->run, c->run);
    printf("%ld steps per epoch, %ld steps planned\n", steps_per_epoch, total_steps);
    if (!c->quiet) {
        printf("%s:\n", c->verbose ? "settings" : "settings that differ from the defaults (--verbose: all)");
        if (!train_banner_settings(stdout, c, c->verbose)) printf("  (none)\n");
    }
    fflush(stdout);
}

int train_banner_write_config(const train_ctx *t, lm_err *e) {
    char text[20000];
    size_t len = train_banner_config_ini(t->cfg, t->rs.global_step, text, sizeof text);
    char path[8192];
    snprintf(path, sizeof path, "%s/config.ini", t->cfg->run);
    if (len >= sizeof text) return lm_err_set(e, "%s: settings too long", path);
    return io_atomic_write(path, text, len, e);
}
