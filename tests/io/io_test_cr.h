/* io_test_cr: Criterion helpers shared by the io unit tests: a fresh temp
 * directory per test (iot_dir, made by iot_setup, removed by iot_teardown),
 * the check that an error is one line naming the file, and attribute
 * surgery. */
#ifndef IO_TEST_CR_H
#define IO_TEST_CR_H

#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "io_test_util.h"

static char *iot_dir;

static inline void iot_setup(void) {
    iot_dir = iot_tmpdir();
    cr_assert(iot_dir);
}

static inline void iot_teardown(void) {
    iot_system("rm -rf '%s'", iot_dir);
    free(iot_dir);
}

static inline void iot_assert_one_line(const lm_err *e, const char *path, const char *what) {
    cr_assert(strstr(e->msg, path), "error does not name the file: %s", e->msg);
    cr_assert(strstr(e->msg, what), "error lacks '%s': %s", what, e->msg);
    cr_assert(!strchr(e->msg, '\n'), "error is not one line: %s", e->msg);
}

/* Overwrites the existing scalar root attribute `name` of file p with *v
 * (memory type `type`), as damage from outside would. */
static inline void iot_set_attr(const char *p, const char *name, hid_t type, const void *v) {
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    cr_assert_geq(a, 0);
    H5Awrite(a, type, v);
    H5Aclose(a);
    H5Fclose(f);
}

/* Writes the fixture vocabulary (iot_make_vocab) to iot_dir/name; fills v
 * (free with io_vocab_free) and returns the path (free it). */
static inline char *iot_vocab_file(const char *name, io_vocab *v) {
    iot_make_vocab(v);
    char *p = iot_path(iot_dir, name);
    lm_err e;
    cr_assert_eq(io_vocab_write(p, v, &e), 0, "%s", e.msg);
    return p;
}

#endif
