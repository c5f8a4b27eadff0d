/* lm_sys: the clock, peak RSS, CPU count and FNV-1a 64 of lm_sys.h. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "lm_sys.h"

#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double lm_sys_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double lm_sys_peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

int lm_sys_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return lm_sys_online_cpus();
}

int lm_sys_online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

uint64_t lm_sys_fnv1a64(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= LM_SYS_FNV_PRIME;
    }
    return h;
}
