/* lm_sys: the clock, peak RSS and FNV-1a 64 of lm_sys.h. */
#include "lm_sys.h"

#include <sys/resource.h>
#include <time.h>

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

uint64_t lm_sys_fnv1a64(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= LM_SYS_FNV_PRIME;
    }
    return h;
}
