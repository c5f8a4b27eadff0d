/* pp_run: the preprocessing pipeline from options to a corpus directory (see
 * pp.h). Order: check settings, load the genre map, expand inputs, create
 * OUT.tmp, pass 1 (with the input checksums computed on a side thread), the
 * vocabulary and pass 2, manifest.json, then one rename. Every failure after
 * OUT.tmp exists removes it, so a failed run leaves nothing behind. */
#include "pp_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_vocab.h"
#include "lm_sys.h"

void pp_options_default(pp_options *o) {
    memset(o, 0, sizeof *o);
    o->unknown_genre = "keep";
    o->vocab_size = 50000;
    o->min_count = 2;
    o->min_words = 5;
    o->val_fraction = 0.05;
    o->shard_tokens = 16u << 20;
    o->zstd_level = 1; /* twice level 3's speed on token ids for ~1% larger shards */
    o->threads = 0;
    o->max_warnings = 20;
    o->oov_warn = 0.2;
}

static int check_options(const pp_options *o, lm_err *e) {
    if (!o->out_dir || !*o->out_dir) return lm_err_set(e, "no output directory given (--out DIR)");
    if (o->n_inputs <= 0) return lm_err_set(e, "no input files given");
    if (!(o->val_fraction >= 0.0 && o->val_fraction <= 1.0))
        return lm_err_set(e, "--val-fraction must be between 0 and 1, got %g", o->val_fraction);
    if (o->shard_tokens < 1) return lm_err_set(e, "--shard-tokens must be at least 1");
    if (o->zstd_level < -7 || o->zstd_level > 19)
        return lm_err_set(e, "--zstd-level must be between -7 and 19, got %d", o->zstd_level);
    if (o->vocab_size > 65536) return lm_err_set(e, "--vocab-size %u does not fit uint16 ids (max 65536)", o->vocab_size);
    const char *u = o->unknown_genre;
    if (!u || (strcmp(u, "keep") && strcmp(u, "skip") && !pp_genre_name_ok(u)))
        return lm_err_set(e, "--unknown-genre must be keep, skip or a genre name, got '%s'", u ? u : "");
    if (o->read.text_genre && !*o->read.text_genre) return lm_err_set(e, "--genre must not be empty");
    if (o->vocab_file) { /* fail before the long pass, not after it */
        io_vocab v;
        if (io_vocab_read(o->vocab_file, &v, e)) return -1;
        io_vocab_free(&v);
    }
    return 0;
}

typedef struct {
    pp_inputs *in;
    int cancel, rc;
    lm_err err;
} sum_job;

static void *checksum_main(void *arg) {
    sum_job *j = arg;
    j->rc = pp_inputs_checksum(j->in, &j->cancel, &j->err);
    return NULL;
}

static int no_song_kept(const pp_summary *s, lm_err *e) {
    return lm_err_set(e, "no song kept out of %llu read (empty %llu, invalid UTF-8 %llu, missing text %llu, "
                         "too short %llu, unknown genre %llu, duplicates %llu)",
                      (unsigned long long)s->songs_read, (unsigned long long)s->skipped[PP_REASON_EMPTY],
                      (unsigned long long)s->skipped[PP_REASON_BAD_UTF8],
                      (unsigned long long)s->skipped[PP_REASON_MISSING_TEXT],
                      (unsigned long long)s->skipped[PP_REASON_TOO_SHORT],
                      (unsigned long long)s->skipped[PP_REASON_UNKNOWN_GENRE],
                      (unsigned long long)s->duplicates);
}

int pp_run(const pp_options *o, pp_summary *s, lm_err *e) {
    double t0 = lm_sys_now();
    memset(s, 0, sizeof *s);
    if (check_options(o, e)) return -1;
    int threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    if (threads > 255) threads = 255; /* owner ids are one byte in the pass-1 file */
    s->threads = threads;
    pp_genre_map *gm = pp_genre_map_new();
    if (!gm) return lm_err_set(e, "out of memory");
    if (o->genre_map && pp_genre_map_load(gm, o->genre_map, e)) {
        pp_genre_map_free(gm);
        return -1;
    }
    pp_inputs in;
    if (pp_inputs_expand(o->inputs, o->n_inputs, &in, e)) {
        pp_genre_map_free(gm);
        return -1;
    }
    s->files = in.n;
    for (size_t i = 0; i < in.n; i++) s->bytes += in.v[i].bytes;
    char tmp[4096], manifest[4200];
    if (pp_outdir_begin(o->out_dir, o->force, tmp, sizeof tmp, e)) {
        pp_inputs_free(&in);
        pp_genre_map_free(gm);
        return -1;
    }
    snprintf(manifest, sizeof manifest, "%s/manifest.json", tmp);

    sum_job sj = {.in = &in};
    pthread_t sum_th;
    int sum_started = pthread_create(&sum_th, NULL, checksum_main, &sj) == 0;
    if (!sum_started) sj.rc = pp_inputs_checksum(&in, &sj.cancel, &sj.err);
    pp_pass1 p1;
    int rc = pp_pass1_run(o, &in, gm, tmp, threads, &p1, s, e);
    if (sum_started) {
        if (rc) __atomic_store_n(&sj.cancel, 1, __ATOMIC_RELAXED);
        pthread_join(sum_th, NULL);
    }
    if (!rc && sj.rc) {
        *e = sj.err;
        rc = -1;
    }
    s->pass1_s = lm_sys_now() - t0;
    if (!rc && s->songs_kept == 0) rc = no_song_kept(s, e);
    pp_shards sh = {0};
    if (!rc) rc = pp_pass2_run(o, tmp, threads, &p1, &sh, s, e);
    if (!rc) pp_pass1_free(&p1);
    s->wall_s = lm_sys_now() - t0;
    s->bytes_per_s = s->wall_s > 0 ? (double)s->bytes / s->wall_s : 0;
    if (!rc) pp_summary_warn(o, s);
    if (!rc) rc = pp_manifest_write(manifest, o, &in, &sh, s, e);
    if (!rc) rc = pp_outdir_commit(tmp, o->out_dir, e);
    if (rc) {
        pp_pass1_free(&p1);
        lm_err ignored;
        pp_outdir_remove(tmp, &ignored);
    }
    pp_shards_free(&sh);
    pp_inputs_free(&in);
    pp_genre_map_free(gm);
    s->wall_s = lm_sys_now() - t0;
    s->bytes_per_s = s->wall_s > 0 ? (double)s->bytes / s->wall_s : 0;
    return rc;
}
