/* bench_preprocess: placeholder until the preprocess benchmark lands. */
#include "bench.h"
#include "cmds.h"

int bench_corpus_main(int argc, char **argv) {
    return cmd_not_implemented("bench corpus", "[options]", "Not implemented yet.", argc, argv);
}

int bench_preprocess_main(int argc, char **argv) {
    return cmd_not_implemented("bench preprocess", "[options]", "Not implemented yet.", argc, argv);
}
