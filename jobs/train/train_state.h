/* train_state: the resumable scalars of a training process, defined once.
 * TRAIN_STATE_SCALARS is the one list: each line is a checkpoint /state
 * array (a scalar), its dtype, the packet field that carries it and the
 * train_ctx value it is taken from and restored to. From it follow the
 * packet (train_state, what rank 0 reads and broadcasts as one unit), the
 * table (train_state_fields: save and load loop over it; the test
 * tests/train/test_train_state.c checks docs/formats.md against it), and
 * pack / unpack. Adding a resumable value means one line here (and its
 * field in train_ctx.h's resumable block, whose size the test checks).
 * The order is the order of the arrays in the file; /state's checksum is
 * over the names in byte order (docs/formats.md), so it does not depend on it.
 *
 * Not in the list: the LSTM states lstm.h, lstm.c [G,H] and the corpus
 * fingerprint (arrays, train_ckpt.c), and Adam's step (an /optim attribute,
 * io_ckpt_read_optim). restore: 1 taken back on load; 0 the value is the
 * run's shape (global batch, sequence length, state mode): a load checks
 * it against this run instead (train_ckpt.c). */
#ifndef TRAIN_STATE_H
#define TRAIN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "io_ckpt.h"

/* X(name in /state, IO dtype, C type, packet field, train_ctx value (t->...), restore) */
#define TRAIN_STATE_SCALARS(X)                                                  \
    X("epoch", IO_I64, int64_t, epoch, t->rs.epoch, 1)                          \
    X("step_in_epoch", IO_I64, int64_t, step_in_epoch, t->rs.step_in_epoch, 1)  \
    X("global_step", IO_I64, int64_t, global_step, t->rs.global_step, 1)        \
    X("seed", IO_U64, uint64_t, seed, t->rs.seed, 1)                            \
    X("global_batch", IO_I64, int64_t, global_batch, t->G, 0)                   \
    X("seq_len", IO_I64, int64_t, seq_len, t->T, 0)                             \
    X("state_mode", IO_I64, int64_t, state_mode, t->rs.state_mode, 0)           \
    X("lr", IO_F32, float, lr, t->rs.lr, 1)                                     \
    X("sched.cur_lr", IO_F32, float, sched_cur_lr, t->sched.cur_lr, 1)          \
    X("sched.best", IO_F32, float, sched_best, t->sched.best, 1)                \
    X("sched.bad_evals", IO_I64, int64_t, sched_bad_evals, t->sched.bad_evals, 1) \
    X("early_stop.best", IO_F32, float, es_best, t->es.best, 1)                 \
    X("early_stop.bad_evals", IO_I64, int64_t, es_bad_evals, t->es.bad_evals, 1) \
    X("best_val_loss", IO_F64, double, best_val_loss, t->rs.best_val, 1)

/* The packet: one field per line of the list, in its order. */
typedef struct train_state {
#define TRAIN_STATE_FIELD(name, dtype, ctype, field, value, restore) ctype field;
    TRAIN_STATE_SCALARS(TRAIN_STATE_FIELD)
#undef TRAIN_STATE_FIELD
} train_state;

typedef struct train_state_field {
    const char *name;  /* the /state array */
    io_dtype dtype;
    size_t offset, size; /* of its field in train_state */
    int restore;
} train_state_field;

#define TRAIN_STATE_ONE(name, dtype, ctype, field, value, restore) +1
enum { TRAIN_STATE_N = 0 TRAIN_STATE_SCALARS(TRAIN_STATE_ONE) }; /* lines of the list */
#undef TRAIN_STATE_ONE
extern const train_state_field train_state_fields[TRAIN_STATE_N];

struct train_ctx;
/* t's values into s (every field; padding zeroed) and back (restore ones). */
void train_state_pack(const struct train_ctx *t, train_state *s);
void train_state_unpack(struct train_ctx *t, const train_state *s);

#endif
