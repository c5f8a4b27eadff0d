/* bench_roof: FMA peak and triad bandwidth of this host (see bench_roof.h).
 * The peak kernels are compiled once per ISA level with that level's
 * register count in mind (accumulator chains that fill the register file
 * less two: 24 zmm, 12 ymm, 12 xmm) and picked with lm_isa_level(), like the
 * model's kernels (core/lm_clones.h). */
#include "bench_roof.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lm_clones.h"
#include "lm_isa.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

/* acc = acc * a + b on CH independent W-wide chains, iters times; the sum of
 * the chains is returned so that nothing is optimized away. */
#define PEAK_FN(LEVEL, W, CH, TGT)                                                  \
    typedef float vf_##LEVEL __attribute__((vector_size((W) * sizeof(float))));     \
    TGT static float peak_##LEVEL(long iters, float a, float b) {                   \
        vf_##LEVEL acc[CH], va = (vf_##LEVEL){0} + a, vb = (vf_##LEVEL){0} + b;     \
        for (int c = 0; c < (CH); c++) acc[c] = (vf_##LEVEL){0} + (float)c;         \
        for (long i = 0; i < iters; i++) {                                          \
            _Pragma("GCC unroll 32") for (int c = 0; c < (CH); c++)                 \
                acc[c] = acc[c] * va + vb;                                          \
        }                                                                           \
        float s = 0.0f;                                                             \
        for (int c = 0; c < (CH); c++)                                              \
            for (int j = 0; j < (W); j++) s += acc[c][j];                           \
        return s;                                                                   \
    }
PEAK_FN(avx512, 16, 24, LM_TARGET_AVX512)
PEAK_FN(avx2, 8, 12, LM_TARGET_AVX2)
PEAK_FN(baseline, 4, 12, LM_TARGET_BASELINE)

static const int PEAK_W[] = {4, 8, 16}, PEAK_CH[] = {12, 12, 24};

volatile float bench_roof_sink; /* keeps the results alive */

/* This thread's CPU seconds: time spent waiting for a core on a loaded host
 * does not count, so the limits are those of the core while it runs. */
static double thread_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double fma_peak(void) {
    lm_isa l = lm_isa_level();
    const long iters = 8000000;
    double best = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = thread_s();
        bench_roof_sink = LM_ISA_CALL(peak, (iters, 0.999999f, 1e-7f));
        double dt = thread_s() - t0, gf = 2.0 * iters * PEAK_CH[l] * PEAK_W[l] / dt * 1e-9;
        best = gf > best ? gf : best;
    }
    return best;
}

static double triad(size_t mb) {
    size_t n = mb * 1024 * 1024 / (3 * sizeof(float));
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    double best = 0.0;
    if (a && b && c) {
        for (size_t i = 0; i < n; i++) a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = thread_s();
            for (size_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
            double dt = thread_s() - t0, gbs = 3.0 * sizeof(float) * (double)n / dt * 1e-9;
            best = gbs > best ? gbs : best;
        }
        bench_roof_sink = a[n / 2];
    }
    free(a), free(b), free(c);
    return best;
}

/* The probe runs in a child process, so its arrays do not count in the
 * benchmark's own peak RSS (getrusage RUSAGE_SELF leaves children out);
 * in-process if the child cannot be started. */
void bench_roof_measure(bench_roof *r, size_t triad_mb) {
    r->isa = lm_isa_name(lm_isa_level());
    r->isa_host = lm_isa_name(lm_isa_host());
    double v[2] = {0, 0};
    int fd[2] = {-1, -1};
    pid_t pid = pipe(fd) ? -1 : fork();
    if (pid == 0) {
        close(fd[0]);
        v[0] = fma_peak(), v[1] = triad(triad_mb);
        _exit(write(fd[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
    }
    int ok = 0;
    if (pid > 0) {
        close(fd[1]);
        ok = read(fd[0], v, sizeof v) == (ssize_t)sizeof v;
        close(fd[0]);
        waitpid(pid, NULL, 0);
    } else if (fd[0] >= 0) {
        close(fd[0]), close(fd[1]);
    }
    if (!ok) v[0] = fma_peak(), v[1] = triad(triad_mb);
    r->fma_gflops = v[0];
    r->triad_gbs = v[1];
}

double bench_train_flops_per_token(int V, int E, int H) {
    return 6.0 * H * (double)V + 24.0 * H * ((double)E + H);
}
