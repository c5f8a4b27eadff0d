/* lm_sys: small system idioms every room uses, in one place so that every
 * copy gives the same numbers: a monotonic clock, the process's peak
 * resident set, the CPUs it may run on, and FNV-1a 64 (the checksum of checkpoints, shard indexes,
 * vocabularies and the ranks' agreement checks). No state, no I/O. */
#ifndef LM_SYS_H
#define LM_SYS_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on CLOCK_MONOTONIC (an arbitrary origin: only differences mean
 * anything), tv_sec + 1e-9 * tv_nsec. */
double lm_sys_now(void);

/* The process's peak resident set in MiB so far: getrusage(RUSAGE_SELF)
 * ru_maxrss (kilobytes on Linux) / 1024; it counts every thread. */
double lm_sys_peak_rss_mb(void);

/* The CPUs this process may run on: its affinity mask's count
 * (sched_getaffinity: what mpirun/srun binding or taskset left it), else
 * the online CPUs; at least 1. */
int lm_sys_cpus(void);
/* The host's online CPUs (sysconf _SC_NPROCESSORS_ONLN); at least 1. */
int lm_sys_online_cpus(void);

/* FNV-1a 64 continued from h over len bytes of data: start with
 * LM_SYS_FNV_OFFSET; feeding a buffer in pieces gives the hash of the whole. */
#define LM_SYS_FNV_OFFSET 0xcbf29ce484222325ULL
#define LM_SYS_FNV_PRIME 0x100000001b3ULL
uint64_t lm_sys_fnv1a64(uint64_t h, const void *data, size_t len);

#endif
