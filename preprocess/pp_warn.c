/* pp_warn: what the summary says beyond its counts: the names of the reasons
 * a song is skipped (pp_reason_name, the keys of the manifest's "skipped"),
 * and warnings about a corpus that preprocess built but that train would
 * refuse (no training or validation songs) or learn little from (too many
 * <unk>); see pp_summary_warn in pp.h and docs/preprocess.md, "Warnings". */
#include "pp.h"

#include <stdio.h>

const char *pp_reason_name(int r) {
    static const char *const NAMES[PP_N_REASONS] = {"empty", "invalid_utf8", "missing_text", "too_short",
                                                    "unknown_genre"};
    return r >= 0 && r < PP_N_REASONS ? NAMES[r] : "?";
}

static void add(pp_summary *s, const char *text) {
    if (s->n_warnings < PP_MAX_CORPUS_WARNINGS)
        snprintf(s->warnings[s->n_warnings++], sizeof s->warnings[0], "%s", text);
}

void pp_summary_warn(const pp_options *o, pp_summary *s) {
    char w[512];
    s->n_warnings = 0;
    if (s->train_songs == 0) add(s, "no training songs: train refuses this corpus; give more input or a smaller --val-fraction");
    if (s->val_songs == 0) {
        snprintf(w, sizeof w, "no validation songs (%llu kept, --val-fraction %g): train refuses this corpus; give more "
                              "input or a larger --val-fraction", (unsigned long long)s->songs_kept, o->val_fraction);
        add(s, w);
    }
    if (s->word_tokens > 0 && s->oov_rate > o->oov_warn) {
        snprintf(w, sizeof w, "%.1f%% of the word tokens are <unk> (more than %g%%, --oov-warn %g): raise "
                              "--vocab-size (now %u) or lower --min-count (now %llu)", 100.0 * s->oov_rate,
                 100.0 * o->oov_warn, o->oov_warn,
                 o->vocab_size, (unsigned long long)o->min_count);
        add(s, w);
    }
}
