/* lm_sys: FNV-1a 64 against the published test vectors (and fed in pieces),
 * the monotonic clock, the peak RSS high-water mark, and the CPU counts. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm_sys.h"

static uint64_t fnv(const char *s) { return lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, s, strlen(s)); }

/* From the FNV reference (draft-eastlake-fnv, test vectors for FNV-1a 64). */
Test(sys, fnv1a64_known_answers) {
    cr_expect_eq(fnv(""), 0xcbf29ce484222325ULL);
    cr_expect_eq(fnv("a"), 0xaf63dc4c8601ec8cULL);
    cr_expect_eq(fnv("foobar"), 0x85944171f73967e8ULL);
    cr_expect_eq(fnv("chongo was here!\n"), 0x46810940eff5f915ULL);
}

Test(sys, fnv1a64_in_pieces_is_the_hash_of_the_whole) {
    const char *s = "chongo was here!\n";
    size_t n = strlen(s);
    uint64_t h = LM_SYS_FNV_OFFSET;
    for (size_t i = 0; i < n; i += 3) h = lm_sys_fnv1a64(h, s + i, n - i < 3 ? n - i : 3);
    cr_expect_eq(h, fnv(s));
    cr_expect_eq(lm_sys_fnv1a64(h, s, 0), h);
}

Test(sys, clock_is_monotonic_and_advances) {
    double t0 = lm_sys_now(), prev = t0;
    for (int i = 0; i < 1000; i++) {
        double t = lm_sys_now();
        cr_assert_geq(t, prev);
        prev = t;
    }
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    cr_expect_geq(lm_sys_now() - t0, 0.019, "20 ms sleep measured as %g s", lm_sys_now() - t0);
}

/* Touching 64 MiB more than the process ever held raises the high-water
 * mark by about that much (the bound leaves 8 MiB for the allocator). */
Test(sys, peak_rss_counts_touched_memory) {
    double before = lm_sys_peak_rss_mb();
    cr_assert_gt(before, 0.0);
    size_t n = (size_t)(before + 64) << 20;
    char *p = malloc(n);
    cr_assert_not_null(p);
    memset(p, 1, n);
    double after = lm_sys_peak_rss_mb();
    cr_expect_geq(after, before + 56, "peak RSS %g MiB -> %g MiB after touching %zu MiB", before, after, n >> 20);
    free(p);
    cr_expect_geq(lm_sys_peak_rss_mb(), after, "a high-water mark never falls");
}

/* lm_sys_cpus follows the affinity mask (each test runs in its own
 * process, so narrowing it here touches no other test). */
Test(sys, cpus_follow_the_affinity_mask) {
    int online = lm_sys_online_cpus(), all = lm_sys_cpus();
    cr_assert_geq(online, 1);
    cr_assert(all >= 1 && all <= online, "%d CPUs of %d online", all, online);
    cpu_set_t one;
    CPU_ZERO(&one);
    cr_assert_eq(sched_getaffinity(0, sizeof one, &one), 0);
    int first = 0;
    while (!CPU_ISSET(first, &one)) first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0);
    cr_expect_eq(lm_sys_cpus(), 1);
    cr_expect_eq(lm_sys_online_cpus(), online);
}
