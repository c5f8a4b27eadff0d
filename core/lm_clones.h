/* lm_clones: how a hot kernel is compiled once per x86-64 level (AVX-512,
 * AVX2 + FMA + F16C, baseline) and dispatched at run time on lm_isa_level(),
 * so one portable binary runs fast on any host and LM_ISA can cap the level
 * (lm_isa.h). Internal to core/ and the bench's roofline probe
 * (jobs/bench/bench_roof.c).
 *
 * Two ways, both plain function calls (no ifunc resolvers, so they also work
 * under the sanitizers):
 * - LM_ISA_CLONES(ret, name, (params), (args)) { body }: for loops the
 *   compiler auto-vectorizes. The body is one always-inline function that is
 *   inlined into three static copies, each compiled with its level's target
 *   attribute, behind a static dispatcher `ret name(params)`. The body must
 *   end in a return (use LM_ISA_CLONES_VOID for void functions).
 * - Hand-written kernels with per-level vector widths (lm_vmath.c,
 *   lm_vgemv.c) include a template header once per level with LM_TGT and W
 *   set, and dispatch with LM_ISA_CALL(fn, (args)), an expression that calls
 *   fn_avx512, fn_avx2 or fn_baseline. */
#ifndef LM_CLONES_H
#define LM_CLONES_H

#include "lm_isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define LM_TARGET_AVX512                                                        \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c," \
                          "prefer-vector-width=512")))
#define LM_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define LM_TARGET_AVX512
#define LM_TARGET_AVX2
#endif
#define LM_TARGET_BASELINE

#define LM_ISA_CALL(fn, args)                                                   \
    (lm_isa_level() == LM_ISA_AVX512 ? fn##_avx512 args                         \
     : lm_isa_level() == LM_ISA_AVX2 ? fn##_avx2 args                           \
                                     : fn##_baseline args)

#define LM_ISA_CLONES_(ret, name, params, args, RET)                            \
    static inline __attribute__((always_inline)) ret name##_body params;       \
    LM_TARGET_AVX512 static ret name##_avx512 params { RET name##_body args; } \
    LM_TARGET_AVX2 static ret name##_avx2 params { RET name##_body args; }     \
    static ret name##_baseline params { RET name##_body args; }                \
    static ret name params { RET LM_ISA_CALL(name, args); }                    \
    static inline __attribute__((always_inline)) ret name##_body params
#define LM_ISA_CLONES(ret, name, params, args) LM_ISA_CLONES_(ret, name, params, args, return)
#define LM_ISA_CLONES_VOID(name, params, args) LM_ISA_CLONES_(void, name, params, args, )

#endif
