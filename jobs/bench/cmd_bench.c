/* cmd_bench: 'lyricmind bench <what>', benchmarks that print one JSON line.
 *
 *   bench train      full training steps (forward, backward, clip, Adam) on
 *                    random tokens with the LSTM state carried between steps
 *   bench generate   one token at a time with carried state: step + sample
 *   bench preprocess dispatched to bench.h (preprocess room)
 *
 * These are measurements, not tests: nothing here compares a figure against a
 * target. Timings exclude set-up and warm-up steps; peak RSS is the process's
 * getrusage high-water mark, so it includes everything allocated. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "bench_allreduce.h"
#include "bench_roof.h"
#include "cli.h"
#include "cmds.h"
#include "io_json.h"
#include "lm_isa.h"
#include "lm_model.h"
#include "lm_optim.h"
#include "lm_rng.h"
#include "lm_sample.h"
#include "lm_sys.h"

/* CPU seconds of the whole process (all threads): unlike wall time, not
 * inflated by other processes waiting for the same cores. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The model flags both benchmarks take. */
typedef struct {
    lm_dims d;
    int threads;
    long seed;
    int no_roof;
} model_flags;

/* The probe's triad arrays: 64 MiB, twice the 32 MiB L3 of the
 * project's hosts, and less than either benchmark's own peak RSS. */
#define ROOF_TRIAD_MB 64

#define MODEL_FLAGS(f)                                                                      \
    {"vocab", CLI_INT, &(f).d.V, "N", "vocabulary size (V)", 2, 1 << 24, 0},                 \
    {"embed", CLI_INT, &(f).d.E, "N", "embedding size (E)", 1, 65536, 0},                    \
    {"hidden", CLI_INT, &(f).d.H, "N", "LSTM hidden size (H)", 1, 65536, 0},                 \
    {"threads", CLI_INT, &(f).threads, "N", "threads of the output layer (OpenBLAS: 1, as train)", 1, 1024, 0}, \
    {"seed", CLI_LONG, &(f).seed, "S", "seed for the weights and every random draw", 0, 0, 0}, \
    {"no-roofline", CLI_BOOL, &(f).no_roof, NULL,                                            \
     "skip measuring the host's FMA peak and triad bandwidth (no roofline fractions)", 0, 0, 0}

/* Parses the flags, checks LM_ISA, measures the host's limits into *roof
 * (unless --no-roofline: then zeros), keeps OpenBLAS on one thread (as
 * train does) and makes the model with random weights. Returns -1 to go on, else the exit code. */
static int start(cli_cmd *cmd, int argc, char **argv, const model_flags *f, int with_grads,
                 lm_model *m, lm_rng *rng, bench_roof *roof) {
    int rc = cli_parse(cmd, argc, argv, NULL, 0, NULL);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    lm_err e = {{0}};
    if (lm_isa_check_env(&e)) {
        fprintf(stderr, "lyricmind %s: %s\n", cmd->name, e.msg);
        return LM_EXIT_USAGE;
    }
    *roof = (bench_roof){lm_isa_name(lm_isa_level()), lm_isa_name(lm_isa_host()), 0, 0};
    if (!f->no_roof) bench_roof_measure(roof, ROOF_TRIAD_MB);
    openblas_set_num_threads(1); /* as train: --threads is the output layer's */
    if (lm_model_init(m, f->d, with_grads, &e)) {
        fprintf(stderr, "lyricmind %s: %s\n", cmd->name, e.msg);
        return LM_EXIT_FAILURE;
    }
    lm_rng_seed(rng, (uint64_t)f->seed);
    lm_model_init_weights(m, rng);
    return -1;
}

/* The roofline fields shared by both JSON lines: the limits, then
 * "<name>" (the achieved rate over wall time, divided by the limit) and
 * "<name>_cpu" (over process CPU time); rates are per second of wall and of
 * CPU time. Without a measured limit (--no-roofline) they are null. */
static void add_roof(json_t *o, const bench_roof *r, const char *name, double limit, double wall_rate,
                     double cpu_rate) {
    char cpu_name[64];
    snprintf(cpu_name, sizeof cpu_name, "%s_cpu", name);
    int have = limit > 0;
    json_object_set_new(o, "isa", io_json_str(r->isa));
    json_object_set_new(o, "isa_host", io_json_str(r->isa_host));
    json_object_set_new(o, "fma_peak_gflops", have ? io_json_real(r->fma_gflops) : json_null());
    json_object_set_new(o, "triad_gbs", have ? io_json_real(r->triad_gbs) : json_null());
    json_object_set_new(o, name, have ? io_json_real(wall_rate / limit) : json_null());
    json_object_set_new(o, cpu_name, have ? io_json_real(cpu_rate / limit) : json_null());
}

/* Ends a bench line: peak RSS last, one compact JSON line on stdout. */
static void print_line(json_t *o) {
    json_object_set_new(o, "peak_rss_mb", io_json_real(lm_sys_peak_rss_mb()));
    io_json_write_line(stdout, o);
}

static void random_tokens(lm_rng *rng, int32_t *t, size_t n, int V) {
    for (size_t i = 0; i < n; i++) t[i] = (int32_t)lm_rng_below(rng, (uint64_t)V);
}

/* ---- bench train ---------------------------------------------------------- */

static int bench_train(int argc, char **argv) {
    model_flags f = {{50000, 64, 128}, 1, 1, 0};
    int B = 8, T = 30, steps = 20, warmup = 3;
    float dropout = 0.3f, lr = 1e-3f, clip = 1.0f;
    cli_opt opts[] = {
        {"batch", CLI_INT, &B, "N", "sequences per step (B)", 1, 1 << 20, 0},
        {"seq-len", CLI_INT, &T, "N", "tokens per sequence per step (T)", 1, 1 << 20, 0},
        MODEL_FLAGS(f),
        {"steps", CLI_INT, &steps, "N", "timed training steps", 1, 1000000, 0},
        {"warmup", CLI_INT, &warmup, "N", "untimed steps before timing", 0, 1000000, 0},
        {"dropout", CLI_FLOAT, &dropout, "P", "dropout probability", 0, 0.99, 0},
        {"lr", CLI_FLOAT, &lr, "LR", "Adam learning rate", 0, 10, 0},
        {"clip", CLI_FLOAT, &clip, "NORM", "gradient clipping max norm (0 = off)", 0, 1e9, 0},
        {0},
    };
    cli_cmd cmd = {"bench train", "[options]",
                   "Times full training steps (forward, loss, backward, gradient clipping, Adam) "
                   "on random tokens after warm-up, with the LSTM state carried from step to "
                   "step, and prints one JSON line (tokens_per_s, ms_per_step, peak_rss_mb, "
                   "the settings and a per-phase breakdown).",
                   opts};
    lm_model m;
    lm_rng rng;
    bench_roof roof;
    int rc = start(&cmd, argc, argv, &f, 1, &m, &rng, &roof);
    if (rc >= 0) return rc;
    const lm_dims d = f.d;
    const int V = d.V, E = d.E, H = d.H, threads = f.threads;
    const size_t N = (size_t)B * T;
    lm_acts *acts = lm_acts_create(d, B, T);
    float *mo = calloc(m.n_params, sizeof *mo), *vo = calloc(m.n_params, sizeof *vo);
    float *h = calloc((size_t)B * H, sizeof *h), *c = calloc((size_t)B * H, sizeof *c);
    int32_t *tok = malloc((N + B) * sizeof *tok);
    int32_t *in = malloc(N * sizeof *in), *tgt = malloc(N * sizeof *tgt);
    if (!acts || !mo || !vo || !h || !c || !tok || !in || !tgt) {
        fprintf(stderr, "lyricmind bench train: out of memory (B=%d T=%d V=%d)\n", B, T, V);
        rc = LM_EXIT_FAILURE;
        goto done;
    }
    lm_adam adam;
    lm_adam_defaults(&adam);
    lm_step_opts so = {dropout, &rng, -1, 1.0f / (float)N, NULL, NULL, threads, NULL, NULL};
    double t_fb = 0, t_clip = 0, t_adam = 0, loss_sum = 0, last_loss = NAN, cpu0 = 0;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) cpu0 = cpu_s();
        /* B streams of T+1 tokens: in = t[0..T), tgt = t[1..T] per stream */
        random_tokens(&rng, tok, N + B, V);
        for (int b = 0; b < B; b++) {
            memcpy(in + (size_t)b * T, tok + (size_t)b * (T + 1), T * sizeof *in);
            memcpy(tgt + (size_t)b * T, tok + (size_t)b * (T + 1) + 1, T * sizeof *tgt);
        }
        long ntok = 0;
        double t0 = lm_sys_now();
        if (lm_model_train_window(&m, acts, B, T, in, tgt, h, c, &so, &loss_sum, &ntok)) {
            fprintf(stderr, "lyricmind bench train: training step failed\n");
            rc = LM_EXIT_FAILURE;
            goto done;
        }
        double t1 = lm_sys_now();
        lm_grad_clip_threads(m.grads, m.n_params, clip, threads);
        double t2 = lm_sys_now();
        lm_adam_update_threads(&adam, lr, m.params, m.grads, mo, vo, m.n_params, threads);
        double t3 = lm_sys_now();
        if (s >= warmup) t_fb += t1 - t0, t_clip += t2 - t1, t_adam += t3 - t2;
        last_loss = ntok ? loss_sum / (double)ntok : NAN;
    }
    double total = t_fb + t_clip + t_adam, cpu = cpu_s() - cpu0;
    double tps = (double)N * steps / total, flops = bench_train_flops_per_token(V, E, H);
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
                          "s:o, s:o, s:o}",
                          "bench", "train", "batch", B, "seq_len", T, "vocab", V, "embed", E, "hidden", H,
                          "threads", threads, "steps", steps, "warmup", warmup, "dropout", io_json_real(dropout),
                          "params", (json_int_t)m.n_params, "tokens_per_s", io_json_real(tps), "ms_per_step",
                          io_json_real(1e3 * total / steps), "ms_forward_backward", io_json_real(1e3 * t_fb / steps),
                          "ms_clip", io_json_real(1e3 * t_clip / steps), "ms_adam", io_json_real(1e3 * t_adam / steps),
                          "cpu_ms_per_step", io_json_real(1e3 * cpu / steps), "loss", io_json_real(last_loss),
                          "mflop_per_token", io_json_real(flops * 1e-6), "gflops", io_json_real(flops * tps * 1e-9));
    /* the step's FLOPs at this speed over the peak of the threads used (over
     * CPU time, which sums the threads: over one core's peak) */
    add_roof(o, &roof, "peak_frac", roof.fma_gflops * threads, flops * tps * 1e-9,
             flops * (double)N * steps / cpu * 1e-9 * threads);
    print_line(o);
    rc = LM_EXIT_OK;
done:
    free(tok), free(in), free(tgt), free(h), free(c), free(mo), free(vo);
    lm_acts_free(acts);
    lm_model_free(&m);
    return rc;
}

/* ---- bench generate --------------------------------------------------------- */

static int bench_generate(int argc, char **argv) {
    model_flags f = {{50000, 64, 128}, 1, 1, 0};
    int tokens = 200, warmup = 20, top_k = 0, exact = 0;
    float temperature = 0.8f, top_p = 1.0f; /* the generate command's defaults */
    cli_opt opts[] = {
        MODEL_FLAGS(f),
        {"tokens", CLI_INT, &tokens, "N", "timed tokens", 1, 100000000, 0},
        {"warmup", CLI_INT, &warmup, "N", "untimed tokens before timing", 0, 100000000, 0},
        {"temperature", CLI_FLOAT, &temperature, "T", "sampling temperature (0 = greedy)", 0, 100, 0},
        {"top-k", CLI_INT, &top_k, "K", "keep the K most likely tokens (0 = all)", 0, 1 << 24, 0},
        {"top-p", CLI_FLOAT, &top_p, "P", "nucleus mass (1 = all)", 0, 1, 0},
        {"exact", CLI_BOOL, &exact, NULL, "fp32 output layer (default: fp16 copy, as generate)", 0, 0, 0},
        {0},
    };
    cli_cmd cmd = {"bench generate", "[options]",
                   "Times generating tokens one at a time with carried LSTM state (one "
                   "embedding lookup, LSTM step and output layer per token, then the "
                   "sampler) and prints one JSON line (tokens_per_s, ms_per_token split "
                   "into ms_step and ms_sample, peak_rss_mb and the settings).",
                   opts};
    lm_model m;
    lm_rng rng;
    bench_roof roof;
    int rc = start(&cmd, argc, argv, &f, 0, &m, &rng, &roof);
    if (rc >= 0) return rc;
    const lm_dims d = f.d;
    const int V = d.V, E = d.E, H = d.H, threads = f.threads;
    float *h = calloc((size_t)H, sizeof *h), *c = calloc((size_t)H, sizeof *c);
    float *logits = malloc((size_t)V * sizeof *logits);
    float *step_scr = malloc(lm_model_step_scratch_floats(d) * sizeof(float));
    float *samp_scr = malloc(lm_sample_scratch_floats(V) * sizeof(float));
    lm_err e;
    int f16 = exact ? 1 : lm_model_use_f16_head(&m, &e);
    if (!h || !c || !logits || !step_scr || !samp_scr || f16 < 0) {
        fprintf(stderr, "lyricmind bench generate: out of memory (V=%d)\n", V);
        rc = LM_EXIT_FAILURE;
        goto done;
    }
    lm_sampler smp = {temperature, top_k, top_p};
    int32_t tok = 0;
    double logprob_sum = 0, t_step = 0, t_sample = 0, cpu0 = 0;
    for (int i = 0; i < warmup + tokens; i++) {
        if (i == warmup) cpu0 = cpu_s();
        float lp = 0;
        double t0 = lm_sys_now();
        if (lm_model_step_token(&m, tok, h, c, logits, step_scr)) {
            fprintf(stderr, "lyricmind bench generate: token %d out of range\n", (int)tok);
            rc = LM_EXIT_FAILURE;
            goto done;
        }
        double t1 = lm_sys_now();
        tok = lm_sample(&smp, logits, V, &rng, samp_scr, &lp);
        double t2 = lm_sys_now();
        if (i >= warmup) logprob_sum += lp, t_step += t1 - t0, t_sample += t2 - t1;
    }
    double dt = t_step + t_sample, cpu = cpu_s() - cpu0;
    /* the head's weights are read once per token: bytes/token x tokens/s */
    double head_bytes = (double)V * H * (f16 == 0 ? 2 : 4), gbs = head_bytes * tokens / dt * 1e-9;
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
                          "s:o, s:o}",
                          "bench", "generate", "vocab", V, "embed", E, "hidden", H, "threads", threads, "tokens",
                          tokens, "warmup", warmup, "temperature", io_json_real(temperature), "top_k", top_k,
                          "top_p", io_json_real(top_p), "tokens_per_s", io_json_real(tokens / dt), "ms_per_token",
                          io_json_real(1e3 * dt / tokens), "ms_step", io_json_real(1e3 * t_step / tokens),
                          "ms_sample", io_json_real(1e3 * t_sample / tokens), "cpu_ms_per_token",
                          io_json_real(1e3 * cpu / tokens), "mean_logprob", io_json_real(logprob_sum / tokens),
                          "head", f16 == 0 ? "fp16" : "fp32", "head_mb_per_token", io_json_real(head_bytes * 1e-6),
                          "head_gbs", io_json_real(gbs));
    add_roof(o, &roof, "bw_frac", roof.triad_gbs, gbs, head_bytes * tokens / cpu * 1e-9);
    print_line(o);
    rc = LM_EXIT_OK;
done:
    free(h), free(c), free(logits), free(step_scr), free(samp_scr);
    lm_model_free(&m);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------- */

typedef struct {
    const char *name;
    int (*fn)(int, char **);
} bench_entry;

static const bench_entry BENCHES[] = {
    {"train", bench_train},
    {"generate", bench_generate},
    {"preprocess", bench_preprocess_main},
    {"allreduce", bench_allreduce_main},
};

int cmd_bench(int argc, char **argv) {
    cli_opt none[] = {{0}};
    cli_cmd cmd = {"bench", "<train|generate|preprocess|allreduce> [options]",
                   "Benchmarks; each prints one JSON line of figures. "
                   "'lyricmind bench <what> --help' lists its flags.\n\n"
                   "  train       full training steps (forward, backward, clip, Adam) on random tokens\n"
                   "  generate    sampling tokens one at a time with carried LSTM state\n"
                   "  preprocess  preprocess a corpus and report throughput\n"
                   "  allreduce   the gradient exchange over MPI, fitted to the ring model",
                   none};
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof BENCHES / sizeof BENCHES[0]; i++)
            if (!strcmp(argv[1], BENCHES[i].name)) return BENCHES[i].fn(argc - 1, argv + 1);
        cli_error(&cmd, "unknown benchmark '%s' (see 'lyricmind bench --help')", argv[1]);
        return LM_EXIT_USAGE;
    }
    int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
    if (rc == CLI_HELP) return LM_EXIT_OK;
    if (rc != CLI_OK) return LM_EXIT_USAGE;
    cli_error(&cmd, "which benchmark? (see 'lyricmind bench --help')");
    return LM_EXIT_USAGE;
}
