/* cmd_bench: 'lyricmind bench' (placeholder until its issue lands). */
#include "cmds.h"

int cmd_bench(int argc, char **argv) {
    return cmd_not_implemented("bench", "[options]", "Not implemented yet.", argc, argv);
}
