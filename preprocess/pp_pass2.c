/* pp_pass2: the vocabulary, then the shards.
 *
 * Genres get their final ids (canonical genres with kept songs in canonical
 * order, then the others by name), the word dictionaries of pass 1 are merged
 * and the vocabulary is chosen (pp_vocab_select), vocab.h5 is written, and the
 * pass-1 file is streamed once: provisional ids become final uint16 ids
 * through one lookup table per dictionary, each song becomes
 * <bos> <genre:NAME> tokens... <eos>, and goes to the train or val shard
 * series. A shard is closed before a song would push it past shard_tokens
 * (a song longer than that gets a shard of its own), so shards hold whole
 * songs. Memory: the lookup tables and one song.
 * Invariant: everything written depends only on the pass-1 file's content and
 * the dictionaries' (word, count) pairs, never on how words were spread over
 * the dictionaries. */
#include "pp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_shard.h"
#include "io_vocab.h"

static const char *const SPECIALS[IO_TOK_FIRST_GENRE] = {"<pad>", "<unk>", "<bos>", "<eos>", "<nl>", "<sep>"};

/* Final genre order: canonical ones first (fixed order), then by name. */
static void order_genres(const pp_genre_table *g, int *final_of, int *prov_of, int *n_final) {
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

typedef struct series {
    const char *prefix;
    io_shard_writer *w;
    pp_shard_info *info;
    uint32_t n, cap;
} series;

static int series_close(series *sr, lm_err *e) {
    if (!sr->w) return 0;
    pp_shard_info *si = &sr->info[sr->n - 1];
    si->tokens = io_shard_writer_tokens(sr->w);
    io_shard_writer *w = sr->w;
    sr->w = NULL;
    return io_shard_writer_close(w, e);
}

static int series_add(series *sr, const char *dir, uint64_t shard_tokens, uint64_t vhash, uint32_t V,
                      const uint16_t *tok, size_t n, uint8_t genre, lm_err *e) {
    if (sr->w && io_shard_writer_tokens(sr->w) > 0 && io_shard_writer_tokens(sr->w) + n > shard_tokens &&
        series_close(sr, e))
        return -1;
    if (!sr->w) {
        if (sr->n == sr->cap) {
            uint32_t cap = sr->cap ? sr->cap * 2 : 16;
            pp_shard_info *in = realloc(sr->info, cap * sizeof *in);
            if (!in) return lm_err_set(e, "out of memory");
            sr->info = in;
            sr->cap = cap;
        }
        pp_shard_info *si = &sr->info[sr->n];
        memset(si, 0, sizeof *si);
        snprintf(si->name, sizeof si->name, "%s-%05u.h5", sr->prefix, sr->n);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, si->name);
        if (!(sr->w = io_shard_writer_open(path, vhash, V, e))) return -1;
        sr->n++;
    }
    sr->info[sr->n - 1].songs++;
    return io_shard_writer_add(sr->w, tok, n, genre, e);
}

static int write_shards(const pp_options *o, const char *dir, const char *tokfile, uint16_t **map,
                        int ndicts, const uint32_t *dict_n, const int *genre_final, pp_shards *sh,
                        const pp_summary *s, lm_err *e) {
    FILE *tf = fopen(tokfile, "rb");
    if (!tf) return lm_err_set(e, "%s: cannot open: %s", tokfile, strerror(errno));
    setvbuf(tf, NULL, _IOFBF, 1 << 22);
    series sr[2] = {{.prefix = "train"}, {.prefix = "val"}};
    uint32_t *ids = NULL;
    uint16_t *tok = NULL;
    size_t cap = 0;
    int rc = -1;
    for (;;) {
        pp_rec_hdr h;
        size_t got = fread(&h, sizeof h, 1, tf);
        if (got != 1) {
            if (ferror(tf)) lm_err_set(e, "%s: read error", tokfile);
            else rc = 0;
            break;
        }
        if (h.owner >= ndicts || h.val > 1 || genre_final[h.genre] < 0) {
            lm_err_set(e, "%s: corrupt record", tokfile);
            break;
        }
        if ((size_t)h.ntok + 3 > cap) {
            size_t c = ((size_t)h.ntok + 3) * 2;
            uint32_t *ni = realloc(ids, c * sizeof *ni);
            if (ni) ids = ni;
            uint16_t *nt = realloc(tok, c * sizeof *nt);
            if (nt) tok = nt;
            if (!ni || !nt) {
                lm_err_set(e, "out of memory");
                break;
            }
            cap = c;
        }
        if (fread(ids, 4, h.ntok, tf) != h.ntok) {
            lm_err_set(e, "%s: truncated", tokfile);
            break;
        }
        const uint16_t *m = map[h.owner];
        uint32_t lim = dict_n[h.owner] + PP_LOCAL_WORD0, bad = 0;
        tok[0] = IO_TOK_BOS;
        tok[1] = (uint16_t)(IO_TOK_FIRST_GENRE + genre_final[h.genre]);
        for (uint32_t i = 0; i < h.ntok; i++) {
            uint32_t id = ids[i];
            bad |= id >= lim;
            tok[i + 2] = m[id < lim ? id : 0];
        }
        tok[h.ntok + 2] = IO_TOK_EOS;
        if (bad) {
            lm_err_set(e, "%s: corrupt record", tokfile);
            break;
        }
        if (series_add(&sr[h.val], dir, o->shard_tokens, s->vocab_hash, s->vocab_size, tok, h.ntok + 3,
                       (uint8_t)genre_final[h.genre], e))
            break;
    }
    fclose(tf);
    free(ids);
    free(tok);
    for (int k = 0; k < 2; k++) {
        if (rc == 0 && series_close(&sr[k], e)) rc = -1;
        if (sr[k].w) io_shard_writer_abort(sr[k].w);
    }
    sh->train = sr[0].info, sh->n_train = sr[0].n;
    sh->val = sr[1].info, sh->n_val = sr[1].n;
    return rc;
}

void pp_shards_free(pp_shards *sh) {
    free(sh->train);
    free(sh->val);
    memset(sh, 0, sizeof *sh);
}

int pp_pass2_run(const pp_options *o, const char *tmpdir, pp_pass1 *p1, pp_shards *sh,
                 pp_summary *s, lm_err *e) {
    memset(sh, 0, sizeof *sh);
    int genre_final[PP_MAX_GENRES], prov_of[PP_MAX_GENRES], G;
    order_genres(&p1->genres, genre_final, prov_of, &G);
    uint32_t need = IO_TOK_FIRST_GENRE + (uint32_t)G + 1;
    if (o->vocab_size < need)
        return lm_err_set(e, "--vocab-size %u is too small: the %d special and %d genre tokens "
                             "leave no room for words (need at least %u)",
                          o->vocab_size, IO_TOK_FIRST_GENRE, G, need);
    if (o->vocab_size > 65536) return lm_err_set(e, "--vocab-size %u does not fit uint16 ids (max 65536)", o->vocab_size);
    double t0 = pp_now();
    pp_vocab_pick pk;
    pp_dict *dicts[256];
    if (p1->n_dicts > 256) return lm_err_set(e, "too many threads (max 256)");
    for (int k = 0; k < p1->n_dicts; k++) dicts[k] = &p1->dicts[k];
    if (pp_vocab_select(dicts, p1->n_dicts, o->min_count, o->vocab_size - need + 1, &pk, e)) return -1;
    if (pk.total_count != s->word_tokens) {
        pp_vocab_pick_free(&pk, p1->n_dicts);
        return lm_err_set(e, "internal error: word counts (%llu) disagree with kept songs (%llu)",
                          (unsigned long long)pk.total_count, (unsigned long long)s->word_tokens);
    }
    s->word_types = pk.n_types;
    s->oov_tokens = pk.oov_count;
    s->oov_rate = pk.total_count ? (double)pk.oov_count / (double)pk.total_count : 0.0;
    char path[4200], tokfile[4200];
    snprintf(path, sizeof path, "%s/vocab.h5", tmpdir);
    snprintf(tokfile, sizeof tokfile, "%s/%s", tmpdir, PP_PASS1_FILE);
    int rc = write_vocab(path, &pk, p1, prov_of, G, s, e);
    uint16_t *map[256] = {0};
    uint32_t dict_n[256];
    uint32_t first_word = IO_TOK_FIRST_GENRE + (uint32_t)G;
    for (int k = 0; k < p1->n_dicts && !rc; k++) {
        dict_n[k] = p1->dicts[k].n;
        map[k] = malloc(((size_t)dict_n[k] + PP_LOCAL_WORD0) * sizeof **map);
        if (!map[k]) {
            rc = lm_err_set(e, "out of memory");
            break;
        }
        map[k][PP_LOCAL_NL] = IO_TOK_NL;
        map[k][PP_LOCAL_SEP] = IO_TOK_SEP;
        for (uint32_t i = 0; i < dict_n[k]; i++) {
            uint32_t r = pk.map[k][i];
            map[k][PP_LOCAL_WORD0 + i] = (uint16_t)(r == UINT32_MAX ? IO_TOK_UNK : first_word + r);
        }
    }
    pp_vocab_pick_free(&pk, p1->n_dicts);
    s->vocab_s = pp_now() - t0;
    /* the dictionaries are no longer needed: free them before the shards */
    for (int k = 0; k < p1->n_dicts; k++) pp_dict_free(&p1->dicts[k]);
    t0 = pp_now();
    if (!rc) rc = write_shards(o, tmpdir, tokfile, map, p1->n_dicts, dict_n, genre_final, sh, s, e);
    for (int k = 0; k < p1->n_dicts; k++) free(map[k]);
    if (!rc && unlink(tokfile) != 0) rc = lm_err_set(e, "%s: cannot remove: %s", tokfile, strerror(errno));
    s->train_shards = sh->n_train;
    s->val_shards = sh->n_val;
    s->pass2_s = pp_now() - t0;
    return rc;
}
