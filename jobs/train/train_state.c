/* train_state: the table, pack and unpack of the resumable scalars, all
 * generated from TRAIN_STATE_SCALARS (train_state.h). */
#include "train_state.h"

#include <string.h>

#include "train_ctx.h"

const train_state_field train_state_fields[TRAIN_STATE_N] = {
#define TRAIN_STATE_ROW(name, dtype, ctype, field, value, restore) \
    {name, dtype, offsetof(train_state, field), sizeof(ctype), restore},
    TRAIN_STATE_SCALARS(TRAIN_STATE_ROW)
#undef TRAIN_STATE_ROW
};

void train_state_pack(const train_ctx *t, train_state *s) {
    memset(s, 0, sizeof *s); /* the padding too: the packet is broadcast as bytes */
#define TRAIN_STATE_PACK(name, dtype, ctype, field, value, restore) s->field = (ctype)(value);
    TRAIN_STATE_SCALARS(TRAIN_STATE_PACK)
#undef TRAIN_STATE_PACK
}

void train_state_unpack(train_ctx *t, const train_state *s) {
#define TRAIN_STATE_UNPACK(name, dtype, ctype, field, value, restore) \
    if (restore) value = s->field;
    TRAIN_STATE_SCALARS(TRAIN_STATE_UNPACK)
#undef TRAIN_STATE_UNPACK
}
