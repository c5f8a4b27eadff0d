/* plot_data: RUN/metrics.jsonl -> curves (see plot_data.h). */
#include "plot_data.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_ckpt.h"

static double num(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static long inum(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

static int push(plot_point **a, size_t *n, const plot_point *p) {
    if ((*n & (*n - 1)) == 0) { /* n is 0 or a power of two: double the capacity */
        plot_point *b = realloc(*a, (*n ? 2 * *n : 1) * sizeof *b);
        if (!b) return -1;
        *a = b;
    }
    (*a)[(*n)++] = *p;
    return 0;
}

/* Drops points at or after step (a resumed run supersedes them). */
static void cut(plot_point *a, size_t *n, long step) {
    while (*n && a[*n - 1].step >= step) (*n)--;
}

static int mark_resume(plot_run *r, long step) {
    cut(r->train, &r->n_train, step + 1);
    cut(r->eval, &r->n_eval, step + 1);
    while (r->n_resumes && r->resumes[r->n_resumes - 1] >= step) r->n_resumes--;
    long *b = realloc(r->resumes, (r->n_resumes + 1) * sizeof *b);
    if (!b) return -1;
    r->resumes = b;
    r->resumes[r->n_resumes++] = step;
    return 0;
}

static int keep_final(plot_run *r, const char *line) {
    free(r->final_line);
    r->final_line = strdup(line);
    if (r->final_line) r->final_line[strcspn(r->final_line, "\r\n")] = 0;
    return r->final_line ? 0 : -1;
}

static int add_record(plot_run *r, json_t *o, const char *line, long *gt) {
    const char *type = json_string_value(json_object_get(o, "type"));
    json_t *js = json_object_get(o, "step");
    if (!type || !json_is_integer(js)) return 1;
    long step = (long)json_integer_value(js);
    double g = num(o, "global_batch"), t = num(o, "seq_len");
    if (g > 0 && t > 0) *gt = (long)g * (long)t, r->global_batch = (long)g, r->seq_len = (long)t;
    if (!strcmp(type, "finished") || !strcmp(type, "stopped")) return keep_final(r, line);
    long k = (!strcmp(type, "start") || !strcmp(type, "resume")) ? inum(o, "ranks") : 0;
    if (k > 0) {
        if (r->ranks && r->ranks != k) r->ranks_changed = 1;
        r->ranks = (int)k;
    }
    if (!strcmp(type, "resume") || (!strcmp(type, "start") && step > 0)) return mark_resume(r, step);
    plot_point p = {step, inum(o, "epoch"), NAN, NAN, NAN, NAN, NAN, NAN};
    if (!strcmp(type, "train")) {
        if (r->n_train && step <= r->train[r->n_train - 1].step && mark_resume(r, step - 1)) return -1;
        p.loss = num(o, "loss"), p.lr = num(o, "lr"), p.tokens_per_s = num(o, "tokens_per_s");
        p.comm_share = num(o, "comm_share"), p.grad_norm = num(o, "grad_norm");
        return push(&r->train, &r->n_train, &p);
    }
    if (!strcmp(type, "eval")) {
        cut(r->eval, &r->n_eval, step); /* a re-run evaluation of the same step replaces it */
        p.val_loss = num(o, "val_loss"), p.lr = num(o, "lr");
        return push(&r->eval, &r->n_eval, &p);
    }
    return 0; /* checkpoint, finished, ... and kinds added later */
}

static int read_metrics(plot_run *r, const char *path, long *gt, lm_err *e) {
    FILE *f = fopen(path, "r");
    if (!f) return lm_err_set(e, "%s: cannot open: %s (is %s a run directory of 'lyricmind train'?)", path,
                              strerror(errno), r->dir);
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!rc && getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        int a = json_is_object(o) ? add_record(r, o, line, gt) : 1;
        if (a < 0) rc = lm_err_set(e, "%s: out of memory", path);
        if (a > 0) r->n_skipped++;
        json_decref(o);
    }
    if (!rc && ferror(f)) rc = lm_err_set(e, "%s: read error: %s", path, strerror(errno));
    free(line);
    fclose(f);
    if (!rc && r->n_train == 0) rc = lm_err_set(e, "%s: no training steps recorded yet (empty run)", path);
    return rc;
}

/* G x T and the settings of the newest ckpt-N.h5 (else best.h5), if any. */
static void read_newest_ckpt(plot_run *r, long *gt) {
    int64_t *steps = NULL;
    size_t n = 0;
    lm_err e;
    if (io_ckpt_list(r->dir, &steps, &n, &e) == 0 && n) io_ckpt_path(r->ckpt, sizeof r->ckpt, r->dir, steps[n - 1]);
    else snprintf(r->ckpt, sizeof r->ckpt, "%s/%s", r->dir, IO_CKPT_BEST);
    free(steps);
    io_ckpt ck;
    if (io_ckpt_open(&ck, r->ckpt, &e)) {
        r->ckpt[0] = 0;
        return;
    }
    int64_t g = 0, t = 0;
    if (!io_ckpt_state_get(&ck, "global_batch", IO_I64, 1, &g, &e) &&
        !io_ckpt_state_get(&ck, "seq_len", IO_I64, 1, &t, &e) && g > 0 && t > 0)
        *gt = (long)(g * t), r->global_batch = (long)g, r->seq_len = (long)t;
    /* with --accumulate K a step trains K windows of every stream */
    const char *acc = ck.config ? strstr(ck.config, "\naccumulate = ") : NULL;
    long k = acc ? strtol(acc + strlen("\naccumulate = "), NULL, 10) : 1;
    if (k > 1) *gt *= k;
    r->config = strdup(ck.config ? ck.config : "");
    io_ckpt_close(&ck);
}

int plot_run_load(plot_run *r, const char *dir, lm_err *e) {
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    size_t len = strlen(r->dir);
    while (len > 1 && r->dir[len - 1] == '/') r->dir[--len] = 0;
    const char *slash = strrchr(r->dir, '/');
    snprintf(r->name, sizeof r->name, "%s", slash ? slash + 1 : r->dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", r->dir);
    long gt_rec = 0, gt_ck = 0;
    if (read_metrics(r, path, &gt_rec, e)) {
        plot_run_free(r);
        return -1;
    }
    read_newest_ckpt(r, &gt_ck);
    r->tokens_per_step = gt_ck ? gt_ck : gt_rec;
    return 0;
}

void plot_run_free(plot_run *r) {
    free(r->train), free(r->eval), free(r->resumes), free(r->config), free(r->final_line);
    r->train = r->eval = NULL, r->resumes = NULL, r->config = r->final_line = NULL;
    r->n_train = r->n_eval = r->n_resumes = 0;
}

double plot_run_x(const plot_run *r, long step) {
    return r->tokens_per_step ? (double)step * (double)r->tokens_per_step : (double)step;
}

/* A CSV cell: the value with enough digits to round-trip, or empty. */
static void cell(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, ",%.9g", v);
    else fputc(',', f);
}

static void csv_name(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const plot_run *r, const char *kind, const plot_point *p, int train) {
    csv_name(f, r->name);
    fprintf(f, ",%s,%ld,", kind, p->step);
    if (p->epoch >= 0) fprintf(f, "%ld", p->epoch);
    if (r->tokens_per_step) fprintf(f, ",%.0f", plot_run_x(r, p->step));
    else fputc(',', f);
    cell(f, train ? p->loss : NAN), cell(f, train ? exp(p->loss) : NAN), cell(f, p->lr);
    cell(f, train ? p->grad_norm : NAN), cell(f, train ? p->tokens_per_s : NAN);
    cell(f, train ? p->comm_share : NAN), cell(f, train ? NAN : p->val_loss);
    cell(f, train ? NAN : exp(p->val_loss));
    fputc('\n', f);
}

void plot_write_csv(FILE *f, const plot_run *runs, size_t n) {
    fprintf(f, "run,kind,step,epoch,tokens,loss,ppl,lr,grad_norm,tokens_per_s,comm_share,val_loss,val_ppl\n");
    for (size_t i = 0; i < n; i++) {
        const plot_run *r = &runs[i];
        for (size_t k = 0; k < r->n_train; k++) csv_row(f, r, "train", &r->train[k], 1);
        for (size_t k = 0; k < r->n_eval; k++) csv_row(f, r, "eval", &r->eval[k], 0);
        for (size_t k = 0; k < r->n_resumes; k++) {
            plot_point p = {r->resumes[k], -1, NAN, NAN, NAN, NAN, NAN, NAN};
            csv_row(f, r, "resume", &p, 0);
        }
    }
}
