/* train_settings: the resume class of every train setting (the one table
 * below) and the merge of a resumed run's settings with its checkpoint's
 * (see train_settings.h). */
#include "train_settings.h"

#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_ckpt.h"
#include "train_ctx.h"
#include "train_log.h"

/* Every train flag and what a resume may do with it. The schedule kind must
 * match: plateau carries state from evaluations (its current LR, best loss,
 * count) that the other kinds lack, and constant/step/cosine compute the LR
 * from the global step since step 0, so a switch would jump the LR onto a
 * curve the run never followed. Its parameters may change. clip,
 * weight-decay and dropout change the arithmetic of the next steps but not
 * the shapes or the data order, so they may change (reported). */
static const struct {
    const char *name;
    train_set_class cls;
} k_classes[] = {
    {"data", TRAIN_SET_INVOCATION},       {"run", TRAIN_SET_INVOCATION},
    {"config", TRAIN_SET_INVOCATION},     {"resume", TRAIN_SET_INVOCATION},
    {"epochs", TRAIN_SET_MAY_CHANGE},     {"batch-size", TRAIN_SET_GLOBAL_BATCH},
    {"seq-len", TRAIN_SET_MUST_MATCH},    {"embed", TRAIN_SET_MUST_MATCH},
    {"hidden", TRAIN_SET_MUST_MATCH},     {"lr", TRAIN_SET_MAY_CHANGE},
    {"weight-decay", TRAIN_SET_MAY_CHANGE}, {"clip", TRAIN_SET_MAY_CHANGE},
    {"dropout", TRAIN_SET_MAY_CHANGE},    {"lr-schedule", TRAIN_SET_MUST_MATCH},
    {"min-lr", TRAIN_SET_MAY_CHANGE},     {"step-size", TRAIN_SET_MAY_CHANGE},
    {"gamma", TRAIN_SET_MAY_CHANGE},      {"warmup-steps", TRAIN_SET_MAY_CHANGE},
    {"plateau-factor", TRAIN_SET_MAY_CHANGE}, {"plateau-patience", TRAIN_SET_MAY_CHANGE},
    {"plateau-threshold", TRAIN_SET_MAY_CHANGE}, {"patience", TRAIN_SET_MAY_CHANGE},
    {"min-delta", TRAIN_SET_MAY_CHANGE},  {"state", TRAIN_SET_MUST_MATCH},
    {"eval-every", TRAIN_SET_MAY_CHANGE}, {"eval-tokens", TRAIN_SET_MAY_CHANGE},
    {"checkpoint-every", TRAIN_SET_MAY_CHANGE}, {"checkpoint-minutes", TRAIN_SET_MAY_CHANGE},
    {"keep", TRAIN_SET_MAY_CHANGE},       {"max-steps", TRAIN_SET_MAY_CHANGE},
    {"time-limit", TRAIN_SET_MAY_CHANGE}, {"seed", TRAIN_SET_MUST_MATCH},
    {"threads", TRAIN_SET_MAY_CHANGE},    {"log-seconds", TRAIN_SET_MAY_CHANGE},
    {"check-params", TRAIN_SET_MAY_CHANGE}, {"quiet", TRAIN_SET_MAY_CHANGE},
    /* accumulate multiplies the global batch (K windows per step): like it,
     * it must match, and it groups the windows, so a change would move the
     * epoch's step boundaries under a resumed step_in_epoch. */
    {"accumulate", TRAIN_SET_MUST_MATCH},
    /* the wire format rounds the head gradient: arithmetic, like clip */
    {"wire-dtype", TRAIN_SET_MAY_CHANGE},
    /* overlap changes when the head's sum travels, not its bits */
    {"overlap", TRAIN_SET_MAY_CHANGE},
    /* shared memory or messages: where the sum is made, not its bits at
     * 2 ranks (with 3 or more, MPI's own order may differ in the last bit) */
    {"exchange", TRAIN_SET_MAY_CHANGE},
    {"verbose", TRAIN_SET_MAY_CHANGE},
};

int train_settings_class(const char *name, train_set_class *out) {
    for (size_t i = 0; i < sizeof k_classes / sizeof k_classes[0]; i++)
        if (!strcmp(k_classes[i].name, name)) {
            *out = k_classes[i].cls;
            return 0;
        }
    return -1;
}

static void put(char *buf, size_t n, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t n, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(*len < n ? buf + *len : NULL, *len < n ? n - *len : 0, fmt, ap);
    va_end(ap);
    if (w > 0) *len += (size_t)w;
}

/* "  TITLE: a, b, c" wrapped at 88 columns, for the flags of class k (k < 0:
 * flags the table lacks). */
static void describe_class(const cli_cmd *cmd, int k, const char *title, char *buf, size_t n, size_t *len) {
    size_t col = 0;
    int first = 1;
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        train_set_class c;
        int known = train_settings_class(o->name, &c) == 0;
        int mine = k < 0 ? !known : known && (c == (train_set_class)k ||
                                              (k == TRAIN_SET_MUST_MATCH && c == TRAIN_SET_GLOBAL_BATCH));
        if (!mine) continue;
        if (first) {
            put(buf, n, len, "  %s:", title);
            col = strlen(title) + 3;
        } else if (col + strlen(o->name) + 3 > 88) {
            put(buf, n, len, ",\n   ");
            col = 3;
        } else {
            put(buf, n, len, ",");
            col++;
        }
        put(buf, n, len, " %s", o->name);
        col += strlen(o->name) + 1;
        first = 0;
    }
    if (!first) put(buf, n, len, "\n");
}

size_t train_settings_describe(const cli_cmd *cmd, char *buf, size_t n) {
    size_t len = 0;
    put(buf, n, &len, "Resume: settings not given (no flag, not in the job file) keep the checkpoint's values;\n"
                      "given ones are compared with the checkpoint's:\n");
    describe_class(cmd, TRAIN_SET_MAY_CHANGE, "may change (applied, one line each)", buf, n, &len);
    describe_class(cmd, TRAIN_SET_MUST_MATCH, "must match (else exit 2)", buf, n, &len);
    describe_class(cmd, TRAIN_SET_INVOCATION, "not compared", buf, n, &len);
    describe_class(cmd, -1, "unclassified", buf, n, &len);
    put(buf, n, &len, "(batch-size may follow a new rank count if batch-size x ranks stays; the corpus in\n"
                      "--data must be the one the checkpoint was trained on: checked by fingerprint)");
    return len;
}

static void copy_value(cli_opt *to, const cli_opt *from) {
    switch (to->type) {
    case CLI_INT:
    case CLI_BOOL: *(int *)to->dest = *(const int *)from->dest; break;
    case CLI_LONG: *(long *)to->dest = *(const long *)from->dest; break;
    case CLI_FLOAT: *(float *)to->dest = *(const float *)from->dest; break;
    case CLI_DOUBLE: *(double *)to->dest = *(const double *)from->dest; break;
    case CLI_STR: *(const char **)to->dest = *(const char *const *)from->dest; break;
    }
}

/* The checkpoint's "key = value" lines into the table cmd (values point into
 * text). Keys of other versions and out-of-range values keep the default. */
static void parse_settings(cli_cmd *cmd, char *text) {
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *eq = strstr(line, " = "), err[256];
        if (eq) {
            *eq = 0;
            cli_set(cmd, line, eq + 3, err, sizeof err);
        }
        line = next;
    }
}

const char *train_change_source(const train_config *c, const train_change *ch, char *buf, size_t n) {
    if (ch->seen == CLI_SEEN_FILE) snprintf(buf, n, "job file %s", c->config ? c->config : "?");
    else snprintf(buf, n, "%s", ch->seen == CLI_SEEN_FLAG ? "command line" : "ranks");
    return buf;
}

void train_change_line(const train_config *c, const train_change *ch, char *buf, size_t n) {
    char src[4200];
    snprintf(buf, n, "%s: %s (checkpoint) -> %s (%s)", ch->name, ch->from, ch->to,
             train_change_source(c, ch, src, sizeof src));
}

int train_resume_changed(const train_resume *r, const char *name) {
    for (int i = 0; i < r->n_changes; i++)
        if (!strcmp(r->changes[i].name, name)) return 1;
    return 0;
}

static void add_change(train_resume *r, const cli_opt *o, const char *from, const char *to) {
    if (r->n_changes >= TRAIN_MAX_CHANGES) return;
    train_change *ch = &r->changes[r->n_changes++];
    ch->name = o->name;
    snprintf(ch->from, sizeof ch->from, "%s", from);
    snprintf(ch->to, sizeof ch->to, "%s", to);
    ch->seen = o->seen;
}

/* batch-size: given, B x ranks must be the checkpoint's G; not given, B = G / ranks. */
static int merge_batch(cli_opt *o, const char *was, int64_t G, int ranks, const char *path, train_resume *r,
                       lm_err *e) {
    int *B = o->dest;
    if (!o->seen) {
        if (G <= 0 || G % ranks)
            return lm_err_set(e, "%s: the checkpoint's global batch of %lld streams cannot be split over %d ranks; "
                                 "give --batch-size B with B x ranks = %lld", path, (long long)G, ranks, (long long)G);
        *B = (int)(G / ranks);
    } else if ((int64_t)*B * ranks != G) {
        return lm_err_set(e, "%s: --batch-size %d x %d rank%s = global batch %lld does not match the checkpoint's "
                             "global batch %lld (--batch-size %s); a resumed run must keep the global batch", path, *B,
                          ranks, ranks == 1 ? "" : "s", (long long)*B * ranks, (long long)G, was);
    }
    char now[64];
    cli_format_value(o, now, sizeof now);
    if (strcmp(was, now)) add_change(r, o, was, now);
    return 0;
}

int train_settings_merge(train_config *c, char *ckpt_text, int64_t ckpt_G, int ranks, const char *path,
                         train_resume *r, lm_err *e) {
    r->n_changes = 0;
    train_config old;
    train_config_defaults(&old);
    cli_opt oopts[TRAIN_MAX_OPTS];
    cli_cmd ocmd;
    train_cli_bind(&old, oopts, &ocmd);
    parse_settings(&ocmd, ckpt_text);
    for (cli_opt *o = c->cli->opts, *p = oopts; o->name; o++, p++) {
        train_set_class k = TRAIN_SET_MUST_MATCH; /* a flag missing from the table is kept safe */
        train_settings_class(o->name, &k);
        if (k == TRAIN_SET_INVOCATION) continue;
        char was[64], now[64], src[4200];
        cli_format_value(p, was, sizeof was);
        if (k == TRAIN_SET_GLOBAL_BATCH) {
            if (merge_batch(o, was, ckpt_G, ranks, path, r, e)) return -1;
            continue;
        }
        if (!o->seen) {
            copy_value(o, p);
            continue;
        }
        cli_format_value(o, now, sizeof now);
        if (!strcmp(was, now)) continue;
        if (k == TRAIN_SET_MUST_MATCH) {
            train_change ch = {o->name, "", "", o->seen};
            return lm_err_set(e, "%s: --%s %s (%s) does not match the checkpoint's %s; a resumed run must keep it "
                                 "(start a new --run to change it)", path, o->name, now,
                              train_change_source(c, &ch, src, sizeof src), was);
        }
        add_change(r, o, was, now);
    }
    return 0;
}

/* Rank 0: the checkpoint this start will resume from ("" for none; errors
 * about missing or invalid ones are start_state's to report), its settings
 * text and global batch. */
static int probe(const train_config *c, char *path, size_t pn, char *text, size_t tn, int64_t *G, lm_err *e) {
    path[0] = text[0] = 0;
    if (!strcmp(c->resume, "none")) return 0;
    if (!strcmp(c->resume, "auto")) {
        lm_err quiet;
        if (io_ckpt_newest_valid(c->run, path, pn, NULL, NULL, &quiet) != 1) path[0] = 0;
        if (!path[0]) return 0;
    } else {
        snprintf(path, pn, "%s", c->resume);
    }
    io_ckpt ck;
    memset(&ck, 0, sizeof ck);
    if (io_ckpt_open(&ck, path, e)) return -1;
    /* A file that cannot be resumed (e.g. a weights-only export: no /optim,
     * empty /state) has no settings to merge: loading it says why. */
    int rc = 0;
    if (ck.has_optim && io_ckpt_state_find(&ck, "global_batch")) {
        rc = io_ckpt_state_get(&ck, "global_batch", IO_I64, 1, G, e);
        if (!rc && strlen(ck.config) >= tn) rc = lm_err_set(e, "%s: settings text too long", path);
        if (!rc) snprintf(text, tn, "%s", ck.config);
    }
    io_ckpt_close(&ck);
    return rc;
}

typedef struct probe_result {
    int status;
    int64_t G;
    char path[4096];
} probe_result;

/* The checkpoint's settings text; the merged string settings point into it
 * for the rest of the process. */
static char g_ckpt_text[16384];

int train_settings_resume(train_ctx *t, lm_err *e) {
    train_config *c = t->cfg;
    probe_result p;
    memset(&p, 0, sizeof p);
    if (t->world.rank == 0)
        p.status = probe(c, p.path, sizeof p.path, g_ckpt_text, sizeof g_ckpt_text, &p.G, e);
    if (dist_bcast_bytes(&t->world, &p, sizeof p, 0, e) ||
        dist_bcast_bytes(&t->world, g_ckpt_text, sizeof g_ckpt_text, 0, e))
        return -1;
    if (p.status) return t->world.rank == 0 ? -1 : lm_err_set(e, "rank 0 could not read %s", p.path);
    snprintf(t->resume.from, sizeof t->resume.from, "%s", p.path);
    if (!p.path[0] || !g_ckpt_text[0]) return 0; /* fresh start, or a checkpoint without settings */
    if (train_settings_merge(c, g_ckpt_text, p.G, t->world.size, p.path, &t->resume, e)) {
        t->exit_code = LM_EXIT_USAGE;
        return -1;
    }
    cli_dump_ini(c->cli, c->settings, c->settings_cap);
    openblas_set_num_threads(c->threads);
    if (t->world.rank == 0) {
        for (int i = 0; i < t->resume.n_changes; i++) {
            char line[4400];
            train_change_line(c, &t->resume.changes[i], line, sizeof line);
            printf("%s\n", line);
        }
        fflush(stdout);
    }
    return 0;
}

void train_settings_log_start(const train_ctx *t, train_log *lg) {
    const train_resume *r = &t->resume;
    static char src[TRAIN_MAX_CHANGES][4200];
    train_log_change ch[TRAIN_MAX_CHANGES];
    for (int i = 0; i < r->n_changes; i++)
        ch[i] = (train_log_change){r->changes[i].name, r->changes[i].from, r->changes[i].to,
                                   train_change_source(t->cfg, &r->changes[i], src[i], sizeof src[i])};
    train_start_info si = {t->rs.global_step, t->rs.epoch, t->rs.step_in_epoch, t->world.size, t->B, t->G,
                           t->rs.global_step > 0 || r->from[0] ? r->from : NULL, r->n_changes, ch};
    train_log_start(lg, &si);
}
