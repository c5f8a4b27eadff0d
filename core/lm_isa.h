/* lm_isa: the one place that decides which x86-64 level the hot kernels run
 * at (AVX-512, AVX2 + FMA + F16C, or baseline SSE2), so every path can be
 * run, tested and timed on any host.
 *
 * The level is the host's best, capped by the environment variable
 * LM_ISA=avx512|avx2|baseline (a cap above the host's level changes
 * nothing; unset or empty means no cap). It is decided once, at the first call, and never changes for the
 * life of the process: results are a function of the inputs, the level and
 * (where a function says so) the thread count. Kernels dispatch through
 * LM_ISA_DISPATCH (lm_clones.h), which calls lm_isa_level(). */
#ifndef LM_ISA_H
#define LM_ISA_H

#include "lm_err.h"

typedef enum {
    LM_ISA_BASELINE = 0, /* x86-64 SSE2 (or any non-x86 host) */
    LM_ISA_AVX2 = 1,     /* AVX2 + FMA + F16C */
    LM_ISA_AVX512 = 2,   /* AVX-512 F + BW + DQ + VL, with FMA + F16C */
} lm_isa;

/* The level the kernels run at: min(host level, LM_ISA cap). Thread-safe:
 * the first callers may race to compute it, and all store the same value. */
lm_isa lm_isa_level(void);
/* The best level this CPU (and this build) supports, ignoring LM_ISA. */
lm_isa lm_isa_host(void);
/* "avx512", "avx2" or "baseline". */
const char *lm_isa_name(lm_isa l);
/* Parses a level name as above; 0 on success, -1 if the name is unknown. */
int lm_isa_parse(const char *s, lm_isa *out);
/* Checks LM_ISA in the environment: 0 if unset or valid, else an lm_err
 * naming the variable and its value (lm_isa_level() then ignores it). Jobs
 * call it once at start-up to refuse a misspelt cap. */
int lm_isa_check_env(lm_err *e);

#endif
