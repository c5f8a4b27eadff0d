/* cmd_eval: 'lyricmind eval' (placeholder until its issue lands). */
#include "cmds.h"

int cmd_eval(int argc, char **argv) {
    return cmd_not_implemented("eval", "[options]", "Not implemented yet.", argc, argv);
}
