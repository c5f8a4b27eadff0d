/* cmd_inspect: 'lyricmind inspect' (placeholder until its issue lands). */
#include "cmds.h"

int cmd_inspect(int argc, char **argv) {
    return cmd_not_implemented("inspect", "[options]", "Not implemented yet.", argc, argv);
}
