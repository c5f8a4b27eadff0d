/* test_train_state: the resumable scalars are listed once
 * (TRAIN_STATE_SCALARS, jobs/train/train_state.h). These tests fail when a
 * field is added to train_ctx's resumable block (struct train_resumable)
 * but not to the list, when the table and the packet disagree, when pack
 * and unpack lose a value, and when docs/formats.md's /state table is not
 * the list. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_ctx.h"
#include "train_state.h"

static train_ctx ctx;

/* Every byte of t->rs is one list value's, and no byte is two values':
 * struct train_resumable has no padding, so a new field is bytes that no
 * line of the list covers. */
Test(train_state, every_resumable_field_is_in_the_list) {
    train_ctx *t = &ctx;
    unsigned char cover[sizeof t->rs];
    memset(cover, 0, sizeof cover);
    const char *lo = (const char *)&t->rs, *hi = lo + sizeof t->rs;
#define COVER(name, dtype, ctype, field, value, restore)                                       \
    do {                                                                                      \
        const char *at = (const char *)&(value);                                              \
        if (at >= lo && at < hi)                                                              \
            for (size_t i = 0; i < sizeof(value); i++) {                                      \
                cr_assert_eq(cover[at - lo + i], 0, "%s overlaps another value", name);       \
                cover[at - lo + i] = 1;                                                       \
            }                                                                                 \
    } while (0);
    TRAIN_STATE_SCALARS(COVER)
#undef COVER
    for (size_t i = 0; i < sizeof cover; i++)
        cr_assert_eq(cover[i], 1, "byte %zu of train_ctx.rs (struct train_resumable) is in no line of "
                                  "TRAIN_STATE_SCALARS: a resumable field that checkpoints would not save", i);
}

static size_t dtype_size(io_dtype d) { return d == IO_F32 ? 4 : 8; }

Test(train_state, table_is_the_packet) {
    size_t end = 0;
    for (size_t i = 0; i < TRAIN_STATE_N; i++) {
        const train_state_field *f = &train_state_fields[i];
        cr_assert_eq(f->size, dtype_size(f->dtype), "%s: C type and dtype differ in size", f->name);
        cr_assert_geq(f->offset, end, "%s: fields out of order", f->name);
        end = f->offset + f->size;
        for (size_t j = 0; j < i; j++) cr_assert_str_neq(f->name, train_state_fields[j].name);
    }
    cr_assert_leq(end, sizeof(train_state));
}

/* Distinct values through pack, unpack into a zeroed context: the restored
 * ones come back, the run's shape (G, T, state mode) is left alone. */
Test(train_state, pack_unpack_round_trip) {
    train_ctx a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.rs = (struct train_resumable){3, 17, 420, 0x123456789abcdefULL, 4.25, 0.002f, 1};
    a.G = 16, a.T = 30;
    a.sched.cur_lr = 0.0005f, a.sched.best = 5.5f, a.sched.bad_evals = 2;
    a.es.best = 5.25f, a.es.bad_evals = 1;
    train_state s;
    train_state_pack(&a, &s);
    cr_assert_eq(s.global_batch, 16);
    cr_assert_eq(s.seq_len, 30);
    cr_assert_eq(s.state_mode, 1);
    train_state_unpack(&b, &s);
    cr_assert_eq(b.rs.epoch, 3);
    cr_assert_eq(b.rs.step_in_epoch, 17);
    cr_assert_eq(b.rs.global_step, 420);
    cr_assert_eq(b.rs.seed, 0x123456789abcdefULL);
    cr_assert_eq(b.rs.best_val, 4.25);
    cr_assert_eq(b.rs.lr, 0.002f);
    cr_assert_eq(b.sched.cur_lr, 0.0005f);
    cr_assert_eq(b.sched.best, 5.5f);
    cr_assert_eq(b.sched.bad_evals, 2);
    cr_assert_eq(b.es.best, 5.25f);
    cr_assert_eq(b.es.bad_evals, 1);
    cr_assert_eq(b.G, 0);
    cr_assert_eq(b.T, 0);
    cr_assert_eq(b.rs.state_mode, 0);
}

/* docs/formats.md's "| `/state` array |" table: the list's scalars in its
 * order, then the arrays train_ckpt.c adds. */
Test(train_state, docs_list_the_table) {
    static const char *const arrays[] = {"lstm.h", "lstm.c", "corpus.fingerprint", "corpus.train", "corpus.val"};
    static const char *const types[] = {[IO_I64] = "int64", [IO_U64] = "uint64", [IO_F32] = "float32",
                                        [IO_F64] = "float64"};
    FILE *f = fopen(LM_TEST_SOURCE_DIR "/docs/formats.md", "r");
    cr_assert_not_null(f);
    char line[4096];
    int in_table = 0;
    size_t row = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "| `/state` array |", 18)) in_table = 1;
        else if (in_table && line[0] != '|') break;
        else if (in_table && strncmp(line, "| `", 3) == 0) {
            char *cell = line + 2, *bar = strstr(cell, " | "), *type = bar + 3, *end = strstr(type, " |");
            cr_assert(bar && end, "bad row: %s", line);
            *bar = *end = 0;
            for (char *q = strchr(cell, '`'); q; q = strchr(q + 1, '`')) { /* each `name` of the first cell */
                char *name = q + 1;
                q = strchr(name, '`');
                cr_assert_not_null(q);
                *q = 0;
                if (row < TRAIN_STATE_N) {
                    const train_state_field *fd = &train_state_fields[row];
                    char want[64];
                    snprintf(want, sizeof want, "%s scalar", types[fd->dtype]);
                    cr_assert_str_eq(name, fd->name, "docs/formats.md /state row %zu", row + 1);
                    cr_assert_str_eq(type, want, "docs/formats.md /state row %s", name);
                } else {
                    cr_assert_lt(row - TRAIN_STATE_N, sizeof arrays / sizeof arrays[0], "extra row %s", name);
                    cr_assert_str_eq(name, arrays[row - TRAIN_STATE_N]);
                }
                row++;
            }
        }
    }
    fclose(f);
    cr_assert_eq(row, TRAIN_STATE_N + sizeof arrays / sizeof arrays[0], "docs/formats.md lists %zu /state arrays",
                 row);
}
