/* bench: benchmark entry points behind 'lyricmind bench <what>'.
 * cmd_bench.c parses the first argument and dispatches here. */
#ifndef BENCH_H
#define BENCH_H

/* 'lyricmind bench preprocess': preprocess a corpus and print throughput. */
int bench_preprocess_main(int argc, char **argv);

#endif
