/* cmd_preprocess: 'lyricmind preprocess' (placeholder until its issue lands). */
#include "cmds.h"

int cmd_preprocess(int argc, char **argv) {
    return cmd_not_implemented("preprocess", "[options]", "Not implemented yet.", argc, argv);
}
