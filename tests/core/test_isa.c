/* lm_isa: the run-time level cap. ctest runs this binary with LM_ISA unset
 * (empty), avx512, avx2 and baseline; each run checks that the kernels run
 * at min(host level, cap), and the parse/refusal rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lm_isa.h"
#include "lm_vmath.h"

Test(isa, names_parse_back_and_unknown_names_are_refused) {
    for (int l = LM_ISA_BASELINE; l <= LM_ISA_AVX512; l++) {
        lm_isa back;
        cr_assert_eq(lm_isa_parse(lm_isa_name((lm_isa)l), &back), 0);
        cr_assert_eq((int)back, l);
    }
    lm_isa x = LM_ISA_AVX2;
    cr_expect_eq(lm_isa_parse("avx3", &x), -1);
    cr_expect_eq(lm_isa_parse("AVX2", &x), -1);
    cr_expect_eq(lm_isa_parse(NULL, &x), -1);
    cr_expect_eq(x, LM_ISA_AVX2, "a refused name leaves *out alone");
}

Test(isa, level_is_the_host_level_capped_by_LM_ISA) {
    const char *env = getenv("LM_ISA");
    lm_isa cap = LM_ISA_AVX512, host = lm_isa_host();
    if (env && *env) cr_assert_eq(lm_isa_parse(env, &cap), 0, "ctest passes a valid LM_ISA");
    lm_isa want = cap < host ? cap : host;
    cr_assert_eq(lm_isa_level(), want, "LM_ISA=%s host %s: level %s, want %s", env ? env : "",
                 lm_isa_name(host), lm_isa_name(lm_isa_level()), lm_isa_name(want));
    cr_assert_eq(lm_isa_level(), want, "the level does not change once decided");
    /* the fp16 head needs F16C, i.e. the AVX2 level or above */
    cr_expect_eq(lm_vf16_supported(), want >= LM_ISA_AVX2);
}

Test(isa, a_misspelt_cap_is_refused_with_the_variable_named) {
    lm_err e = {{0}};
    setenv("LM_ISA", "avx-512", 1);
    cr_assert_eq(lm_isa_check_env(&e), -1);
    cr_expect(strstr(e.msg, "LM_ISA=avx-512") && strstr(e.msg, "unknown level"), "%s", e.msg);
    setenv("LM_ISA", "baseline", 1);
    cr_expect_eq(lm_isa_check_env(&e), 0);
    setenv("LM_ISA", "", 1);
    cr_expect_eq(lm_isa_check_env(&e), 0, "empty means no cap");
    unsetenv("LM_ISA");
    cr_expect_eq(lm_isa_check_env(&e), 0);
}
