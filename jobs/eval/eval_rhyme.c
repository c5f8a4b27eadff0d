/* eval_rhyme: rhyme keys from the CMU dictionary with a stress
 * approximation, a spelling fallback, and per-song line-pair counts (see
 * eval_rhyme.h). Invariant: only the vocabulary's words are kept (an id ->
 * key list table), so memory is O(V) whatever the dictionary's size. */
#include "eval_rhyme.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_text.h"
#include "lm_sys.h"
#include "io_vocab.h"

static const char *const VOWELS[] = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER",
                                     "EY", "IH", "IY", "OW", "OY", "UH", "UW"};

static int is_vowel(const char *p, size_t len) {
    if (len < 2) return 0;
    for (size_t i = 0; i < sizeof VOWELS / sizeof *VOWELS; i++)
        if (!strncmp(p, VOWELS[i], 2) && (len == 2 || isdigit((unsigned char)p[2]))) return 1;
    return 0;
}

static int in_list(const char *p, size_t len, const char *list) {
    for (const char *s = list; *s;) {
        size_t l = strcspn(s, " ");
        if (l == len && !strncmp(s, p, len)) return 1;
        s += l + (s[l] == ' ');
    }
    return 0;
}

enum { MAXPH = 64 };

void eval_rhyme_part(const char *phones, char *out, size_t n) {
    const char *ph[MAXPH];
    size_t len[MAXPH];
    int k = 0;
    for (const char *s = phones; *s && k < MAXPH;) {
        while (*s == ' ' || *s == '\t') s++;
        size_t l = strcspn(s, " \t\r\n");
        if (!l) break;
        ph[k] = s, len[k++] = l;
        s += l;
    }
    int last = -1, prev = -1;
    for (int i = 0; i < k; i++)
        if (is_vowel(ph[i], len[i])) prev = last, last = i;
    int start = last < 0 ? 0 : last;
    if (last >= 0 && prev >= 0) {
        int after = k - last - 1; /* phones after the last vowel */
        const char *v = ph[last];
        int weak = (!strncmp(v, "IY", 2) && after == 0) || !strncmp(v, "ER", 2);
        if (!strncmp(v, "AH", 2)) {
            weak = 1;
            for (int i = last + 1; i < k; i++)
                if (!in_list(ph[i], len[i], "L M N S Z T D R")) weak = 0;
        }
        if (!strncmp(v, "IH", 2) && after == 1 && in_list(ph[last + 1], len[last + 1], "NG Z D K"))
            weak = 1;
        if (weak) start = prev;
    }
    size_t at = 0;
    if (n) out[0] = 0;
    for (int i = start; i < k; i++) {
        size_t l = len[i];
        while (l > 2 && isdigit((unsigned char)ph[i][l - 1])) l--; /* stress digits, if any */
        if (at + l + 2 > n) break;
        if (at) out[at++] = ' ';
        memcpy(out + at, ph[i], l);
        at += l;
        out[at] = 0;
    }
}

static int vowel_letter(const char *w, size_t i) {
    char c = w[i];
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || (c == 'y' && i > 0);
}

void eval_rhyme_spelling(const char *word, char *out, size_t n) {
    char w[256];
    size_t m = 0;
    for (const char *s = word; *s && m + 1 < sizeof w; s++) w[m++] = (char)tolower((unsigned char)*s);
    w[m] = 0;
    /* final silent e after a consonant, when another vowel precedes */
    if (m >= 3 && w[m - 1] == 'e' && !vowel_letter(w, m - 2)) {
        for (size_t i = 0; i + 2 < m; i++)
            if (vowel_letter(w, i)) {
                w[--m] = 0;
                break;
            }
    }
    size_t i = m;
    while (i > 0 && !vowel_letter(w, i - 1)) i--; /* i: just after the last vowel letter */
    size_t start = 0;
    if (i > 0) {
        start = i - 1;
        while (start > 0 && vowel_letter(w, start - 1)) start--;
    }
    snprintf(out, n, "%s", w + start);
}

/* ---- the vocabulary's keys --------------------------------------------------- */

struct eval_rhymer {
    uint32_t n_words, known;
    char *const *words;
    char **keys;      /* [n_words]: rhyme parts joined by '\n', or NULL */
    uint32_t *slots;  /* open addressing: id + 1, 0 = empty */
    size_t mask;
};

static uint64_t fnv(const char *s, size_t n) { return lm_sys_fnv1a64(LM_SYS_FNV_OFFSET, s, n); }

static int64_t find(const eval_rhymer *r, const char *w, size_t n) {
    for (size_t i = fnv(w, n) & r->mask;; i = (i + 1) & r->mask) {
        uint32_t s = r->slots[i];
        if (!s) return -1;
        const char *t = r->words[s - 1];
        if (strlen(t) == n && !memcmp(t, w, n)) return s - 1;
    }
}

static int add_key(eval_rhymer *r, int64_t id, const char *key) {
    char *old = r->keys[id];
    size_t kl = strlen(key);
    if (old) { /* skip duplicates */
        for (const char *s = old; *s;) {
            size_t l = strcspn(s, "\n");
            if (l == kl && !strncmp(s, key, kl)) return 0;
            s += l + (s[l] == '\n');
        }
    }
    size_t ol = old ? strlen(old) : 0;
    char *nk = realloc(old, ol + kl + 2);
    if (!nk) return -1;
    if (ol) nk[ol++] = '\n';
    else r->known++;
    memcpy(nk + ol, key, kl + 1);
    r->keys[id] = nk;
    return 0;
}

eval_rhymer *eval_rhymer_open(const char *dict_path, char *const *words, uint32_t n_words,
                              lm_err *e) {
    FILE *f = fopen(dict_path, "r");
    if (!f) {
        lm_err_set(e, "%s: cannot open the pronouncing dictionary (Debian package pocketsphinx-en-us)",
                   dict_path);
        return NULL;
    }
    eval_rhymer *r = calloc(1, sizeof *r);
    size_t cap = 16;
    while (cap < 2 * (size_t)n_words + 2) cap *= 2;
    if (r) {
        r->n_words = n_words;
        r->words = words;
        r->mask = cap - 1;
        r->keys = calloc(n_words + 1, sizeof *r->keys);
        r->slots = calloc(cap, sizeof *r->slots);
    }
    int rc = (!r || !r->keys || !r->slots) ? -1 : 0;
    for (uint32_t id = 0; !rc && id < n_words; id++) {
        size_t n = strlen(words[id]);
        if (find(r, words[id], n) >= 0) continue;
        size_t i = fnv(words[id], n) & r->mask;
        while (r->slots[i]) i = (i + 1) & r->mask;
        r->slots[i] = id + 1;
    }
    char line[1024], key[512];
    long lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        size_t wl = strcspn(line, " \t\r\n");
        if (!wl || line[0] == ';') continue;
        size_t base = wl; /* "word(2)" is a second pronunciation of "word" */
        if (line[wl - 1] == ')') {
            char *paren = memchr(line, '(', wl);
            if (paren) base = (size_t)(paren - line);
        }
        int64_t id = find(r, line, base);
        if (id < 0) continue;
        eval_rhyme_part(line + wl, key, sizeof key);
        if (!key[0]) continue;
        if (add_key(r, id, key)) rc = -1;
    }
    if (!rc && ferror(f)) rc = lm_err_set(e, "%s: read error after line %ld", dict_path, lineno);
    else if (rc) lm_err_set(e, "out of memory loading %s", dict_path);
    fclose(f);
    if (rc) {
        eval_rhymer_free(r);
        return NULL;
    }
    return r;
}

void eval_rhymer_free(eval_rhymer *r) {
    if (!r) return;
    for (uint32_t i = 0; r->keys && i < r->n_words; i++) free(r->keys[i]);
    free(r->keys);
    free(r->slots);
    free(r);
}

uint32_t eval_rhymer_known(const eval_rhymer *r) { return r->known; }

int eval_rhymer_rhymes(const eval_rhymer *r, int32_t a, int32_t b, int *by_spelling) {
    const char *ka = r->keys[a], *kb = r->keys[b];
    if (by_spelling) *by_spelling = !ka || !kb;
    if (!ka || !kb) {
        char sa[256], sb[256];
        eval_rhyme_spelling(r->words[a], sa, sizeof sa);
        eval_rhyme_spelling(r->words[b], sb, sizeof sb);
        return strcmp(sa, sb) == 0;
    }
    for (const char *s = ka; *s;) {
        size_t l = strcspn(s, "\n");
        for (const char *t = kb; *t;) {
            size_t m = strcspn(t, "\n");
            if (l == m && !strncmp(s, t, l)) return 1;
            t += m + (t[m] == '\n');
        }
        s += l + (s[l] == '\n');
    }
    return 0;
}

int eval_rhyme_song(const eval_rhymer *r, const int32_t *ids, size_t n, int32_t first_word,
                    eval_rhyme_stats *st) {
    eval_line *ln = malloc((n + 1) * sizeof *ln);
    if (!ln) return -1;
    size_t k = eval_lines(ids, n, first_word, ln);
    for (size_t i = 1; i < k; i++) {
        if (ln[i].new_stanza) continue;
        int32_t a = ids[ln[i - 1].last], b = ids[ln[i].last];
        if (a == IO_TOK_UNK || b == IO_TOK_UNK || a < 0 || b < 0 || (uint32_t)a >= r->n_words ||
            (uint32_t)b >= r->n_words) {
            st->unjudged++;
            continue;
        }
        int spelled = 0;
        st->pairs++;
        st->identical += a == b;
        st->rhymes += eval_rhymer_rhymes(r, a, b, &spelled);
        st->spelled += spelled;
    }
    free(ln);
    return 0;
}
