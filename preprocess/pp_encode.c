/* pp_encode: one cleaned song to pass-1 units (see pp_internal.h), the
 * per-token hot loop of preprocessing.
 * Software pipelining: the dictionary slot of word t + AHEAD is prefetched
 * while word t is looked up, so cache misses overlap instead of adding up;
 * keys come from a masked 8-byte load wherever the token buffer has 8 bytes
 * to read (pp_dict_key_of8), which avoids branching on the word length.
 * Invariant: the ids written are exactly pp_dict_add's for the same words in
 * the same order (prefetching only changes timing). */
#include "pp_internal.h"

int64_t pp_encode_words(pp_dict *d, const pp_words *w, uint64_t inc, uint16_t *units,
                        uint32_t *n_nl, uint32_t *n_sep) {
    enum { AHEAD = 8, RING = 16 };
    pp_dict_key ring[RING];
    size_t n = w->n;
    const char *buf = w->buf;
    const uint32_t *off = w->off;
    size_t safe = w->cap >= 8 ? w->cap - 8 : 0;
    uint16_t *u = units;
    uint32_t nl_count = 0, sep_count = 0;
    for (size_t a = 0; a < n + AHEAD; a++) {
        if (a < n && buf[off[a]] != '<') {
            size_t len = (a + 1 < n ? off[a + 1] : w->len) - off[a] - 1;
            pp_dict_key k = off[a] <= safe ? pp_dict_key_of8(buf + off[a], len) : pp_dict_key_of(buf + off[a], len);
            ring[a % RING] = k;
            pp_dict_prefetch(d, k);
        }
        if (a < AHEAD) continue;
        size_t t = a - AHEAD;
        const char *tok = buf + off[t];
        if (tok[0] == '<') { /* "<nl>" or "<sep>": words never contain '<' */
            int nl = tok[1] == 'n';
            nl_count += nl, sep_count += !nl;
            *u++ = nl ? PP_LOCAL_NL : PP_LOCAL_SEP;
            continue;
        }
        size_t len = (t + 1 < n ? off[t + 1] : w->len) - off[t] - 1;
        int64_t id = pp_dict_add_fast(d, tok, len, ring[t % RING], inc);
        if (id < 0) return -1;
        u += pp_unit_put(u, (uint32_t)id + PP_LOCAL_WORD0);
    }
    *n_nl = nl_count;
    *n_sep = sep_count;
    return u - units;
}
