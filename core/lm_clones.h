/* lm_clones: LM_CLONES, the attribute that compiles a hot kernel once per
 * x86-64 level (AVX-512, AVX2, baseline) and picks one at load time, so one
 * Debian binary runs fast on any x86-64 host. Internal to core/.
 * GCC only; off under AddressSanitizer, because the ifunc resolvers run
 * before the sanitizer's runtime is up. */
#ifndef LM_CLONES_H
#define LM_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define LM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LM_CLONES
#endif

#endif
