/* test_gen: generation and perplexity against the model's own functions on
 * a random checkpoint written to a temp dir: prompts are cleaned exactly as
 * preprocess does, same seed gives the same song, top-k 1 and temperature 0
 * are the argmax chain, reported log-probs are the full softmax's, limits
 * hold, rendering, and both perplexity regimes equal lm_model_eval_window /
 * token-by-token sums. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval_ppl.h"
#include "gen_lyrics.h"
#include "pp_clean.h"

static const char *WORDS[] = {"love", "the", "night", "light", "baby", "you", "i", "me", "my", "heart",
                              "don't", "go", "away", "tonight", "we", "are", "young", "rock-n-roll",
                              "é", "café", "down", "road", "home", "again", "fire", "rain", "say",
                              "know", "feel", "time"};
enum { NW = sizeof WORDS / sizeof *WORDS, G = 2, V = IO_TOK_FIRST_GENRE + G + NW };

static char g_path[512];
static gen_model g_model;

static void make_checkpoint(void) {
    static char dir[256];
    snprintf(dir, sizeof dir, "/tmp/lm-gen-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(g_path, sizeof g_path, "%s/ckpt.h5", dir);
    const char *spec[] = {"<pad>", "<unk>", "<bos>", "<eos>", "<nl>", "<sep>", "<genre:Pop>", "<genre:Rock>"};
    char *tokens[V], *genres[G] = {"Pop", "Rock"};
    uint64_t counts[V];
    for (int i = 0; i < V; i++) {
        tokens[i] = (char *)(i < IO_TOK_FIRST_GENRE + G ? spec[i] : WORDS[i - IO_TOK_FIRST_GENRE - G]);
        counts[i] = (uint64_t)(1000 - i);
    }
    io_vocab v = {V, tokens, counts, G, genres, io_vocab_hash(tokens, V), 0};
    lm_model m;
    lm_err e;
    lm_dims d = {V, 8, 16};
    cr_assert_eq(lm_model_init(&m, d, 0, &e), 0);
    lm_rng r;
    lm_rng_seed(&r, 5);
    lm_model_init_weights(&m, &r);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 3.0f; /* peakier distributions */
    io_ckpt_save_args a = {.model = &m, .vocab = &v, .config = "seq-len = 7\n", .step = 1, .val_loss = NAN};
    cr_assert_eq(io_ckpt_save(g_path, &a, &e), 0, "%s", e.msg);
    lm_model_free(&m);
    cr_assert_eq(gen_model_open(&g_model, g_path, &e), 0, "%s", e.msg);
}

static void drop_checkpoint(void) {
    gen_model_close(&g_model);
    unlink(g_path);
    *strrchr(g_path, '/') = '\0';
    rmdir(g_path); /* make_checkpoint's directory */
}

TestSuite(gen, .init = make_checkpoint, .fini = drop_checkpoint);
TestSuite(ppl, .init = make_checkpoint, .fini = drop_checkpoint);

static int32_t wid(const char *w) { return (int32_t)io_vocab_lookup(g_model.v, w); }

Test(gen, prompt_is_cleaned_like_preprocess) {
    const char *text = "Love  the NIGHT, Qwzx!\n[Chorus]\nbaby  \xe2\x80\x9c" "caf\xc3\xa9\xe2\x80\x9d zork qwzx\n";
    gen_prompt p;
    lm_err e;
    cr_assert_eq(gen_prompt_parse(&p, g_model.v, text, &e), 0, "%s", e.msg);
    /* exactly pp_clean_song's tokens, then the <nl> of the trailing newline */
    pp_words w = {0};
    size_t bad;
    cr_assert_eq(pp_clean_song(text, strlen(text), &w, &bad), PP_CLEAN_OK);
    cr_assert_eq(p.ids.n, w.n + 1);
    for (size_t i = 0; i < w.n; i++) cr_assert_str_eq(p.spell[i], w.buf + w.off[i]);
    int32_t want[] = {wid("love"), wid("the"), wid("night"), IO_TOK_UNK, IO_TOK_NL, wid("baby"),
                      wid("café"), IO_TOK_UNK, IO_TOK_UNK, IO_TOK_NL};
    cr_assert_eq(p.ids.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < p.ids.n; i++) cr_assert_eq(p.ids.id[i], want[i], "token %zu", i);
    cr_assert_eq(p.n_unknown, 2); /* distinct, in order */
    cr_assert_str_eq(p.unknown[0], "qwzx");
    cr_assert_str_eq(p.unknown[1], "zork");
    pp_words_free(&w);
    gen_prompt_free(&p);
    /* no trailing newline: no <nl>; invalid UTF-8: an error with the offset */
    cr_assert_eq(gen_prompt_parse(&p, g_model.v, "my heart", &e), 0);
    cr_assert_eq(p.ids.n, 2);
    gen_prompt_free(&p);
    cr_assert_eq(gen_prompt_parse(&p, g_model.v, "ab\xff", &e), -1);
    cr_assert(strstr(e.msg, "invalid UTF-8 at byte 2"), "%s", e.msg);
}

Test(gen, genres_by_name_and_alias) {
    cr_assert_eq(gen_genre_find(g_model.v, "rock"), 1);
    cr_assert_eq(gen_genre_find(g_model.v, "POP"), 0);
    cr_assert_eq(gen_genre_find(g_model.v, "Hip-Hop"), -1); /* an alias of a genre this vocabulary lacks */
    cr_assert_eq(gen_genre_find(g_model.v, "polka"), -1);
    char buf[64];
    gen_genre_list(g_model.v, buf, sizeof buf);
    cr_assert_str_eq(buf, "Pop, Rock");
}

/* A song primed on <bos> <genre:Rock> love with the given sampler/seed. */
static void song(lm_sampler s, uint64_t seed, long max_words, gen_seq *out, long *words, gen_end *end) {
    gen_ctx x;
    lm_err e;
    cr_assert_eq(gen_ctx_init(&x, &g_model, s, &e), 0);
    int32_t prefix[] = {IO_TOK_BOS, IO_TOK_FIRST_GENRE + 1, wid("love")};
    lm_rng r;
    lm_rng_seed(&r, seed);
    gen_limits lim = {max_words, 0};
    cr_assert_eq(gen_prime(&x, prefix, 3, out, &e), 0);
    cr_assert_eq(gen_continue(&x, &r, &lim, out, words, end, &e), 0);
    gen_ctx_free(&x);
}

static int same(const gen_seq *a, const gen_seq *b) {
    return a->n == b->n && !memcmp(a->id, b->id, a->n * sizeof *a->id);
}

Test(gen, same_seed_same_song_other_seed_other_song) {
    lm_sampler s = {1.0f, 0, 1.0f};
    gen_seq a = {0}, b = {0}, c = {0};
    long w;
    gen_end end;
    song(s, 11, 40, &a, &w, &end);
    song(s, 11, 40, &b, &w, &end);
    song(s, 12, 40, &c, &w, &end);
    cr_assert(same(&a, &b));
    cr_assert(!same(&a, &c));
    gen_seq_free(&a), gen_seq_free(&b), gen_seq_free(&c);
}

Test(gen, top_k_1_and_temperature_0_are_the_argmax_chain) {
    gen_seq k1 = {0}, t0 = {0};
    long w;
    gen_end end;
    song((lm_sampler){0.8f, 1, 1.0f}, 1, 30, &k1, &w, &end);
    song((lm_sampler){0.0f, 0, 1.0f}, 2, 30, &t0, &w, &end);
    cr_assert(same(&k1, &t0));
    /* by hand: step, mask the never-sampled ids, argmax */
    float h[16] = {0}, c[16] = {0}, logits[V], scratch[128];
    cr_assert_leq(lm_model_step_scratch_floats(g_model.m.d), 128);
    for (size_t i = 0; i + 1 < k1.n; i++) {
        lm_model_step_token(&g_model.m, k1.id[i], h, c, logits, scratch);
        if (i < 2) continue; /* the prefix is given */
        for (int j = 0; j < IO_TOK_FIRST_GENRE + G; j++)
            if (j != IO_TOK_EOS && j != IO_TOK_NL && j != IO_TOK_SEP) logits[j] = -INFINITY;
        cr_assert_eq(k1.id[i + 1], lm_argmax(logits, V), "token %zu", i + 1);
    }
    gen_seq_free(&k1), gen_seq_free(&t0);
}

Test(gen, logprobs_are_the_full_softmax_and_masked_ids_never_appear) {
    gen_seq a = {0};
    long words;
    gen_end end;
    song((lm_sampler){1.5f, 0, 1.0f}, 3, 200, &a, &words, &end);
    float h[16] = {0}, c[16] = {0}, logits[V], scratch[128];
    cr_assert_eq(a.lp[0], 0.0f);
    for (size_t i = 0; i + 1 < a.n; i++) {
        lm_model_step_token(&g_model.m, a.id[i], h, c, logits, scratch);
        double m = -INFINITY, s = 0;
        for (int j = 0; j < V; j++) m = logits[j] > m ? logits[j] : m;
        for (int j = 0; j < V; j++) s += exp((double)logits[j] - m);
        double want = (double)logits[a.id[i + 1]] - m - log(s);
        cr_assert_float_eq(a.lp[i + 1], want, 1e-4, "token %zu: %f vs %f", i + 1, a.lp[i + 1], want);
        if (i >= 2) {
            int32_t t = a.id[i + 1];
            cr_assert(t == IO_TOK_EOS || t == IO_TOK_NL || t == IO_TOK_SEP || t >= g_model.first_word,
                      "sampled a masked id %d", t);
        }
    }
}

Test(gen, limits) {
    for (uint64_t seed = 1; seed <= 5; seed++) {
        gen_seq a = {0};
        long words;
        gen_end end;
        song((lm_sampler){1.0f, 0, 1.0f}, seed, 7, &a, &words, &end);
        long counted = 0;
        for (size_t i = 3; i < a.n; i++) counted += gen_is_word(g_model.first_word, a.id[i]);
        cr_assert_eq(words, counted);
        cr_assert_leq(words, 7);
        cr_assert_leq(a.n - 3, 2 * 7 + 32);
        if (end == GEN_END_EOS) cr_assert_eq(a.id[a.n - 1], IO_TOK_EOS);
        if (end == GEN_END_WORDS) cr_assert_eq(words, 7);
        gen_seq_free(&a);
    }
}

Test(gen, render_reads_like_lyrics) {
    int32_t ids[] = {IO_TOK_BOS, IO_TOK_FIRST_GENRE, IO_TOK_NL, wid("love"), wid("you"), IO_TOK_NL, IO_TOK_NL,
                     wid("baby"), IO_TOK_SEP, IO_TOK_NL, IO_TOK_UNK, wid("go"), IO_TOK_NL, IO_TOK_EOS};
    gen_text t = {0};
    char *spell[16] = {0};
    spell[10] = "zork";
    cr_assert_eq(gen_render(g_model.v, ids, sizeof ids / sizeof *ids, spell, 16, &t), 0);
    cr_assert_str_eq(t.s, "love you\nbaby\n\nzork go\n");
    gen_text_free(&t);
}

/* ---- perplexity -------------------------------------------------------------- */

static void make_songs(eval_songs *s, size_t n) {
    lm_rng r;
    lm_rng_seed(&r, 17);
    s->n = n;
    s->off = calloc(n + 1, sizeof *s->off);
    s->genre = calloc(n, 1);
    s->tok = malloc(n * 64 * sizeof *s->tok);
    for (size_t i = 0; i < n; i++) {
        size_t len = 3 + lm_rng_below(&r, 60), k = s->off[i];
        s->tok[k] = IO_TOK_BOS;
        s->tok[k + 1] = IO_TOK_FIRST_GENRE + (int32_t)(i % G);
        for (size_t j = 2; j + 1 < len; j++) s->tok[k + j] = (int32_t)(lm_rng_below(&r, 5) ? IO_TOK_NL + lm_rng_below(&r, V - IO_TOK_NL) : IO_TOK_UNK);
        s->tok[k + len - 1] = IO_TOK_EOS;
        s->off[i + 1] = k + len;
    }
}

Test(ppl, windows_equal_the_models_eval_window) {
    eval_songs s;
    make_songs(&s, 23);
    const int T = 7;
    double mine[EVAL_PPL_N], split[EVAL_PPL_N], part[EVAL_PPL_N] = {0};
    lm_err e;
    cr_assert_eq(eval_ppl_windows(&g_model.m, &s, 0, 1, 4, T, NULL, mine, &e), 0);
    for (int r = 0; r < 3; r++) { /* as 3 ranks */
        cr_assert_eq(eval_ppl_windows(&g_model.m, &s, r, 3, 2, T, NULL, split, &e), 0);
        for (int i = 0; i < EVAL_PPL_N; i++) part[i] += split[i];
    }
    /* reference: window k = stream[kT .. kT+T], zero state, one at a time */
    uint64_t N = s.off[s.n];
    lm_acts *a = lm_acts_create(g_model.m.d, 1, T);
    double ref[2] = {0, 0}, ref_known[2] = {0, 0};
    for (uint64_t k = 0; k * T + 1 < N; k++) {
        int32_t in[T], tg[T];
        for (int t = 0; t < T; t++) {
            uint64_t p = k * T + (uint64_t)t;
            in[t] = p + 1 < N ? s.tok[p] : IO_TOK_PAD;
            tg[t] = p + 1 < N ? s.tok[p + 1] : IO_TOK_PAD;
        }
        float h[16] = {0}, c[16] = {0};
        double l;
        long n;
        lm_model_eval_window(&g_model.m, a, 1, T, in, tg, h, c, IO_TOK_PAD, -1, &l, &n);
        ref[0] += l, ref[1] += (double)n;
        memset(h, 0, sizeof h), memset(c, 0, sizeof c);
        lm_model_eval_window(&g_model.m, a, 1, T, in, tg, h, c, IO_TOK_PAD, IO_TOK_UNK, &l, &n);
        ref_known[0] += l, ref_known[1] += (double)n;
    }
    lm_acts_free(a);
    cr_assert_eq(mine[EVAL_PPL_COUNT], (double)(N - 1));
    cr_assert_eq(mine[EVAL_PPL_COUNT], ref[1]);
    cr_assert_eq(mine[EVAL_PPL_COUNT_KNOWN], ref_known[1]);
    cr_assert_lt(mine[EVAL_PPL_COUNT_KNOWN], mine[EVAL_PPL_COUNT]); /* there are <unk> targets */
    cr_assert_float_eq(mine[EVAL_PPL_LOSS], ref[0], 1e-4 * ref[1]);
    cr_assert_float_eq(mine[EVAL_PPL_LOSS_KNOWN], ref_known[0], 1e-4 * ref[1]);
    for (int i = 0; i < EVAL_PPL_N; i++) cr_assert_float_eq(part[i], mine[i], 1e-6 * ref[1]);
    eval_songs_free(&s);
}

Test(ppl, carried_equals_token_by_token) {
    eval_songs s;
    make_songs(&s, 19);
    double mine[EVAL_PPL_N], split[EVAL_PPL_N], part[EVAL_PPL_N] = {0};
    lm_err e;
    cr_assert_eq(eval_ppl_carried(&g_model.m, &s, 0, 1, 3, 5, NULL, mine, &e), 0);
    for (int r = 0; r < 2; r++) {
        cr_assert_eq(eval_ppl_carried(&g_model.m, &s, r, 2, 4, 9, NULL, split, &e), 0);
        for (int i = 0; i < EVAL_PPL_N; i++) part[i] += split[i];
    }
    double loss = 0, known = 0, n = 0, nk = 0;
    for (size_t i = 0; i < s.n; i++) {
        float h[16] = {0}, c[16] = {0}, logits[V], scratch[128];
        for (uint64_t p = s.off[i]; p + 1 < s.off[i + 1]; p++) {
            lm_model_step_token(&g_model.m, s.tok[p], h, c, logits, scratch);
            double m = -INFINITY, z = 0;
            for (int j = 0; j < V; j++) m = logits[j] > m ? logits[j] : m;
            for (int j = 0; j < V; j++) z += exp((double)logits[j] - m);
            double l = m + log(z) - logits[s.tok[p + 1]];
            loss += l, n += 1;
            if (s.tok[p + 1] != IO_TOK_UNK) known += l, nk += 1;
        }
    }
    cr_assert_eq(mine[EVAL_PPL_COUNT], (double)(s.off[s.n] - s.n));
    cr_assert_eq(mine[EVAL_PPL_COUNT], n);
    cr_assert_eq(mine[EVAL_PPL_COUNT_KNOWN], nk);
    cr_assert_float_eq(mine[EVAL_PPL_LOSS], loss, 1e-4 * n);
    cr_assert_float_eq(mine[EVAL_PPL_LOSS_KNOWN], known, 1e-4 * n);
    for (int i = 0; i < EVAL_PPL_N; i++) cr_assert_float_eq(part[i], mine[i], 1e-6 * n);
    eval_songs_free(&s);
}
