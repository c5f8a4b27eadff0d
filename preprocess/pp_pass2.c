/* pp_pass2: the vocabulary, then the shards.
 *
 * Genres get their final ids (canonical genres with kept songs in canonical
 * order, then the others by name), the word dictionaries of pass 1 are merged
 * and the vocabulary is chosen (pp_vocab_select) or, with --vocab FILE, words
 * and genres are mapped onto a given one; vocab.h5 is written, and the
 * pass-1 file is streamed once: provisional ids become final uint16 ids
 * through one lookup table per dictionary, each song becomes
 * <bos> <genre:NAME> tokens... <eos>. Pass 1 already planned which songs go
 * to which shard (a shard is closed before a song would push it past
 * shard_tokens; a longer song gets a shard of its own), so shards are written
 * in parallel, each from its own byte range. Memory: the lookup tables and
 * one song and one zstd chunk per thread.
 * Invariant: everything written depends only on the pass-1 file's content and
 * the dictionaries' (word, count) pairs, never on how words were spread over
 * the dictionaries. */
#include "pp_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io_shard.h"
#include "io_vocab.h"
#include "lm_sys.h"

static const char *const SPECIALS[IO_TOK_FIRST_GENRE] = {"<pad>", "<unk>", "<bos>", "<eos>", "<nl>", "<sep>"};

/* Final genre order: canonical ones first (fixed order), then by name. */
static void order_genres(const pp_genres *g, int *final_of, int *prov_of, int *n_final) {
    int n = 0;
    for (int c = 0; c < PP_N_CANONICAL; c++)
        for (int i = 0; i < g->n; i++)
            if (g->songs[i] && strcmp(g->name[i], pp_genre_canonical(c)) == 0) prov_of[n++] = i;
    int first_other = n;
    for (int i = 0; i < g->n; i++)
        if (g->songs[i] && pp_genre_canonical_index(g->name[i]) < 0) {
            int j = n++;
            while (j > first_other && strcmp(g->name[prov_of[j - 1]], g->name[i]) > 0) {
                prov_of[j] = prov_of[j - 1];
                j--;
            }
            prov_of[j] = i;
        }
    for (int i = 0; i < PP_MAX_GENRES; i++) final_of[i] = -1;
    for (int f = 0; f < n; f++) final_of[prov_of[f]] = f;
    *n_final = n;
}

static int write_vocab(const char *path, const pp_vocab_pick *pk, const pp_pass1 *p1,
                       const int *prov_of, int G, pp_summary *s, lm_err *e) {
    uint32_t V = IO_TOK_FIRST_GENRE + (uint32_t)G + pk->n_words;
    io_vocab v = {.size = V, .n_genres = (uint32_t)G};
    v.tokens = calloc(V, sizeof *v.tokens);
    v.counts = calloc(V, sizeof *v.counts);
    v.genres = calloc((size_t)G + 1, sizeof *v.genres);
    char *gtok = malloc((size_t)G * (PP_GENRE_NAME_MAX + 16) + 1);
    int rc = -1;
    if (!v.tokens || !v.counts || !v.genres || !gtok) {
        lm_err_set(e, "out of memory");
        goto out;
    }
    for (int i = 0; i < IO_TOK_FIRST_GENRE; i++) v.tokens[i] = (char *)SPECIALS[i];
    v.counts[IO_TOK_UNK] = pk->oov_count;
    v.counts[IO_TOK_BOS] = v.counts[IO_TOK_EOS] = s->songs_kept;
    v.counts[IO_TOK_NL] = p1->nl_count;
    v.counts[IO_TOK_SEP] = p1->sep_count;
    for (int g = 0; g < G; g++) {
        char *t = gtok + (size_t)g * (PP_GENRE_NAME_MAX + 16);
        snprintf(t, PP_GENRE_NAME_MAX + 16, "<genre:%s>", p1->genres.name[prov_of[g]]);
        v.tokens[IO_TOK_FIRST_GENRE + g] = t;
        v.counts[IO_TOK_FIRST_GENRE + g] = p1->genres.songs[prov_of[g]];
        v.genres[g] = (char *)p1->genres.name[prov_of[g]];
        snprintf(s->genres[g], sizeof s->genres[g], "%s", v.genres[g]);
        s->genre_songs[g] = p1->genres.songs[prov_of[g]];
    }
    for (uint32_t r = 0; r < pk->n_words; r++) {
        v.tokens[IO_TOK_FIRST_GENRE + G + r] = pk->words[r];
        v.counts[IO_TOK_FIRST_GENRE + G + r] = pk->counts[r];
    }
    v.hash = io_vocab_hash(v.tokens, V);
    if (io_vocab_write(path, &v, e)) goto out;
    s->vocab_size = V;
    s->vocab_hash = v.hash;
    s->n_genres = (uint32_t)G;
    rc = 0;
out:
    free(v.tokens);
    free(v.counts);
    free(v.genres);
    free(gtok);
    return rc;
}

/* The shard writers: threads take planned shards in order (train first, then
 * val) and each writes its own; a shard depends only on its byte range of
 * the pass-1 file, so any number of threads gives the same files. */
typedef struct shard_job {
    int split;
    uint32_t index;
} shard_job;

typedef struct writers {
    const pp_options *o;
    const char *dir;
    const pp_pass1 *p1;
    const pp_summary *s;
    uint16_t **map;
    const uint32_t *dict_n;
    const int *genre_final;
    char tokfile[2][4200];
    shard_job *jobs;
    uint32_t njobs, next;
    pthread_mutex_t mu;
    int failed;
    lm_err err;
} writers;

static void writers_fail(writers *w, const lm_err *e) {
    pthread_mutex_lock(&w->mu);
    if (!w->failed) w->failed = 1, w->err = *e;
    pthread_mutex_unlock(&w->mu);
}

/* Writes one planned shard from its byte range of the pass-1 file. */
static int write_shard(writers *w, FILE *tf, int k, uint32_t index, uint16_t **units, uint16_t **tok,
                       size_t *cap, lm_err *e) {
    const pp_shard_plan *pl = &w->p1->plan[k][index];
    const char *tokfile = w->tokfile[k];
    char path[4200];
    snprintf(path, sizeof path, "%s/%s-%05u.h5", w->dir, k ? "val" : "train", index);
    if (fseeko(tf, (off_t)pl->start, SEEK_SET) != 0) return lm_err_set(e, "%s: seek failed", tokfile);
    io_shard_opts so = {.zstd_level = w->o->zstd_level};
    io_shard_writer *sw = io_shard_writer_open_opts(path, w->s->vocab_hash, w->s->vocab_size, &so, e);
    if (!sw) return -1;
    uint64_t pos = pl->start;
    int rc = 0;
    while (pos < pl->end && !rc) {
        pp_rec_hdr h;
        if (fread(&h, sizeof h, 1, tf) != 1) {
            rc = lm_err_set(e, "%s: truncated", tokfile);
            break;
        }
        if (h.owner >= w->p1->n_dicts || w->genre_final[h.genre] < 0 || h.nunits < h.ntok ||
            h.nunits > 3 * (uint64_t)h.ntok) {
            rc = lm_err_set(e, "%s: corrupt record", tokfile);
            break;
        }
        if ((size_t)h.nunits + 3 > *cap) {
            size_t c = ((size_t)h.nunits + 3) * 2;
            uint16_t *nu = realloc(*units, c * sizeof *nu);
            if (nu) *units = nu;
            uint16_t *nt = realloc(*tok, c * sizeof *nt);
            if (nt) *tok = nt;
            if (!nu || !nt) {
                rc = lm_err_set(e, "out of memory");
                break;
            }
            *cap = c;
        }
        if (fread(*units, 2, h.nunits, tf) != h.nunits) {
            rc = lm_err_set(e, "%s: truncated", tokfile);
            break;
        }
        pos += sizeof h + 2 * (uint64_t)h.nunits;
        const uint16_t *m = w->map[h.owner];
        uint32_t lim = w->dict_n[h.owner] + PP_LOCAL_WORD0, bad = 0, i = 0;
        uint16_t *t = *tok;
        const uint16_t *u = *units, *uend = u + h.nunits;
        t[0] = IO_TOK_BOS;
        t[1] = (uint16_t)(IO_TOK_FIRST_GENRE + w->genre_final[h.genre]);
        for (; u < uend && i < h.ntok; i++) {
            uint32_t id = *u++;
            if (id == PP_UNIT_ESCAPE) {
                bad |= uend - u < 2;
                id = uend - u < 2 ? 0 : (uint32_t)u[0] | (uint32_t)u[1] << 16;
                u += 2;
            }
            bad |= id >= lim;
            t[i + 2] = m[id < lim ? id : 0];
        }
        t[h.ntok + 2] = IO_TOK_EOS;
        if (bad || i != h.ntok || u != uend) rc = lm_err_set(e, "%s: corrupt record", tokfile);
        else rc = io_shard_writer_add(sw, t, h.ntok + 3, (uint8_t)w->genre_final[h.genre], e);
        if (!rc && __atomic_load_n(&w->failed, __ATOMIC_RELAXED)) rc = -1; /* another shard failed */
    }
    if (!rc && io_shard_writer_tokens(sw) != pl->tokens)
        rc = lm_err_set(e, "%s: %llu tokens written, %llu planned", path,
                        (unsigned long long)io_shard_writer_tokens(sw), (unsigned long long)pl->tokens);
    if (rc) {
        io_shard_writer_abort(sw);
        return -1;
    }
    return io_shard_writer_close(sw, e);
}

static void *writer_main(void *arg) {
    writers *w = arg;
    FILE *tf[2] = {NULL, NULL};
    uint16_t *units = NULL, *tok = NULL;
    size_t cap = 0;
    lm_err e = {{0}};
    for (;;) {
        pthread_mutex_lock(&w->mu);
        uint32_t j = w->failed ? w->njobs : w->next++;
        pthread_mutex_unlock(&w->mu);
        if (j >= w->njobs) break;
        int k = w->jobs[j].split;
        if (!tf[k]) {
            if (!(tf[k] = fopen(w->tokfile[k], "rb"))) {
                lm_err_set(&e, "%s: cannot open: %s", w->tokfile[k], strerror(errno));
                writers_fail(w, &e);
                break;
            }
            setvbuf(tf[k], NULL, _IOFBF, 1 << 20);
        }
        if (write_shard(w, tf[k], k, w->jobs[j].index, &units, &tok, &cap, &e)) {
            writers_fail(w, &e); /* no-op when another shard failed first */
            break;
        }
    }
    for (int k = 0; k < 2; k++)
        if (tf[k]) fclose(tf[k]);
    free(units);
    free(tok);
    return NULL;
}

static int write_shards(writers *w, int threads, pp_shards *sh, lm_err *e) {
    const pp_pass1 *p1 = w->p1;
    w->njobs = p1->nplan[0] + p1->nplan[1];
    w->jobs = malloc(((size_t)w->njobs + 1) * sizeof *w->jobs);
    sh->train = calloc((size_t)p1->nplan[0] + 1, sizeof *sh->train);
    sh->val = calloc((size_t)p1->nplan[1] + 1, sizeof *sh->val);
    if (!w->jobs || !sh->train || !sh->val) {
        free(w->jobs);
        return lm_err_set(e, "out of memory");
    }
    uint32_t j = 0;
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < p1->nplan[k]; i++) {
            w->jobs[j++] = (shard_job){k, i};
            pp_shard_info *si = k ? &sh->val[i] : &sh->train[i];
            snprintf(si->name, sizeof si->name, "%s-%05u.h5", k ? "val" : "train", i);
            si->tokens = p1->plan[k][i].tokens;
            si->songs = p1->plan[k][i].songs;
        }
    sh->n_train = p1->nplan[0];
    sh->n_val = p1->nplan[1];
    if (threads > (int)w->njobs) threads = (int)w->njobs;
    pthread_t th[256];
    int started = 0;
    pthread_mutex_init(&w->mu, NULL);
    for (; started < threads - 1; started++)
        if (pthread_create(&th[started], NULL, writer_main, w)) break;
    writer_main(w); /* the calling thread is one of the writers */
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&w->mu);
    free(w->jobs);
    if (w->failed) {
        *e = w->err;
        return -1;
    }
    return 0;
}

void pp_shards_free(pp_shards *sh) {
    free(sh->train);
    free(sh->val);
    memset(sh, 0, sizeof *sh);
}

/* Lookup tables from provisional ids (per dictionary) to final ids. */
static int alloc_maps(const pp_pass1 *p1, uint16_t **map, uint32_t *dict_n, lm_err *e) {
    for (int k = 0; k < p1->n_dicts; k++) {
        dict_n[k] = p1->dicts[k].n;
        map[k] = malloc(((size_t)dict_n[k] + PP_LOCAL_WORD0) * sizeof **map);
        if (!map[k]) return lm_err_set(e, "out of memory");
        map[k][PP_LOCAL_NL] = IO_TOK_NL;
        map[k][PP_LOCAL_SEP] = IO_TOK_SEP;
    }
    return 0;
}

/* Chooses the vocabulary from the counts, writes vocab.h5, fills the maps. */
static int choose_vocab(const pp_options *o, const char *vpath, pp_pass1 *p1, int *genre_final,
                        uint16_t **map, uint32_t *dict_n, pp_summary *s, lm_err *e) {
    int prov_of[PP_MAX_GENRES], G;
    order_genres(&p1->genres, genre_final, prov_of, &G);
    uint32_t need = IO_TOK_FIRST_GENRE + (uint32_t)G + 1;
    if (o->vocab_size < need)
        return lm_err_set(e, "--vocab-size %u is too small: the %d special and %d genre tokens "
                             "leave no room for words (need at least %u)",
                          o->vocab_size, IO_TOK_FIRST_GENRE, G, need);
    pp_vocab_pick pk;
    pp_dict *dicts[256];
    for (int k = 0; k < p1->n_dicts; k++) dicts[k] = &p1->dicts[k];
    if (pp_vocab_select(dicts, p1->n_dicts, o->min_count, o->vocab_size - need + 1, &pk, e)) return -1;
    int rc = 0;
    if (pk.total_count != s->word_tokens)
        rc = lm_err_set(e, "internal error: word counts (%llu) disagree with kept songs (%llu)",
                        (unsigned long long)pk.total_count, (unsigned long long)s->word_tokens);
    s->word_types = pk.n_types;
    s->oov_tokens = pk.oov_count;
    if (!rc) rc = write_vocab(vpath, &pk, p1, prov_of, G, s, e);
    if (!rc) rc = alloc_maps(p1, map, dict_n, e);
    uint32_t first_word = IO_TOK_FIRST_GENRE + (uint32_t)G;
    for (int k = 0; k < p1->n_dicts && !rc; k++)
        for (uint32_t i = 0; i < dict_n[k]; i++) {
            uint32_t r = pk.map[k][i];
            map[k][PP_LOCAL_WORD0 + i] = (uint16_t)(r == UINT32_MAX ? IO_TOK_UNK : first_word + r);
        }
    pp_vocab_pick_free(&pk, p1->n_dicts);
    return rc;
}

/* --vocab FILE: maps the words and genres onto an existing vocabulary (so
 * corpora preprocessed apart share ids) and copies it to vocab.h5. */
static int use_vocab(const pp_options *o, const char *vpath, pp_pass1 *p1, int *genre_final,
                     uint16_t **map, uint32_t *dict_n, pp_summary *s, lm_err *e) {
    io_vocab v;
    if (io_vocab_read(o->vocab_file, &v, e)) return -1;
    pp_dict vd, all;
    uint64_t *c = NULL;
    int rc = 0;
    if (pp_dict_init(&vd) || pp_dict_init(&all)) rc = lm_err_set(e, "out of memory");
    for (int i = 0; i < PP_MAX_GENRES; i++) genre_final[i] = -1;
    s->n_genres = v.n_genres;
    for (uint32_t j = 0; j < v.n_genres && !rc; j++) {
        snprintf(s->genres[j], sizeof s->genres[j], "%s", v.genres[j]);
        s->genre_songs[j] = 0;
    }
    for (int g = 0; g < p1->genres.n && !rc; g++) {
        if (!p1->genres.songs[g]) continue;
        for (uint32_t j = 0; j < v.n_genres && genre_final[g] < 0; j++)
            if (strcasecmp(v.genres[j], p1->genres.name[g]) == 0) genre_final[g] = (int)j;
        if (genre_final[g] < 0)
            rc = lm_err_set(e, "%s: has no genre '%s' (%llu songs of the inputs); map it with --genre-map",
                            o->vocab_file, p1->genres.name[g], (unsigned long long)p1->genres.songs[g]);
        else s->genre_songs[genre_final[g]] += p1->genres.songs[g];
    }
    uint32_t first_word = IO_TOK_FIRST_GENRE + v.n_genres;
    for (uint32_t i = first_word; i < v.size && !rc; i++)
        if (pp_dict_intern(&vd, v.tokens[i], strlen(v.tokens[i])) != (int64_t)(i - first_word))
            rc = lm_err_set(e, "%s: token %u '%s' appears twice", o->vocab_file, i, v.tokens[i]);
    if (!rc) rc = alloc_maps(p1, map, dict_n, e);
    uint64_t total = 0, oov = 0;
    for (int k = 0; k < p1->n_dicts && !rc; k++) {
        const pp_dict *d = &p1->dicts[k];
        free(c);
        if (!(c = malloc(((size_t)d->n + 1) * sizeof *c))) {
            rc = lm_err_set(e, "out of memory");
            break;
        }
        pp_dict_counts(d, c);
        for (uint32_t i = 0; i < d->n; i++) {
            int64_t f = pp_dict_find(&vd, pp_dict_word(d, i), d->wlen[i]);
            map[k][PP_LOCAL_WORD0 + i] = (uint16_t)(f < 0 ? IO_TOK_UNK : first_word + (uint32_t)f);
            total += c[i];
            oov += f < 0 ? c[i] : 0;
            if (pp_dict_intern(&all, pp_dict_word(d, i), d->wlen[i]) < 0) rc = lm_err_set(e, "out of memory");
        }
    }
    s->word_types = all.n;
    s->oov_tokens = oov;
    if (!rc && total != s->word_tokens)
        rc = lm_err_set(e, "internal error: word counts (%llu) disagree with kept songs (%llu)",
                        (unsigned long long)total, (unsigned long long)s->word_tokens);
    if (!rc) rc = io_vocab_write(vpath, &v, e);
    s->vocab_size = v.size;
    s->vocab_hash = v.hash;
    free(c);
    pp_dict_free(&vd);
    pp_dict_free(&all);
    io_vocab_free(&v);
    return rc;
}

int pp_pass2_run(const pp_options *o, const char *tmpdir, int threads, pp_pass1 *p1,
                 pp_shards *sh, pp_summary *s, lm_err *e) {
    memset(sh, 0, sizeof *sh);
    if (p1->n_dicts > 256) return lm_err_set(e, "too many threads (max 256)");
    double t0 = lm_sys_now();
    char vpath[4200];
    snprintf(vpath, sizeof vpath, "%s/vocab.h5", tmpdir);
    int genre_final[PP_MAX_GENRES];
    uint16_t *map[256] = {0};
    uint32_t dict_n[256];
    int rc = o->vocab_file ? use_vocab(o, vpath, p1, genre_final, map, dict_n, s, e)
                           : choose_vocab(o, vpath, p1, genre_final, map, dict_n, s, e);
    s->oov_rate = s->word_tokens ? (double)s->oov_tokens / (double)s->word_tokens : 0.0;
    s->vocab_s = lm_sys_now() - t0;
    /* the dictionaries are no longer needed: free them before the shards */
    for (int k = 0; k < p1->n_dicts; k++) pp_dict_free(&p1->dicts[k]);
    t0 = lm_sys_now();
    writers w = {.o = o, .dir = tmpdir, .p1 = p1, .s = s, .map = map, .dict_n = dict_n,
                 .genre_final = genre_final};
    for (int k = 0; k < 2; k++)
        snprintf(w.tokfile[k], sizeof w.tokfile[k], "%s/%s", tmpdir, k ? PP_PASS1_VAL : PP_PASS1_TRAIN);
    if (!rc) rc = write_shards(&w, threads, sh, e);
    for (int k = 0; k < p1->n_dicts; k++) free(map[k]);
    for (int k = 0; k < 2 && !rc; k++)
        if (unlink(w.tokfile[k]) != 0) rc = lm_err_set(e, "%s: cannot remove: %s", w.tokfile[k], strerror(errno));
    s->train_shards = sh->n_train;
    s->val_shards = sh->n_val;
    s->pass2_s = lm_sys_now() - t0;
    return rc;
}
