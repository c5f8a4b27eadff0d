/* cmd_generate: 'lyricmind generate' (placeholder until its issue lands). */
#include "cmds.h"

int cmd_generate(int argc, char **argv) {
    return cmd_not_implemented("generate", "[options]", "Not implemented yet.", argc, argv);
}
