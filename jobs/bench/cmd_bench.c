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
#include "lm_par.h"
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
    {"threads", CLI_INT, &(f).threads, "N", "train: threads of the whole step, as train --threads (OpenBLAS: 1)", 1, 1024, 0}, \
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

/* The settings of bench train beyond the model's. */
typedef struct {
    int B, T, steps, warmup;
    float dropout, lr, clip;
} bt_flags;

/* The step's buffers: activations, Adam moments, carried state, tokens. */
typedef struct {
    lm_acts *acts;
    float *mo, *vo, *h, *c;
    int32_t *tok, *in, *tgt;
} bt_bufs;

/* What the timed steps measured (seconds summed over the timed steps). */
typedef struct {
    double fb, clip, adam, cpu, last_loss;
} bt_times;

static void bt_free(bt_bufs *b) {
    free(b->tok), free(b->in), free(b->tgt), free(b->h), free(b->c), free(b->mo), free(b->vo);
    lm_acts_free(b->acts);
}

/* 0, or -1 when out of memory (what was allocated stays in b to free). */
static int bt_alloc(bt_bufs *b, const lm_model *m, lm_dims d, int B, int T) {
    const size_t N = (size_t)B * T;
    b->acts = lm_acts_create(d, B, T);
    b->mo = calloc(m->n_params, sizeof *b->mo), b->vo = calloc(m->n_params, sizeof *b->vo);
    b->h = calloc((size_t)B * d.H, sizeof *b->h), b->c = calloc((size_t)B * d.H, sizeof *b->c);
    b->tok = malloc((N + B) * sizeof *b->tok);
    b->in = malloc(N * sizeof *b->in), b->tgt = malloc(N * sizeof *b->tgt);
    return b->acts && b->mo && b->vo && b->h && b->c && b->tok && b->in && b->tgt ? 0 : -1;
}

/* warmup + steps training steps on fresh random tokens, on pool's threads
 * (as train); only the last `steps` are timed. -1 if a step fails. */
static int bt_steps(lm_model *m, lm_rng *rng, const bt_flags *t, int threads, lm_par_pool *pool,
                    bt_bufs *b, bt_times *out) {
    const int B = t->B, T = t->T;
    const size_t N = (size_t)B * T;
    lm_adam adam;
    lm_adam_defaults(&adam);
    lm_step_opts so = {t->dropout, rng, -1, 1.0f / (float)N, NULL, NULL, threads, NULL, NULL, pool};
    double t_fb = 0, t_clip = 0, t_adam = 0, loss_sum = 0, last_loss = NAN, cpu0 = 0;
    for (int s = 0; s < t->warmup + t->steps; s++) {
        if (s == t->warmup) cpu0 = cpu_s();
        /* B streams of T+1 tokens: in = t[0..T), tgt = t[1..T] per stream */
        random_tokens(rng, b->tok, N + B, m->d.V);
        for (int k = 0; k < B; k++) {
            memcpy(b->in + (size_t)k * T, b->tok + (size_t)k * (T + 1), T * sizeof *b->in);
            memcpy(b->tgt + (size_t)k * T, b->tok + (size_t)k * (T + 1) + 1, T * sizeof *b->tgt);
        }
        long ntok = 0;
        double t0 = lm_sys_now();
        if (lm_model_train_window(m, b->acts, B, T, b->in, b->tgt, b->h, b->c, &so, &loss_sum, &ntok)) return -1;
        double t1 = lm_sys_now();
        /* as train's step: the norm's pass, then clip and Adam in one pass
         * (lm_clip_adam_update_threads, in its two halves to time them) */
        double sums[LM_OPTIM_PARTS];
        lm_grad_sumsq_parts(m->grads, m->n_params, 0, LM_OPTIM_PARTS, sums, threads, pool);
        double norm = lm_grad_norm_of_parts(sums);
        double t2 = lm_sys_now();
        lm_clip_adam_update_parts(&adam, t->lr, m->params, m->grads, b->mo, b->vo, m->n_params, 0, LM_OPTIM_PARTS,
                                  norm, t->clip, threads, pool);
        double t3 = lm_sys_now();
        if (s >= t->warmup) t_fb += t1 - t0, t_clip += t2 - t1, t_adam += t3 - t2;
        last_loss = ntok ? loss_sum / (double)ntok : NAN;
    }
    *out = (bt_times){t_fb, t_clip, t_adam, cpu_s() - cpu0, last_loss};
    return 0;
}

/* The result line of bench train (without the roofline fields and RSS). */
static json_t *bt_json(const bt_flags *t, const model_flags *f, size_t n_params, const bt_times *r,
                          double tps, double flops) {
    const int steps = t->steps;
    double total = r->fb + r->clip + r->adam;
    return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:o, s:o, s:o}",
                     "bench", "train", "batch", t->B, "seq_len", t->T, "vocab", f->d.V, "embed", f->d.E, "hidden",
                     f->d.H, "threads", f->threads, "steps", steps, "warmup", t->warmup, "dropout",
                     io_json_real(t->dropout), "params", (json_int_t)n_params, "tokens_per_s", io_json_real(tps),
                     "ms_per_step", io_json_real(1e3 * total / steps), "ms_forward_backward",
                     io_json_real(1e3 * r->fb / steps), "ms_clip", io_json_real(1e3 * r->clip / steps), "ms_adam",
                     io_json_real(1e3 * r->adam / steps), "cpu_ms_per_step", io_json_real(1e3 * r->cpu / steps),
                     "loss", io_json_real(r->last_loss), "mflop_per_token", io_json_real(flops * 1e-6), "gflops",
                     io_json_real(flops * tps * 1e-9));
}

static int bench_train(int argc, char **argv) {
    model_flags f = {{50000, 64, 128}, 1, 1, 0};
    bt_flags t = {.B = 8, .T = 30, .steps = 20, .warmup = 3, .dropout = 0.3f, .lr = 1e-3f, .clip = 1.0f};
    cli_opt opts[] = {
        {"batch", CLI_INT, &t.B, "N", "sequences per step (B)", 1, 1 << 20, 0},
        {"seq-len", CLI_INT, &t.T, "N", "tokens per sequence per step (T)", 1, 1 << 20, 0},
        MODEL_FLAGS(f),
        {"steps", CLI_INT, &t.steps, "N", "timed training steps", 1, 1000000, 0},
        {"warmup", CLI_INT, &t.warmup, "N", "untimed steps before timing", 0, 1000000, 0},
        {"dropout", CLI_FLOAT, &t.dropout, "P", "dropout probability", 0, 0.99, 0},
        {"lr", CLI_FLOAT, &t.lr, "LR", "Adam learning rate", 0, 10, 0},
        {"clip", CLI_FLOAT, &t.clip, "NORM", "gradient clipping max norm (0 = off)", 0, 1e9, 0},
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
    bt_bufs b = {0};
    bt_times r;
    rc = LM_EXIT_FAILURE;
    /* as train keeps one (one process: its threads are the host's) */
    lm_par_pool *pool = lm_par_pool_create(
        f.threads, lm_par_spin_us(f.threads, f.threads, lm_sys_cpus(), lm_sys_online_cpus()));
    if (bt_alloc(&b, &m, f.d, t.B, t.T))
        fprintf(stderr, "lyricmind bench train: out of memory (B=%d T=%d V=%d)\n", t.B, t.T, f.d.V);
    else if (bt_steps(&m, &rng, &t, f.threads, pool, &b, &r))
        fprintf(stderr, "lyricmind bench train: training step failed\n");
    else {
        const double N = (double)t.B * t.T;
        double tps = N * t.steps / (r.fb + r.clip + r.adam), flops = bench_train_flops_per_token(f.d.V, f.d.E, f.d.H);
        json_t *o = bt_json(&t, &f, m.n_params, &r, tps, flops);
        /* the step's FLOPs at this speed over the peak of the threads used (over
         * CPU time, which sums the threads: over one core's peak) */
        add_roof(o, &roof, "peak_frac", roof.fma_gflops * f.threads, flops * tps * 1e-9,
                 flops * N * t.steps / r.cpu * 1e-9 * f.threads);
        print_line(o);
        rc = LM_EXIT_OK;
    }
    bt_free(&b);
    lm_par_pool_free(pool);
    lm_model_free(&m);
    return rc;
}

/* ---- bench generate --------------------------------------------------------- */

/* The settings of bench generate beyond the model's. */
typedef struct {
    int tokens, warmup, top_k, exact;
    float temperature, top_p;
} bg_flags;

/* The per-token buffers: carried state, logits, step and sampler scratch. */
typedef struct {
    float *h, *c, *logits, *step, *samp;
} bg_bufs;

/* What the timed tokens measured (seconds summed over them). */
typedef struct {
    double step, sample, cpu, logprob_sum;
} bg_times;

static void bg_free(bg_bufs *b) { free(b->h), free(b->c), free(b->logits), free(b->step), free(b->samp); }

static int bg_alloc(bg_bufs *b, lm_dims d) {
    b->h = calloc((size_t)d.H, sizeof *b->h), b->c = calloc((size_t)d.H, sizeof *b->c);
    b->logits = malloc((size_t)d.V * sizeof *b->logits);
    b->step = malloc(lm_model_step_scratch_floats(d) * sizeof(float));
    b->samp = malloc(lm_sample_scratch_floats(d.V) * sizeof(float));
    return b->h && b->c && b->logits && b->step && b->samp ? 0 : -1;
}

/* warmup + tokens steps and draws from token 0 on; the last `tokens` are
 * timed. -1 (message printed) if a token is out of range. */
static int bg_tokens(const lm_model *m, lm_rng *rng, const bg_flags *g, bg_bufs *b, bg_times *out) {
    const int V = m->d.V;
    lm_sampler smp = {g->temperature, g->top_k, g->top_p};
    int32_t tok = 0;
    double logprob_sum = 0, t_step = 0, t_sample = 0, cpu0 = 0;
    for (int i = 0; i < g->warmup + g->tokens; i++) {
        if (i == g->warmup) cpu0 = cpu_s();
        float lp = 0;
        double t0 = lm_sys_now();
        if (lm_model_step_token(m, tok, b->h, b->c, b->logits, b->step)) {
            fprintf(stderr, "lyricmind bench generate: token %d out of range\n", (int)tok);
            return -1;
        }
        double t1 = lm_sys_now();
        tok = lm_sample(&smp, b->logits, V, rng, b->samp, &lp);
        double t2 = lm_sys_now();
        if (i >= g->warmup) logprob_sum += lp, t_step += t1 - t0, t_sample += t2 - t1;
    }
    *out = (bg_times){t_step, t_sample, cpu_s() - cpu0, logprob_sum};
    return 0;
}

/* The result line of bench generate (without the roofline fields and RSS). */
static json_t *bg_json(const bg_flags *g, const model_flags *f, const bg_times *r, int f16,
                             double head_bytes, double gbs) {
    const int tokens = g->tokens;
    double dt = r->step + r->sample;
    return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
                     "s:o, s:o}",
                     "bench", "generate", "vocab", f->d.V, "embed", f->d.E, "hidden", f->d.H, "threads", f->threads,
                     "tokens", tokens, "warmup", g->warmup, "temperature", io_json_real(g->temperature), "top_k",
                     g->top_k, "top_p", io_json_real(g->top_p), "tokens_per_s", io_json_real(tokens / dt),
                     "ms_per_token", io_json_real(1e3 * dt / tokens), "ms_step",
                     io_json_real(1e3 * r->step / tokens), "ms_sample", io_json_real(1e3 * r->sample / tokens),
                     "cpu_ms_per_token", io_json_real(1e3 * r->cpu / tokens), "mean_logprob",
                     io_json_real(r->logprob_sum / tokens), "head", f16 == 0 ? "fp16" : "fp32",
                     "head_mb_per_token", io_json_real(head_bytes * 1e-6), "head_gbs", io_json_real(gbs));
}

static int bench_generate(int argc, char **argv) {
    model_flags f = {{50000, 64, 128}, 1, 1, 0};
    /* the generate command's sampler defaults */
    bg_flags g = {.tokens = 200, .warmup = 20, .top_k = 0, .exact = 0, .temperature = 0.8f, .top_p = 1.0f};
    cli_opt opts[] = {
        MODEL_FLAGS(f),
        {"tokens", CLI_INT, &g.tokens, "N", "timed tokens", 1, 100000000, 0},
        {"warmup", CLI_INT, &g.warmup, "N", "untimed tokens before timing", 0, 100000000, 0},
        {"temperature", CLI_FLOAT, &g.temperature, "T", "sampling temperature (0 = greedy)", 0, 100, 0},
        {"top-k", CLI_INT, &g.top_k, "K", "keep the K most likely tokens (0 = all)", 0, 1 << 24, 0},
        {"top-p", CLI_FLOAT, &g.top_p, "P", "nucleus mass (1 = all)", 0, 1, 0},
        {"exact", CLI_BOOL, &g.exact, NULL, "fp32 output layer (default: fp16 copy, as generate)", 0, 0, 0},
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
    bg_bufs b = {0};
    bg_times r;
    lm_err e;
    rc = LM_EXIT_FAILURE;
    int bad = bg_alloc(&b, f.d);
    int f16 = g.exact ? 1 : lm_model_use_f16_head(&m, &e);
    if (bad || f16 < 0) fprintf(stderr, "lyricmind bench generate: out of memory (V=%d)\n", f.d.V);
    else if (!bg_tokens(&m, &rng, &g, &b, &r)) {
        double dt = r.step + r.sample;
        /* the head's weights are read once per token: bytes/token x tokens/s */
        double head_bytes = (double)f.d.V * f.d.H * (f16 == 0 ? 2 : 4), gbs = head_bytes * g.tokens / dt * 1e-9;
        json_t *o = bg_json(&g, &f, &r, f16, head_bytes, gbs);
        add_roof(o, &roof, "bw_frac", roof.triad_gbs, gbs, head_bytes * g.tokens / r.cpu * 1e-9);
        print_line(o);
        rc = LM_EXIT_OK;
    }
    bg_free(&b);
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
