/* gen_lyrics: inference model, prompt tokenization, priming, sampling and
 * rendering shared by `generate` and `eval` (see gen_lyrics.h).
 * Invariants: a gen_ctx allocates once (state [H], logits [V], scratch) and
 * nothing per token; the rng is touched only by lm_sample (one draw per
 * non-greedy token), so a song is a function of its seed. */
#include "gen_lyrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lm_vmath.h"
#include "pp_clean.h"
#include "pp_genre.h"

/* ---- model ------------------------------------------------------------------ */

int gen_model_open(gen_model *g, const char *path, lm_err *e) {
    memset(g, 0, sizeof *g);
    if (io_ckpt_load_model(&g->ck, path, &g->m, e)) return -1;
    g->v = &g->ck.vocab;
    g->first_word = IO_TOK_FIRST_GENRE + (int32_t)g->v->n_genres;
    if ((uint32_t)g->first_word >= g->v->size || g->v->n_genres < 1 || g->v->n_genres > IO_VOCAB_MAX_GENRES) {
        gen_model_close(g);
        return lm_err_set(e, "%s: vocabulary needs 1..%d genres and some words", path, IO_VOCAB_MAX_GENRES);
    }
    return 0;
}

void gen_model_close(gen_model *g) {
    lm_model_free(&g->m);
    io_ckpt_close(&g->ck);
    memset(g, 0, sizeof *g);
}

size_t gen_model_bytes(const gen_model *g) { return g->m.n_params * sizeof(float); }

/* ---- genres ------------------------------------------------------------------- */

int gen_genre_find(const io_vocab *v, const char *name) {
    for (uint32_t i = 0; i < v->n_genres; i++)
        if (strcasecmp(v->genres[i], name) == 0) return (int)i;
    const char *canon = pp_genre_builtin(name);
    if (!canon) return -1;
    for (uint32_t i = 0; i < v->n_genres; i++)
        if (strcasecmp(v->genres[i], canon) == 0) return (int)i;
    return -1;
}

void gen_genre_list(const io_vocab *v, char *buf, size_t n) {
    size_t at = 0;
    if (n) buf[0] = 0;
    for (uint32_t i = 0; i < v->n_genres && at < n; i++) {
        int w = snprintf(buf + at, n - at, "%s%s", i ? ", " : "", v->genres[i]);
        if (w < 0) break;
        at += (size_t)w;
    }
}

/* ---- sequences and text --------------------------------------------------------- */

int gen_seq_push(gen_seq *s, int32_t id, float lp) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        int32_t *ni = realloc(s->id, cap * sizeof *ni);
        if (!ni) return -1;
        s->id = ni;
        float *nl = realloc(s->lp, cap * sizeof *nl);
        if (!nl) return -1;
        s->lp = nl;
        s->cap = cap;
    }
    s->id[s->n] = id;
    s->lp[s->n++] = lp;
    return 0;
}

void gen_seq_free(gen_seq *s) {
    free(s->id);
    free(s->lp);
    memset(s, 0, sizeof *s);
}

int gen_text_add(gen_text *t, const char *s, size_t n) {
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->n + n + 1) cap *= 2;
        char *ns = realloc(t->s, cap);
        if (!ns) return -1;
        t->s = ns;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = 0;
    return 0;
}

void gen_text_free(gen_text *t) {
    free(t->s);
    memset(t, 0, sizeof *t);
}

int gen_render(const io_vocab *v, const int32_t *ids, size_t n, char *const *spell, size_t n_spell,
               gen_text *t) {
    int32_t first_word = IO_TOK_FIRST_GENRE + (int32_t)v->n_genres;
    int brk = 0, any = 0; /* pending break: 0 none, 1 line, 2 stanza */
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id == IO_TOK_NL) brk = brk > 1 ? brk : 1;
        else if (id == IO_TOK_SEP) brk = 2;
        if (!gen_is_word(first_word, id)) continue;
        const char *w = i < n_spell && spell && spell[i] ? spell[i] : v->tokens[id];
        const char *sepr = !any ? "" : brk == 2 ? "\n\n" : brk == 1 ? "\n" : " ";
        if (gen_text_add(t, sepr, strlen(sepr)) || gen_text_add(t, w, strlen(w))) return -1;
        any = 1;
        brk = 0;
    }
    return any ? gen_text_add(t, "\n", 1) : 0;
}

/* ---- prompts ------------------------------------------------------------------- */

static int prompt_add(gen_prompt *p, int32_t id, const char *spelling) {
    if (gen_seq_push(&p->ids, id, 0.0f)) return -1;
    char **ns = realloc(p->spell, p->ids.n * sizeof *ns);
    if (!ns) return -1;
    p->spell = ns;
    p->spell[p->ids.n - 1] = spelling ? strdup(spelling) : NULL;
    return spelling && !p->spell[p->ids.n - 1] ? -1 : 0;
}

static int note_unknown(gen_prompt *p, const char *w) {
    for (size_t i = 0; i < p->n_unknown; i++)
        if (strcmp(p->unknown[i], w) == 0) return 0;
    char **nu = realloc(p->unknown, (p->n_unknown + 1) * sizeof *nu);
    if (!nu) return -1;
    p->unknown = nu;
    return (p->unknown[p->n_unknown++] = strdup(w)) ? 0 : -1;
}

int gen_prompt_parse(gen_prompt *p, const io_vocab *v, const char *text, lm_err *e) {
    memset(p, 0, sizeof *p);
    pp_words w = {0};
    size_t len = strlen(text), bad = 0;
    int rc = pp_clean_song(text, len, &w, &bad);
    if (rc == PP_CLEAN_BAD_UTF8) {
        pp_words_free(&w);
        return lm_err_set(e, "prompt: invalid UTF-8 at byte %zu", bad);
    }
    int32_t first_word = IO_TOK_FIRST_GENRE + (int32_t)v->n_genres;
    for (size_t i = 0; rc == PP_CLEAN_OK && i < w.n; i++) {
        const char *tok = w.buf + w.off[i];
        int32_t id;
        if (strcmp(tok, "<nl>") == 0) id = IO_TOK_NL;
        else if (strcmp(tok, "<sep>") == 0) id = IO_TOK_SEP;
        else {
            int64_t k = io_vocab_lookup(v, tok);
            id = k >= first_word ? (int32_t)k : IO_TOK_UNK;
            if (id == IO_TOK_UNK && note_unknown(p, tok)) rc = PP_CLEAN_NOMEM;
        }
        if (rc == PP_CLEAN_OK && prompt_add(p, id, tok)) rc = PP_CLEAN_NOMEM;
    }
    /* a prompt ending in a line break continues on a new line */
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r')) len--;
    if (rc == PP_CLEAN_OK && w.n > 0 && len > 0 && text[len - 1] == '\n' &&
        prompt_add(p, IO_TOK_NL, NULL))
        rc = PP_CLEAN_NOMEM;
    pp_words_free(&w);
    if (rc != PP_CLEAN_OK) {
        gen_prompt_free(p);
        return lm_err_set(e, "prompt: out of memory");
    }
    return 0;
}

void gen_prompt_free(gen_prompt *p) {
    for (size_t i = 0; i < p->ids.n && p->spell; i++) free(p->spell[i]);
    for (size_t i = 0; i < p->n_unknown; i++) free(p->unknown[i]);
    free(p->spell);
    free(p->unknown);
    gen_seq_free(&p->ids);
    memset(p, 0, sizeof *p);
}

/* ---- sampling ------------------------------------------------------------------ */

int gen_ctx_init(gen_ctx *x, const gen_model *g, lm_sampler s, lm_err *e) {
    memset(x, 0, sizeof *x);
    x->g = g;
    x->s = s;
    const lm_dims d = g->m.d;
    x->h = calloc((size_t)d.H, sizeof(float));
    x->c = calloc((size_t)d.H, sizeof(float));
    x->logits = malloc((size_t)d.V * sizeof(float));
    x->step = malloc(lm_model_step_scratch_floats(d) * sizeof(float));
    x->samp = malloc(lm_sample_scratch_floats(d.V) * sizeof(float));
    x->tmp = malloc((size_t)d.V * sizeof(float));
    if (!x->h || !x->c || !x->logits || !x->step || !x->samp || !x->tmp) {
        gen_ctx_free(x);
        return lm_err_set(e, "out of memory for generation (V=%d)", d.V);
    }
    return 0;
}

void gen_ctx_free(gen_ctx *x) {
    free(x->h), free(x->c), free(x->logits), free(x->step), free(x->samp), free(x->tmp);
    memset(x, 0, sizeof *x);
}

/* log p(id) under softmax(logits) over the whole vocabulary. */
static float logprob_of(gen_ctx *x, int32_t id) {
    size_t V = (size_t)x->g->m.d.V;
    memcpy(x->tmp, x->logits, V * sizeof(float));
    float m = lm_vmax(x->tmp, V);
    float s = lm_vexp_sum(x->tmp, V, m);
    return x->logits[id] - m - logf(s);
}

static int step(gen_ctx *x, int32_t id, lm_err *e) {
    if (lm_model_step_token(&x->g->m, id, x->h, x->c, x->logits, x->step))
        return lm_err_set(e, "token id %d outside the vocabulary (V=%d)", id, x->g->m.d.V);
    return 0;
}

int gen_prime(gen_ctx *x, const int32_t *prefix, size_t n, gen_seq *out, lm_err *e) {
    const int H = x->g->m.d.H;
    memset(x->h, 0, (size_t)H * sizeof(float));
    memset(x->c, 0, (size_t)H * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        float lp = i ? logprob_of(x, prefix[i]) : 0.0f;
        if (step(x, prefix[i], e)) return -1;
        if (out && gen_seq_push(out, prefix[i], lp)) return lm_err_set(e, "out of memory");
    }
    return 0;
}

int gen_draw_genre(gen_ctx *x, lm_rng *rng) {
    return lm_sample(&x->s, x->logits + IO_TOK_FIRST_GENRE, (int)x->g->v->n_genres, rng, x->samp,
                     NULL);
}

const char *gen_end_name(gen_end end) {
    return end == GEN_END_EOS ? "eos" : end == GEN_END_WORDS ? "max-words" : "max-tokens";
}

/* Ids that are never sampled: <pad>, <unk>, <bos> and the genre tokens. */
static int masked(int32_t id, int32_t first_word) {
    return id == IO_TOK_PAD || id == IO_TOK_UNK || id == IO_TOK_BOS ||
           (id >= IO_TOK_FIRST_GENRE && id < first_word);
}

int gen_continue(gen_ctx *x, lm_rng *rng, const gen_limits *lim, gen_seq *out, long *words,
                 gen_end *end, lm_err *e) {
    const int32_t fw = x->g->first_word, V = x->g->m.d.V;
    float saved[IO_TOK_FIRST_GENRE + IO_VOCAB_MAX_GENRES];
    const int32_t nmask = fw; /* every masked id is below first_word */
    long max_tokens = lim->max_tokens > 0 ? lim->max_tokens : 2 * lim->max_words + 32;
    *words = 0;
    *end = GEN_END_TOKENS;
    for (long t = 0; t < max_tokens; t++) {
        for (int32_t i = 0; i < nmask; i++) {
            saved[i] = x->logits[i];
            if (masked(i, fw)) x->logits[i] = -INFINITY;
        }
        float lp = 0.0f;
        int32_t id = lm_sample(&x->s, x->logits, V, rng, x->samp, &lp);
        /* lp is under the masked softmax; move it to the model's full one:
         * lse_full = lse_masked + log1p(sum over masked ids of exp(z - lse_masked)) */
        float lse_m = x->logits[id] - lp, extra = 0.0f;
        for (int32_t i = 0; i < nmask; i++) {
            if (masked(i, fw)) extra += expf(saved[i] - lse_m);
            x->logits[i] = saved[i];
        }
        lp -= log1pf(extra);
        if (gen_seq_push(out, id, lp)) return lm_err_set(e, "out of memory");
        if (id == IO_TOK_EOS) {
            *end = GEN_END_EOS;
            return 0;
        }
        if (gen_is_word(fw, id) && ++*words >= lim->max_words) {
            *end = GEN_END_WORDS;
            return 0;
        }
        if (step(x, id, e)) return -1;
    }
    return 0;
}
