/* pp_manifest: manifest.json of a corpus directory and the summary as JSON.
 * The manifest records what the corpus was built from (inputs with sizes and
 * XXH64 checksums, every setting), what it holds (vocabulary, counts, shard
 * list with tokens and songs) and nothing that varies between runs (no
 * timings, thread counts or dates), so equal inputs give equal manifests. */
#include "pp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_atomic.h"
#include "io_json.h"

static json_t *hex64(uint64_t v) {
    char buf[20];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return json_string(buf);
}


static json_t *summary_obj(const pp_summary *s, int with_timing) {
    json_t *o = json_object(), *sk = json_object(), *g = json_object();
    json_object_set_new(o, "files", json_integer((json_int_t)s->files));
    json_object_set_new(o, "bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(o, "songs_read", json_integer((json_int_t)s->songs_read));
    json_object_set_new(o, "songs_kept", json_integer((json_int_t)s->songs_kept));
    json_object_set_new(o, "duplicates", json_integer((json_int_t)s->duplicates));
    for (int r = 0; r < PP_N_REASONS; r++)
        json_object_set_new(sk, pp_reason_name(r), json_integer((json_int_t)s->skipped[r]));
    json_object_set_new(o, "skipped", sk);
    json_object_set_new(o, "train_songs", json_integer((json_int_t)s->train_songs));
    json_object_set_new(o, "train_tokens", json_integer((json_int_t)s->train_tokens));
    json_object_set_new(o, "train_shards", json_integer(s->train_shards));
    json_object_set_new(o, "val_songs", json_integer((json_int_t)s->val_songs));
    json_object_set_new(o, "val_tokens", json_integer((json_int_t)s->val_tokens));
    json_object_set_new(o, "val_shards", json_integer(s->val_shards));
    json_object_set_new(o, "vocab_size", json_integer(s->vocab_size));
    json_object_set_new(o, "vocab_hash", hex64(s->vocab_hash));
    json_object_set_new(o, "word_types", json_integer((json_int_t)s->word_types));
    json_object_set_new(o, "word_tokens", json_integer((json_int_t)s->word_tokens));
    json_object_set_new(o, "oov_tokens", json_integer((json_int_t)s->oov_tokens));
    json_object_set_new(o, "oov_rate", io_json_real(s->oov_rate));
    for (uint32_t i = 0; i < s->n_genres; i++) /* never leave a genre out silently */
        if (json_object_get(g, s->genres[i]) ||
            json_object_set_new(g, s->genres[i], json_integer((json_int_t)s->genre_songs[i]))) {
            json_decref(o);
            json_decref(g);
            return NULL;
        }
    json_object_set_new(o, "genres", g);
    json_t *w = json_array();
    for (int i = 0; i < s->n_warnings; i++) json_array_append_new(w, io_json_str(s->warnings[i]));
    json_object_set_new(o, "warnings", w);
    if (with_timing) {
        double mb = (double)s->bytes / 1e6;
        json_object_set_new(o, "threads", json_integer(s->threads));
        json_object_set_new(o, "wall_s", io_json_real(s->wall_s));
        json_object_set_new(o, "pass1_s", io_json_real(s->pass1_s));
        json_object_set_new(o, "vocab_s", io_json_real(s->vocab_s));
        json_object_set_new(o, "pass2_s", io_json_real(s->pass2_s));
        json_object_set_new(o, "bytes_per_s", io_json_real(s->bytes_per_s));
        json_object_set_new(o, "mb_per_s", io_json_real(s->wall_s > 0 ? mb / s->wall_s : 0));
        json_object_set_new(o, "songs_per_s",
                            io_json_real(s->wall_s > 0 ? (double)s->songs_read / s->wall_s : 0));
    }
    return o;
}

char *pp_summary_json(const pp_summary *s, int with_timing) {
    json_t *o = summary_obj(s, with_timing);
    char *txt = io_json_dumps(o);
    json_decref(o);
    return txt;
}

static json_t *shard_list(const pp_shard_info *v, uint32_t n) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "file", io_json_str(v[i].name));
        json_object_set_new(o, "tokens", json_integer((json_int_t)v[i].tokens));
        json_object_set_new(o, "songs", json_integer((json_int_t)v[i].songs));
        json_array_append_new(a, o);
    }
    return a;
}

int pp_manifest_write(const char *path, const pp_options *o, const pp_inputs *in,
                      const pp_shards *sh, const pp_summary *s, lm_err *e) {
    json_t *m = json_object(), *inputs = json_array(), *set = json_object(), *voc = json_object(),
           *gen = json_array(), *shards = json_object();
    json_object_set_new(m, "format", json_string("lyricmind-corpus"));
    json_object_set_new(m, "format_version", json_integer(PP_CORPUS_FORMAT_VERSION));
    for (size_t i = 0; i < in->n; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "path", io_json_str(in->v[i].path));
        json_object_set_new(f, "bytes", json_integer((json_int_t)in->v[i].bytes));
        json_object_set_new(f, "xxh64", hex64(in->v[i].xxh64));
        json_array_append_new(inputs, f);
    }
    json_object_set_new(m, "inputs", inputs);
    json_object_set_new(set, "format", json_string(pp_format_name(o->read.format)));
    json_object_set_new(set, "text_field", io_json_str(o->read.text_field));
    json_object_set_new(set, "genre_field", io_json_str(o->read.genre_field));
    json_object_set_new(set, "artist_field", io_json_str(o->read.artist_field));
    json_object_set_new(set, "title_field", io_json_str(o->read.title_field));
    json_object_set_new(set, "boundary", io_json_str(o->read.boundary));
    json_object_set_new(set, "genre", io_json_str(o->read.text_genre));
    json_object_set_new(set, "genre_map", io_json_str(o->genre_map));
    json_object_set_new(set, "unknown_genre", io_json_str(o->unknown_genre));
    json_object_set_new(set, "vocab_size", json_integer(o->vocab_size));
    json_object_set_new(set, "vocab_file", io_json_str(o->vocab_file));
    json_object_set_new(set, "min_count", json_integer((json_int_t)o->min_count));
    json_object_set_new(set, "min_words", json_integer(o->min_words));
    json_object_set_new(set, "val_fraction", io_json_real(o->val_fraction));
    json_object_set_new(set, "shard_tokens", json_integer((json_int_t)o->shard_tokens));
    json_object_set_new(set, "zstd_level", json_integer(o->zstd_level));
    json_object_set_new(set, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(set, "oov_warn", io_json_real(o->oov_warn));
    json_object_set_new(m, "settings", set);
    json_object_set_new(voc, "file", json_string("vocab.h5"));
    json_object_set_new(voc, "size", json_integer(s->vocab_size));
    json_object_set_new(voc, "hash", hex64(s->vocab_hash));
    for (uint32_t g = 0; g < s->n_genres; g++) json_array_append_new(gen, io_json_str(s->genres[g]));
    json_object_set_new(voc, "genres", gen);
    json_object_set_new(m, "vocab", voc);
    json_t *counts = summary_obj(s, 0);
    if (!counts) {
        json_decref(m);
        return lm_err_set(e, "%s: cannot write the genre counts (a genre name is not valid UTF-8 or "
                             "two are equal)", path);
    }
    json_object_set_new(m, "counts", counts);
    json_object_set_new(shards, "train", shard_list(sh->train, sh->n_train));
    json_object_set_new(shards, "val", shard_list(sh->val, sh->n_val));
    json_object_set_new(m, "shards", shards);
    char *txt = json_dumps(m, JSON_INDENT(2) | IO_JSON_PRECISION);
    json_decref(m);
    if (!txt) return lm_err_set(e, "%s: out of memory", path);
    size_t len = strlen(txt);
    txt[len] = '\n'; /* json_dumps leaves room for the NUL; the newline replaces it */
    int rc = io_atomic_write(path, txt, len + 1, e);
    free(txt);
    return rc;
}
