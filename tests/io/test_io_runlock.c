/* test_io_runlock: the run lock is exclusive, names its holder, is released
 * (file removed) by io_runlock_release, and a lock file without a live lock
 * (a killed holder's) never blocks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_runlock.h"
#include "io_test_cr.h"

TestSuite(io_runlock, .init = iot_setup, .fini = iot_teardown);

static void read_file(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    size_t len = fread(out, 1, n - 1, f);
    out[len] = 0;
    fclose(f);
}

Test(io_runlock, exclusive_and_names_the_holder) {
    io_runlock a, b;
    lm_err e;
    cr_assert_eq(io_runlock_acquire(&a, iot_dir, &e), IO_RUNLOCK_OK, "%s", e.msg);
    char want[64], text[512];
    snprintf(want, sizeof want, " pid %ld started 20", (long)getpid());
    read_file(a.path, text, sizeof text);
    cr_assert(!strncmp(text, "host ", 5) && strstr(text, want), "holder line: %s", text);
    /* a second open file description conflicts even in the same process */
    cr_assert_eq(io_runlock_acquire(&b, iot_dir, &e), IO_RUNLOCK_BUSY);
    iot_assert_one_line(&e, iot_dir, want);
    cr_assert_eq(b.fd, -1);
    io_runlock_release(&a);
    cr_assert_eq(access(a.path, F_OK), -1, "lock file left after release");
    cr_assert_eq(io_runlock_acquire(&b, iot_dir, &e), IO_RUNLOCK_OK, "%s", e.msg);
    io_runlock_release(&b);
    io_runlock_release(&b); /* no-op when not held */
}

Test(io_runlock, stale_file_does_not_block) {
    char *p = iot_path(iot_dir, IO_RUNLOCK_NAME);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs("host gone pid 1 started 2000-01-01T00:00:00Z\n", f);
    fclose(f);
    io_runlock l;
    lm_err e;
    cr_assert_eq(io_runlock_acquire(&l, iot_dir, &e), IO_RUNLOCK_OK, "%s", e.msg);
    char text[512];
    read_file(p, text, sizeof text);
    cr_assert(!strstr(text, "gone"), "stale holder line kept: %s", text);
    io_runlock_release(&l);
    free(p);
}

Test(io_runlock, missing_directory_is_an_error) {
    char *p = iot_path(iot_dir, "no/such/dir");
    io_runlock l;
    lm_err e;
    cr_assert_eq(io_runlock_acquire(&l, p, &e), IO_RUNLOCK_ERROR);
    iot_assert_one_line(&e, p, "cannot open the run lock");
    free(p);
}
