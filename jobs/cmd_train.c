/* cmd_train: 'lyricmind train' (placeholder until its issue lands). */
#include "cmds.h"

int cmd_train(int argc, char **argv) {
    return cmd_not_implemented("train", "[options]", "Not implemented yet.", argc, argv);
}
