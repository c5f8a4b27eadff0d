/* test_train_log: every metrics.jsonl record kind train_log writes is one
 * valid JSON object per line, also for a non-finite loss (null), paths and
 * details with quotes, newlines and bytes that are not UTF-8, and the "skip"
 * event that only a non-finite gradient produces in a real run. Segments
 * count the start records already in the file. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train_log.h"

static char dir[] = "/tmp/lm_train_log_XXXXXX";

static void setup(void) { cr_assert(mkdtemp(dir)); }
static void teardown(void) {
    char p[256];
    snprintf(p, sizeof p, "%s/metrics.jsonl", dir);
    unlink(p);
    rmdir(dir);
}
TestSuite(train_log, .init = setup, .fini = teardown);

static void write_segment(const char *ckpt) {
    train_log l;
    char err[256];
    cr_assert_eq(train_log_open(&l, dir, 0, 1, 0, 1.0, 0, err, sizeof err), 0, "%s", err);
    train_log_change ch = {"lr", "0.001", "0.003", "command \"line\"\n"};
    train_start_info s = {.step = 5, .epoch = 0, .step_in_epoch = 5, .ranks = 2, .batch = 4, .global_batch = 8,
                          .checkpoint = ckpt, .n_changes = 1, .changes = &ch};
    train_log_start(&l, &s);
    train_step_info st = {.step = 6, .total_steps = 10, .epochs = 1, .loss = NAN, .lr = 0.001f,
                          .grad_norm = INFINITY, .tokens_per_s = 1234.5, .comm_share = 0.25};
    train_log_step(&l, &st);
    train_log_eval(&l, 6, 0, 6.25, 1080, 1, 0.001f, 0);
    train_log_event(&l, "skip", 6, "non-finite gradient norm; step skipped");
    train_log_event(&l, "checkpoint", 6, "/tmp/a \"b\"\\c\x01\xff.h5");
    train_log_event(&l, "stopped", 6, "SIGINT received");
    train_log_event(&l, "finished", 6, "max steps");
    train_log_close(&l);
}

Test(train_log, every_record_is_valid_json) {
    write_segment(NULL);
    write_segment("/tmp/run/ckpt-000000005.h5");
    char p[256];
    snprintf(p, sizeof p, "%s/metrics.jsonl", dir);
    FILE *f = fopen(p, "r");
    cr_assert(f);
    char line[4096];
    int n = 0;
    static const char *kinds[] = {"start", "train", "eval", "skip", "checkpoint", "stopped", "finished"};
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_assert(o, "line %d not JSON (%s): %s", n + 1, je.text, line);
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *want = n % 7 ? kinds[n % 7] : n ? "resume" : "start";
        cr_assert_str_eq(type, want, "line %d", n + 1);
        cr_assert(json_is_integer(json_object_get(o, "step")));
        cr_assert_eq(json_integer_value(json_object_get(o, "segment")), n / 7 + 1);
        if (!strcmp(type, "train")) {
            cr_assert(json_is_null(json_object_get(o, "loss")) && json_is_null(json_object_get(o, "grad_norm")));
            cr_assert(strstr(line, "\"lr\":0.001,") && strstr(line, "\"comm_share\":0.25,"), "%s", line);
        }
        if (!strcmp(type, "eval"))
            cr_assert(json_is_true(json_object_get(o, "full")) && json_is_false(json_object_get(o, "improved")) &&
                      json_integer_value(json_object_get(o, "tokens")) == 1080, "%s", line);
        if (!strcmp(type, "resume"))
            cr_assert_str_eq(json_string_value(json_object_get(o, "checkpoint")), "/tmp/run/ckpt-000000005.h5");
        json_decref(o);
        n++;
    }
    fclose(f);
    cr_assert_eq(n, 14);
}
