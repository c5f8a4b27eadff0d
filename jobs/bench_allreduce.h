/* bench_allreduce: 'lyricmind bench allreduce' (jobs/bench_allreduce.c):
 * times the per-step gradient exchange and fits the ring-allreduce model. */
#ifndef BENCH_ALLREDUCE_H
#define BENCH_ALLREDUCE_H

/* argv[0] is "allreduce"; returns the exit code. Collective under MPI. */
int bench_allreduce_main(int argc, char **argv);

#endif
