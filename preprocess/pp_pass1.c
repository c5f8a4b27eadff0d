/* pp_pass1: read, clean, dedup and count, in parallel, deterministically.
 *
 * Threads: one reader (pp_read_file over the inputs in order) fills batches of
 * records and numbers them; N workers clean and tokenize a batch each
 * (pp_clean_song), hash every song (128 bits), claim the hash in the shared
 * dedup set and turn words into ids of their own dictionary, counting the
 * words of the first claimant of each hash only; the calling thread commits
 * batches strictly in sequence order: it decides duplicates (first in input
 * order wins), counts skips, reports warnings, appends kept songs to their
 * split's pass-1 file and plans the shards (pass 2 writes them). So every
 * output depends on the input order only, never on which worker ran what or
 * when.
 * Invariants: at most nb batches exist; batches in flight have consecutive
 * sequence numbers [next_commit, next_seq), so slot[seq % nb] is unique; a
 * batch is touched only by its current owner (reader while filling, one
 * worker while processing, the committer while committing), hand-overs
 * happen under mu. On failure the first error wins and every thread stops. */
#include "pp_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pp_clean.h"
#include "pp_clean_int.h"
#include "pp_dedup.h"
#include "pp_mem.h"

#define BATCH_BYTES (1u << 20)
#define BATCH_SONGS 4096
#define SKIP_NONE PP_N_REASONS

typedef struct song {
    uint64_t text_off, line, bad_off;
    pp_h128 hash;
    uint32_t text_len, file, tok_off, ntok, nunits, n_nl, n_sep;
    int16_t genre;
    uint8_t skip, val, bad_genre; /* bad_genre: the invalid UTF-8 is in the label */
} song;

enum { B_FREE = 0, B_FILLING, B_TODO, B_DONE };

typedef struct batch {
    uint64_t seq;
    int state, owner;
    char *text;
    size_t tlen, tcap;
    song *songs;
    size_t n, cap;
    uint16_t *units; /* encoded ids of the batch's songs (pp_unit_put) */
    size_t nunits, ucap;
} batch;

typedef struct ctx ctx;

typedef struct worker {
    ctx *p;
    int id;
    pp_dict *dict;
    pp_words words;
    pthread_t th;
} worker;

struct ctx {
    const pp_options *o;
    const pp_inputs *in;
    const pp_genre_map *gm;
    pp_pass1 *p1;
    pp_summary *s;
    pp_dedup *dedup;
    double split_threshold;
    uint64_t split_salt;

    pthread_mutex_t mu;
    pthread_cond_t cv_free, cv_todo, cv_done;
    batch *pool;
    int nb, nalloc;
    batch **slot, **freel, **todo;
    int nfree, todo_head, todo_n;
    uint64_t next_seq;
    int reader_done, failed;
    lm_err err;

    /* reader-only state */
    batch *cur;
    uint32_t cur_file;

    /* committer-only state: warnings so far, the pass-1 files (one per split) */
    uint64_t warned;
    FILE *tf[2];
    char tokfile[2][4200];
    uint64_t bytes[2];
};

static void fail(ctx *p, const lm_err *err) {
    pthread_mutex_lock(&p->mu);
    if (!p->failed) {
        p->failed = 1;
        p->err = *err;
    }
    pthread_cond_broadcast(&p->cv_free);
    pthread_cond_broadcast(&p->cv_todo);
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
}

static void failf(ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(ctx *p, const char *fmt, ...) {
    lm_err err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    fail(p, &err);
}

/* ---- batches --------------------------------------------------------------------- */

static batch *take_free(ctx *p) {
    pthread_mutex_lock(&p->mu);
    while (!p->failed && p->nfree == 0 && p->nalloc == p->nb) pthread_cond_wait(&p->cv_free, &p->mu);
    batch *b = NULL;
    if (!p->failed) b = p->nfree ? p->freel[--p->nfree] : &p->pool[p->nalloc++];
    pthread_mutex_unlock(&p->mu);
    if (b) {
        b->state = B_FILLING;
        b->n = b->tlen = b->nunits = 0;
    }
    return b;
}

static void submit(ctx *p, batch *b) {
    pthread_mutex_lock(&p->mu);
    b->seq = p->next_seq++;
    b->state = B_TODO;
    p->slot[b->seq % (uint64_t)p->nb] = b;
    p->todo[(p->todo_head + p->todo_n++) % p->nb] = b;
    pthread_cond_signal(&p->cv_todo);
    pthread_mutex_unlock(&p->mu);
}

/* ---- reader ----------------------------------------------------------------------- */

static int on_record(const pp_record *r, void *vctx) {
    ctx *p = vctx;
    if (!p->cur && !(p->cur = take_free(p))) return 1;
    batch *b = p->cur;
    if (pp_reserve((void **)&b->songs, &b->cap, b->n + 1, sizeof *b->songs)) {
        failf(p, "%s: out of memory", r->path);
        return 1;
    }
    song *s = &b->songs[b->n];
    memset(s, 0, sizeof *s);
    s->file = p->cur_file;
    s->line = r->line;
    s->skip = SKIP_NONE;
    size_t glen = r->genre ? strlen(r->genre) : 0, gbad = glen ? pp_utf8_check(r->genre, glen) : 0;
    if (r->skip == PP_SKIP_MISSING_TEXT || !r->text) {
        s->skip = PP_REASON_MISSING_TEXT;
    } else if (gbad < glen) { /* counted and reported like invalid lyrics */
        s->skip = PP_REASON_BAD_UTF8;
        s->bad_genre = 1;
        s->bad_off = gbad;
    } else {
        int g = pp_genre_resolve(&p->p1->genres, p->gm, p->o->unknown_genre, r->genre);
        if (g == -2) {
            failf(p, "%s:%llu: more than %d distinct genres; map labels with --genre-map or use "
                     "--unknown-genre skip|NAME", r->path, (unsigned long long)r->line, PP_MAX_GENRES);
            return 1;
        }
        if (g < 0) s->skip = PP_REASON_UNKNOWN_GENRE;
        s->genre = (int16_t)g;
    }
    if (s->skip == SKIP_NONE) {
        if (r->text_len > UINT32_MAX) {
            failf(p, "%s:%llu: song text larger than 4 GiB", r->path, (unsigned long long)r->line);
            return 1;
        }
        if (pp_reserve((void **)&b->text, &b->tcap, b->tlen + r->text_len + 1, 1)) {
            failf(p, "%s: out of memory", r->path);
            return 1;
        }
        memcpy(b->text + b->tlen, r->text, r->text_len);
        s->text_off = b->tlen;
        s->text_len = (uint32_t)r->text_len;
        b->tlen += r->text_len;
    }
    b->n++;
    if (b->tlen >= BATCH_BYTES || b->n >= BATCH_SONGS) {
        submit(p, b);
        p->cur = NULL;
    }
    return 0;
}

static void *reader_main(void *arg) {
    ctx *p = arg;
    for (size_t f = 0; f < p->in->n; f++) {
        lm_err err = {{0}};
        p->cur_file = (uint32_t)f;
        int rc = pp_read_file(p->in->v[f].path, &p->o->read, on_record, p, &err);
        if (rc < 0) fail(p, &err);
        if (rc) break;
    }
    if (p->cur) {
        if (p->cur->n) submit(p, p->cur);
        else {
            pthread_mutex_lock(&p->mu);
            p->freel[p->nfree++] = p->cur;
            pthread_mutex_unlock(&p->mu);
        }
        p->cur = NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->reader_done = 1;
    pthread_cond_broadcast(&p->cv_todo);
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- workers ---------------------------------------------------------------------- */

static int process_song(worker *w, batch *b, song *s) {
    ctx *p = w->p;
    pp_words *wd = &w->words;
    size_t bad = 0;
    int rc = pp_clean_song(b->text + s->text_off, s->text_len, wd, &bad);
    if (rc == PP_CLEAN_BAD_UTF8) {
        s->skip = PP_REASON_BAD_UTF8;
        s->bad_off = bad;
        return 0;
    }
    if (rc != PP_CLEAN_OK) return -1;
    if (wd->n_words == 0) {
        s->skip = PP_REASON_EMPTY;
        return 0;
    }
    if (wd->n_words < p->o->min_words) {
        s->skip = PP_REASON_TOO_SHORT;
        return 0;
    }
    s->hash = pp_hash128(wd->buf, wd->len, 0);
    int first = pp_dedup_claim(p->dedup, s->hash);
    if (first < 0 || pp_reserve((void **)&b->units, &b->ucap, b->nunits + 3 * wd->n, sizeof *b->units)) return -1;
    uint16_t *units = b->units + b->nunits;
    uint32_t n_nl, n_sep;
    int64_t nu = pp_encode_words(w->dict, wd, (uint64_t)first, units, &n_nl, &n_sep);
    if (nu < 0) return -1;
    s->tok_off = (uint32_t)b->nunits;
    s->nunits = (uint32_t)nu;
    s->ntok = (uint32_t)wd->n;
    s->n_nl = n_nl;
    s->n_sep = n_sep;
    b->nunits += s->nunits;
    /* the split: a salted hash of the song's identity, uniform in [0, 1) */
    double x = (double)(pp_mix64(s->hash.hi ^ p->split_salt) >> 11) * 0x1.0p-53;
    s->val = x < p->split_threshold;
    return 0;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    ctx *p = w->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->failed && p->todo_n == 0 && !p->reader_done) pthread_cond_wait(&p->cv_todo, &p->mu);
        if (p->failed || p->todo_n == 0) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        batch *b = p->todo[p->todo_head];
        p->todo_head = (p->todo_head + 1) % p->nb;
        p->todo_n--;
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < b->n; i++) {
            song *s = &b->songs[i];
            if (s->skip == SKIP_NONE && process_song(w, b, s)) {
                failf(p, "%s:%llu: out of memory while cleaning", p->in->v[s->file].path,
                      (unsigned long long)s->line);
                return NULL;
            }
        }
        pthread_mutex_lock(&p->mu);
        b->state = B_DONE;
        b->owner = w->id;
        pthread_cond_signal(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* ---- committer (calling thread) ------------------------------------------------------ */

/* Starts a new planned shard of split k at the current end of its file. */
static int plan_shard(ctx *p, int k) {
    pp_pass1 *p1 = p->p1;
    if (p1->nplan[k] == p1->plancap[k]) {
        uint32_t cap = p1->plancap[k] ? p1->plancap[k] * 2 : 16;
        pp_shard_plan *np = realloc(p1->plan[k], cap * sizeof *np);
        if (!np) return -1;
        p1->plan[k] = np;
        p1->plancap[k] = cap;
    }
    p1->plan[k][p1->nplan[k]++] = (pp_shard_plan){p->bytes[k], p->bytes[k], 0, 0};
    return 0;
}

/* Appends one kept song to its split's file and shard plan: a shard is
 * closed before a song would push it past shard_tokens. */
static int write_song(ctx *p, const batch *b, const song *s) {
    int k = s->val;
    pp_pass1 *p1 = p->p1;
    uint64_t n = (uint64_t)s->ntok + 3;
    pp_shard_plan *cur = p1->nplan[k] ? &p1->plan[k][p1->nplan[k] - 1] : NULL;
    if (!cur || (cur->tokens > 0 && cur->tokens + n > p->o->shard_tokens)) {
        if (plan_shard(p, k)) {
            failf(p, "out of memory");
            return -1;
        }
        cur = &p1->plan[k][p1->nplan[k] - 1];
    }
    pp_rec_hdr h = {s->ntok, s->nunits, (uint8_t)s->genre, (uint8_t)b->owner, {0, 0}};
    if (fwrite(&h, sizeof h, 1, p->tf[k]) != 1 ||
        fwrite(b->units + s->tok_off, 2, s->nunits, p->tf[k]) != s->nunits) {
        failf(p, "%s: write failed: %s", p->tokfile[k], strerror(errno));
        return -1;
    }
    p->bytes[k] += sizeof h + 2 * (uint64_t)s->nunits;
    cur->end = p->bytes[k];
    cur->tokens += n;
    cur->songs++;
    return 0;
}

static int commit(ctx *p, batch *b) {
    pp_summary *sm = p->s;
    for (size_t i = 0; i < b->n; i++) {
        song *s = &b->songs[i];
        sm->songs_read++;
        if (s->skip != SKIP_NONE) {
            sm->skipped[s->skip]++;
            if (s->skip == PP_REASON_BAD_UTF8 && p->o->warn && p->warned++ < (uint64_t)p->o->max_warnings) {
                char msg[1200];
                snprintf(msg, sizeof msg, "%s:%llu: invalid UTF-8 at byte %llu of the %s; song skipped",
                         p->in->v[s->file].path, (unsigned long long)s->line,
                         (unsigned long long)s->bad_off, s->bad_genre ? "genre label" : "song text");
                p->o->warn(p->o->warn_ctx, msg);
            }
            continue;
        }
        int keep = pp_dedup_commit(p->dedup, s->hash);
        if (keep < 0) {
            failf(p, "out of memory in the dedup set");
            return -1;
        }
        if (!keep) {
            sm->duplicates++;
            continue;
        }
        sm->songs_kept++;
        p->p1->genres.songs[s->genre]++;
        p->p1->nl_count += s->n_nl;
        p->p1->sep_count += s->n_sep;
        sm->word_tokens += s->ntok - s->n_nl - s->n_sep;
        if (s->val) sm->val_songs++, sm->val_tokens += s->ntok + 3;
        else sm->train_songs++, sm->train_tokens += s->ntok + 3;
        if (write_song(p, b, s)) return -1;
    }
    return 0;
}

static void commit_loop(ctx *p) {
    for (uint64_t next = 0;; next++) {
        batch *b = NULL;
        pthread_mutex_lock(&p->mu);
        while (!p->failed) {
            b = p->slot[next % (uint64_t)p->nb];
            if (b && b->seq == next && b->state == B_DONE) break;
            b = NULL;
            if (p->reader_done && next == p->next_seq) break;
            pthread_cond_wait(&p->cv_done, &p->mu);
        }
        pthread_mutex_unlock(&p->mu);
        if (!b || commit(p, b)) return;
        pthread_mutex_lock(&p->mu);
        p->slot[next % (uint64_t)p->nb] = NULL;
        b->state = B_FREE;
        p->freel[p->nfree++] = b;
        pthread_cond_signal(&p->cv_free);
        pthread_mutex_unlock(&p->mu);
    }
}

/* ---- entry ---------------------------------------------------------------------------- */

void pp_pass1_free(pp_pass1 *p1) {
    for (int i = 0; i < p1->n_dicts; i++) pp_dict_free(&p1->dicts[i]);
    free(p1->dicts);
    p1->dicts = NULL;
    p1->n_dicts = 0;
    for (int k = 0; k < 2; k++) {
        free(p1->plan[k]);
        p1->plan[k] = NULL;
        p1->nplan[k] = p1->plancap[k] = 0;
    }
}

int pp_pass1_run(const pp_options *o, const pp_inputs *in, const pp_genre_map *gm,
                 const char *tmpdir, int threads, pp_pass1 *p1, pp_summary *s, lm_err *e) {
    memset(p1, 0, sizeof *p1);
    ctx *p = calloc(1, sizeof *p);
    worker *w = calloc((size_t)threads, sizeof *w);
    p1->dicts = calloc((size_t)threads, sizeof *p1->dicts);
    if (!p || !w || !p1->dicts) {
        free(p), free(w), free(p1->dicts);
        p1->dicts = NULL;
        return lm_err_set(e, "out of memory");
    }
    p->o = o, p->in = in, p->gm = gm, p->p1 = p1, p->s = s;
    p->split_threshold = o->val_fraction;
    p->split_salt = pp_mix64(o->seed ^ 0x5350c17a11d5eedULL);
    p->nb = 2 * threads + 4;
    p->pool = calloc((size_t)p->nb, sizeof *p->pool);
    p->slot = calloc((size_t)p->nb, sizeof *p->slot);
    p->freel = calloc((size_t)p->nb, sizeof *p->freel);
    p->todo = calloc((size_t)p->nb, sizeof *p->todo);
    p->dedup = pp_dedup_new();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    pthread_cond_init(&p->cv_todo, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    int started = 0;
    pthread_t reader;
    int reader_started = 0;
    if (!p->pool || !p->slot || !p->freel || !p->todo || !p->dedup) {
        failf(p, "out of memory");
        goto join;
    }
    for (int i = 0; i < threads; i++) {
        if (pp_dict_init(&p1->dicts[i])) {
            failf(p, "out of memory");
            goto join;
        }
        p1->n_dicts = i + 1;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(p->tokfile[k], sizeof p->tokfile[k], "%s/%s", tmpdir, k ? PP_PASS1_VAL : PP_PASS1_TRAIN);
        if (!(p->tf[k] = fopen(p->tokfile[k], "wb"))) {
            failf(p, "%s: cannot create: %s", p->tokfile[k], strerror(errno));
            goto join;
        }
        setvbuf(p->tf[k], NULL, _IOFBF, 1 << 22);
    }
    for (; started < threads; started++) {
        w[started] = (worker){.p = p, .id = started, .dict = &p1->dicts[started]};
        if (pthread_create(&w[started].th, NULL, worker_main, &w[started])) {
            failf(p, "cannot start a worker thread");
            break;
        }
    }
    if (!p->failed) {
        if (pthread_create(&reader, NULL, reader_main, p)) failf(p, "cannot start the reader thread");
        else reader_started = 1;
    }
    if (reader_started) commit_loop(p);
join:
    if (!reader_started) { /* unblock workers waiting for batches */
        pthread_mutex_lock(&p->mu);
        p->reader_done = 1;
        pthread_cond_broadcast(&p->cv_todo);
        pthread_mutex_unlock(&p->mu);
    } else {
        pthread_join(reader, NULL);
    }
    for (int i = 0; i < started; i++) pthread_join(w[i].th, NULL);
    for (int k = 0; k < 2; k++)
        if (p->tf[k] && fclose(p->tf[k]) != 0 && !p->failed)
            failf(p, "%s: write failed: %s", p->tokfile[k], strerror(errno));
    if (!p->failed && p->warned > (uint64_t)o->max_warnings && o->warn) {
        char msg[160];
        snprintf(msg, sizeof msg, "... and %llu more songs with invalid UTF-8 (not shown)",
                 (unsigned long long)(p->warned - (uint64_t)o->max_warnings));
        o->warn(o->warn_ctx, msg);
    }
    int rc = 0;
    if (p->failed) {
        *e = p->err;
        rc = -1;
        pp_pass1_free(p1);
    }
    for (int i = 0; i < started; i++) pp_words_free(&w[i].words);
    for (int i = 0; i < p->nalloc; i++) free(p->pool[i].text), free(p->pool[i].songs), free(p->pool[i].units);
    pp_genres_free(&p1->genres);
    free(p->pool), free(p->slot), free(p->freel), free(p->todo);
    pp_dedup_free(p->dedup);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_free);
    pthread_cond_destroy(&p->cv_todo);
    pthread_cond_destroy(&p->cv_done);
    free(p);
    free(w);
    return rc;
}
