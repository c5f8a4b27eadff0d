/* lm_isa: the run-time ISA level of the kernels (see lm_isa.h).
 *
 * The level is cached in one atomic int after the first call: a lazily
 * initialised value that every thread computes identically from the CPU and
 * the environment, so a race between first callers is benign and the value
 * is read-only afterwards. This is the only mutable state of core/. */
#include "lm_isa.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[] = {"baseline", "avx2", "avx512"};

const char *lm_isa_name(lm_isa l) {
    return (unsigned)l <= LM_ISA_AVX512 ? NAMES[l] : "unknown";
}

int lm_isa_parse(const char *s, lm_isa *out) {
    for (int l = LM_ISA_BASELINE; l <= LM_ISA_AVX512; l++)
        if (s && !strcmp(s, NAMES[l])) {
            *out = (lm_isa)l;
            return 0;
        }
    return -1;
}

lm_isa lm_isa_host(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return v4 ? LM_ISA_AVX512 : v3 ? LM_ISA_AVX2 : LM_ISA_BASELINE;
#else
    return LM_ISA_BASELINE;
#endif
}

int lm_isa_check_env(lm_err *e) {
    const char *s = getenv("LM_ISA");
    lm_isa l;
    if (s && *s && lm_isa_parse(s, &l))
        return lm_err_set(e, "LM_ISA=%s: unknown level (use avx512, avx2 or baseline)", s);
    return 0;
}

static lm_isa decide(void) {
    lm_isa host = lm_isa_host(), cap;
    if (lm_isa_parse(getenv("LM_ISA"), &cap)) cap = LM_ISA_AVX512;
    return cap < host ? cap : host;
}

lm_isa lm_isa_level(void) {
    static atomic_int cached = -1;
    int l = atomic_load_explicit(&cached, memory_order_relaxed);
    if (l < 0) {
        l = (int)decide();
        atomic_store_explicit(&cached, l, memory_order_relaxed);
    }
    return (lm_isa)l;
}
