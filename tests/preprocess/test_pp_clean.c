/* Tests for pp_clean_song: every rule of DESIGN.md "Text and tokens", the
 * invalid-UTF-8 offsets, and that the ASCII fast path gives exactly the
 * tokens of the reference path (utf8proc over the whole song). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "pp_clean.h"
#include "pp_clean_int.h"

/* Tokens of w joined by single spaces (static buffer). */
static const char *joined(const pp_words *w) {
    static char out[1 << 16];
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < w->n && o + 1 < sizeof out; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? " " : "", w->buf + w->off[i]);
    return out;
}

static int same_tokens(const pp_words *a, const pp_words *b) {
    return a->n == b->n && a->len == b->len && a->n_words == b->n_words &&
           (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0) &&
           (a->n == 0 || memcmp(a->off, b->off, a->n * sizeof *a->off) == 0);
}

/* Cleans text through both paths, asserts they agree and returns the
 * fast path's tokens joined. */
static const char *clean2(const char *text, size_t len) {
    pp_words w = {0}, r = {0};
    size_t bad = 7, rbad = 7;
    int rc = pp_clean_song(text, len, &w, &bad);
    int rrc = pp_clean_song_ref(text, len, &r, &rbad);
    cr_assert_eq(rc, PP_CLEAN_OK, "rc %d (bad offset %zu) for \"%s\"", rc, bad, text);
    cr_assert_eq(rrc, PP_CLEAN_OK);
    cr_assert(same_tokens(&w, &r), "fast path \"%s\" differs from reference for \"%s\"",
              joined(&w), text);
    const char *j = joined(&w);
    pp_words_free(&w);
    pp_words_free(&r);
    return j;
}

#define CLEAN(text) clean2((text), strlen(text))
#define EXPECT(text, want) cr_assert_str_eq(CLEAN(text), (want), "for input \"%s\"", (text))

Test(clean, ascii_case_fold_and_punctuation) {
    EXPECT("Hello, WORLD! (Yeah) \"quoted\"... ok?; a:b/c", "hello world yeah quoted ok a b c");
    EXPECT("99 Problems, 2Pac & 50 cent #1", "99 problems 2pac 50 cent 1");
}

Test(clean, non_ascii_case_fold) {
    EXPECT("\xC3\x89" "COLE", "\xC3\xA9" "cole");                        /* ÉCOLE -> école */
    EXPECT("STRA\xC3\x9F" "E", "strasse");                               /* ß folds to ss */
    EXPECT("\xCE\xA9\xCE\x9C\xCE\x95\xCE\x93\xCE\x91", "\xCF\x89\xCE\xBC\xCE\xB5\xCE\xB3\xCE\xB1"); /* ΩΜΕΓΑ */
    EXPECT("NI\xC3\x91O caf\xC3\xA9", "ni\xC3\xB1o caf\xC3\xA9");       /* NIÑO café */
}

Test(clean, nfkc) {
    EXPECT("\xEF\xAC\x81ne", "fine");                                    /* ﬁ ligature */
    EXPECT("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3\xEF\xBC\x91\xEF\xBC\x92", "abc12"); /* ＡＢＣ１２ */
    EXPECT("e\xCC\x81t\xC3\xA9", "\xC3\xA9t\xC3\xA9");                   /* e + U+0301 composes */
    EXPECT("x\xC2\xB2", "x2");                                           /* superscript two */
    EXPECT("a\xC2\xA0" "b", "a b");                                      /* NBSP is a space */
    EXPECT("beau\xC2\xAD" "tiful", "beautiful");                         /* soft hyphen vanishes */
    EXPECT("\xEF\xBC\xBB" "Chorus\xEF\xBC\xBD go", "go");                /* fullwidth [tag] */
}

Test(clean, curly_quotes_become_apostrophes) {
    EXPECT("it\xE2\x80\x99s don\xE2\x80\x98t rock\xE2\x80\x9Bn ma\xE2\x80\xB2" "am can`t",
           "it's don't rock'n ma'am can't");
    EXPECT("don\xC2\xB4t y\xCA\xBC" "all", "don't y'all");             /* ´ and U+02BC */
    EXPECT("\xE2\x80\x9CQuoted\xE2\x80\x9D \xE2\x80\x98single\xE2\x80\x99", "quoted single");
}

Test(clean, section_tags) {
    EXPECT("[Chorus]\nla la\n[Verse 1: Some Artist]\nnext line [x2]\nend", "la la <nl> next line <nl> end");
    EXPECT("a\n\n[Chorus]\n\nb", "a <sep> b");
    EXPECT("a\n[Bridge]\nb", "a <nl> b");
    EXPECT("before[tag]after", "before after");
    EXPECT("open [bracket\nnot closed] here", "open bracket <nl> not closed here");
    EXPECT("[only a tag]", "");
}

Test(clean, hyphens_and_apostrophes_inside_words) {
    EXPECT("well-known rock- -- and--or -x x-", "well-known rock and or x x");
    EXPECT("'cause rockin' o'clock rock'n'roll 'quoted' a'-b", "cause rockin o'clock rock'n'roll quoted a b");
    EXPECT("don't can't", "don't can't");
    EXPECT("\xE2\x80\x94" "dash\xE2\x80\x93" "es", "dash es"); /* em and en dash separate */
    EXPECT("non\xE2\x80\x90" "breaking", "non-breaking");           /* U+2010 hyphen */
}

Test(clean, lines_and_stanzas) {
    EXPECT("a\nb\n\nc\n\n\n\nd", "a <nl> b <sep> c <sep> d");
    EXPECT("\n\n  a \n\n", "a");
    EXPECT("a\n \t \nb", "a <sep> b");            /* whitespace-only line is blank */
    EXPECT("a\n...\nb", "a <nl> b");              /* a wordless line is dropped */
    EXPECT("a\n...\n\nb", "a <sep> b");
}

Test(clean, crlf_and_cr) {
    EXPECT("a\r\nb\r\n\r\nc\r\n", "a <nl> b <sep> c");
    EXPECT("a\rb\r\rc", "a <nl> b <sep> c");
}

Test(clean, non_ascii_words) {
    EXPECT("\xE6\x9D\xB1\xE4\xBA\xAC tokyo", "\xE6\x9D\xB1\xE4\xBA\xAC tokyo");  /* 東京 */
    EXPECT("\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2", "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"); /* ПРИВЕТ */
    EXPECT("love \xE2\x99\xA5 you \xF0\x9F\x8E\xB5", "love you");               /* symbols drop */
}

Test(clean, words_never_contain_angle_brackets_or_nul) {
    const char t[] = "a<nl>b <sep> c\0d";
    cr_assert_str_eq(clean2(t, sizeof t - 1), "a nl b sep c d");
}

Test(clean, empty_and_wordless_text) {
    pp_words w = {0};
    size_t bad;
    cr_assert_eq(pp_clean_song("", 0, &w, &bad), PP_CLEAN_OK);
    cr_assert_eq(w.n, 0);
    cr_assert_eq(w.n_words, 0);
    cr_assert_eq(pp_clean_song("\n\n [Intro] \n...\n", 16, &w, &bad), PP_CLEAN_OK);
    cr_assert_eq(w.n, 0);
    pp_words_free(&w);
}

Test(clean, n_words_counts_words_only) {
    pp_words w = {0};
    size_t bad;
    const char *t = "one two\nthree\n\nfour";
    cr_assert_eq(pp_clean_song(t, strlen(t), &w, &bad), PP_CLEAN_OK);
    cr_assert_eq(w.n, 6);
    cr_assert_eq(w.n_words, 4);
    /* buffers are reused: a shorter song resets everything */
    cr_assert_eq(pp_clean_song("x", 1, &w, &bad), PP_CLEAN_OK);
    cr_assert_eq(w.n, 1);
    cr_assert_eq(w.n_words, 1);
    cr_assert_str_eq(w.buf + w.off[0], "x");
    pp_words_free(&w);
}

Test(clean, invalid_utf8_offsets) {
    static const struct { const char *s; size_t len, off; } cases[] = {
        {"ab\x80" "cd", 5, 2},                 /* stray continuation byte */
        {"\xC0\xAF", 2, 0},                    /* overlong '/' (C0) */
        {"ok \xC1\x81", 5, 3},                 /* overlong (C1) */
        {"x\xE0\x80\xAF", 4, 1},               /* overlong 3-byte */
        {"xy\xF0\x80\x80\xAF", 6, 2},          /* overlong 4-byte */
        {"ok \xED\xA0\x80", 6, 3},             /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 4, 0},            /* U+110000 */
        {"a\xF5\x80\x80\x80", 5, 1},           /* lead byte F5 */
        {"abc\xE2\x82", 5, 3},                 /* truncated at the end */
        {"a\xE2\x28\xA1", 4, 1},               /* truncated in the middle */
        {"\xC3\xA9 fine then \xFF", 14, 13},   /* valid é before the bad byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_words w = {0};
        size_t bad = 999;
        cr_assert_eq(pp_clean_song(cases[i].s, cases[i].len, &w, &bad), PP_CLEAN_BAD_UTF8, "case %zu", i);
        cr_assert_eq(bad, cases[i].off, "case %zu: offset %zu, want %zu", i, bad, cases[i].off);
        bad = 999;
        cr_assert_eq(pp_clean_song_ref(cases[i].s, cases[i].len, &w, &bad), PP_CLEAN_BAD_UTF8);
        cr_assert_eq(bad, cases[i].off);
        cr_assert_eq(pp_utf8_check(cases[i].s, cases[i].len), cases[i].off);
        pp_words_free(&w);
    }
    const char *ok = "\xF0\x9F\x8E\xB5 \xF4\x8F\xBF\xBF \xEF\xBF\xBF";   /* U+1F3B5, U+10FFFF, U+FFFF */
    cr_assert_eq(pp_utf8_check(ok, strlen(ok)), strlen(ok));
}

/* The reference normalisation is utf8proc's NFKC_Casefold (for text
 * without the apostrophe look-alikes the cleaner maps first). */
Test(clean, reference_is_nfkc_casefold) {
    const char *cases[] = {"\xC3\x89" "COLE \xEF\xAC\x81 \xEF\xBC\xA1 e\xCC\x81 STRA\xC3\x9F" "E",
                           "\xE2\x84\xAA \xC4\xB0 \xC7\x85 \xE2\x85\xA8 a\xC2\xAD" "b", "plain ASCII Text"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_clean_scratch sc = {0};
        size_t n, bad;
        cr_assert_eq(pp_normalize(cases[i], strlen(cases[i]), &sc, 1, &n, &bad), PP_CLEAN_OK);
        utf8proc_uint8_t *want = utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)cases[i]);
        cr_assert_eq(n, strlen((char *)want));
        cr_assert(memcmp(sc.norm, want, n) == 0, "case %zu", i);
        free(want);
        free(sc.norm);
        free(sc.cp);
    }
}

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Property: on random ASCII the fast path (no utf8proc) and the reference
 * (utf8proc over everything) give identical tokens. */
Test(clean, fast_path_equals_utf8proc_on_random_ascii) {
    static const char alphabet[] = "abcXYZ019 \t\n\n\r[]'`--,.!?\"<>()&\x01\x7f";
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    char buf[256];
    for (int it = 0; it < 20000; it++) {
        size_t len = rng_next(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++) buf[i] = alphabet[rng_next(&seed) % (sizeof alphabet - 1)];
        clean2(buf, len);
    }
}

/* Same property with non-ASCII pieces mixed in, so that the segment logic
 * (a combining mark after an ASCII starter, ligatures, ignorables, quotes,
 * fullwidth brackets) is exercised. */
Test(clean, fast_path_equals_utf8proc_on_random_mixed_text) {
    static const char *pieces[] = {
        "a", "E", "z", "7", " ", "\n", "\r\n", "[", "]", "'", "-", ",", "e", "\xCC\x81",
        "\xCC\x88", "\xC3\xA9", "\xEF\xAC\x81", "\xE2\x80\x99", "\xE2\x80\x98", "\xEF\xBC\xA1",
        "\xEF\xBC\xBB", "\xEF\xBC\xBD", "\xC3\x9F", "\xC2\xAD", "\xC2\xA0", "\xC4\xB0", "\xCE\xA3",
        "\xE6\x9D\xB1", "\xF0\x9F\x8E\xB5", "\xE2\x80\xA8", "\xE2\x80\x94", "\xC2\xB4",
        "\xE2\x80\x8D", "\xE1\x84\x80", "\xE1\x85\xA1", "\xE1\x86\xA8", "\xD9\x84\xD8\xA7",
    };
    size_t np = sizeof pieces / sizeof pieces[0];
    uint64_t seed = 12345;
    char buf[512];
    for (int it = 0; it < 20000; it++) {
        size_t len = 0, want = rng_next(&seed) % 60;
        for (size_t i = 0; i < want; i++) {
            const char *p = pieces[rng_next(&seed) % np];
            size_t l = strlen(p);
            memcpy(buf + len, p, l);
            len += l;
        }
        clean2(buf, len);
    }
}

/* An independent model of the word rules for one line of ASCII: runs of
 * [A-Za-z0-9] lower-cased, with ' ` - kept (as ' or -) between two of them. */
static void oracle(const char *s, size_t n, char *out) {
    size_t o = 0;
    int in_word = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        int nextw = i + 1 < n && ((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z' ? 1
                                  : s[i + 1] >= '0' && s[i + 1] <= '9');
        if (w) {
            if (!in_word && o) out[o++] = ' ';
            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
            in_word = 1;
        } else if (in_word && (c == '\'' || c == '`' || c == '-') && nextw) {
            out[o++] = c == '-' ? '-' : '\'';
        } else {
            in_word = 0;
        }
    }
    out[o] = 0;
}

/* Long words and words ending at every offset within and across the 8-byte
 * steps of the word scanner, checked against the model above (the reference
 * path shares the tokenizer, so it cannot catch a scanner bug). */
Test(clean, word_scanner_matches_model) {
    static const char alphabet[] = "aZ9bY8cX7dW6eV5fU4 ---'''```,,..!!\t";
    uint64_t seed = 777;
    char buf[300], want[700];
    for (int it = 0; it < 20000; it++) {
        size_t len = rng_next(&seed) % 120;
        int spaces = (int)(rng_next(&seed) % 4); /* vary word lengths: fewer separators */
        for (size_t i = 0; i < len; i++) {
            size_t k = rng_next(&seed) % (sizeof alphabet - 1);
            if (spaces == 0 && k >= 18) k %= 18;
            buf[i] = alphabet[k];
        }
        oracle(buf, len, want);
        pp_words w = {0};
        size_t bad;
        cr_assert_eq(pp_clean_song(buf, len, &w, &bad), PP_CLEAN_OK);
        cr_assert_str_eq(joined(&w), want, "input \"%.*s\"", (int)len, buf);
        pp_words_free(&w);
    }
    EXPECT("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz",
           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
    EXPECT("SEVENCHé AVeryLongWordFollowedByÉ", "sevench\xC3\xA9 averylongwordfollowedby\xC3\xA9");
}
