/* pp_hash: XXH64, MurmurHash3_x64_128 and a word hash (see pp_hash.h).
 * Unaligned loads go through memcpy (one instruction on x86-64). Multi-byte
 * words are read little-endian as both references specify; on a big-endian
 * host the byte swap below keeps the values identical. */
#include "pp_hash.h"

#include <string.h>

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t rd32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* ---- XXH64 ---------------------------------------------------------------- */

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t xxh_round(uint64_t acc, uint64_t in) {
    acc += in * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t v) {
    acc ^= xxh_round(0, v);
    return acc * P1 + P4;
}

void pp_xxh64_init(pp_xxh64_state *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->v[0] = seed + P1 + P2;
    s->v[1] = seed + P2;
    s->v[2] = seed;
    s->v[3] = seed - P1;
}

void pp_xxh64_update(pp_xxh64_state *s, const void *data, size_t len) {
    const unsigned char *p = data, *end = p + len;
    s->total += len;
    if (s->memsize + len < 32) {
        if (len) memcpy(s->mem + s->memsize, p, len);
        s->memsize += len;
        return;
    }
    if (s->memsize) {
        size_t fill = 32 - s->memsize;
        memcpy(s->mem + s->memsize, p, fill);
        for (int i = 0; i < 4; i++) s->v[i] = xxh_round(s->v[i], rd64(s->mem + 8 * i));
        p += fill;
        s->memsize = 0;
    }
    uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
    while (end - p >= 32) {
        v0 = xxh_round(v0, rd64(p));
        v1 = xxh_round(v1, rd64(p + 8));
        v2 = xxh_round(v2, rd64(p + 16));
        v3 = xxh_round(v3, rd64(p + 24));
        p += 32;
    }
    s->v[0] = v0, s->v[1] = v1, s->v[2] = v2, s->v[3] = v3;
    if (p < end) {
        memcpy(s->mem, p, (size_t)(end - p));
        s->memsize = (size_t)(end - p);
    }
}

uint64_t pp_xxh64_digest(const pp_xxh64_state *s) {
    uint64_t h;
    if (s->total >= 32) {
        h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) + rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++) h = xxh_merge(h, s->v[i]);
    } else {
        h = s->seed + P5;
    }
    h += s->total;
    const unsigned char *p = s->mem;
    size_t n = s->memsize;
    while (n >= 8) {
        h ^= xxh_round(0, rd64(p));
        h = rotl64(h, 27) * P1 + P4;
        p += 8, n -= 8;
    }
    if (n >= 4) {
        h ^= (uint64_t)rd32(p) * P1;
        h = rotl64(h, 23) * P2 + P3;
        p += 4, n -= 4;
    }
    while (n--) {
        h ^= (*p++) * P5;
        h = rotl64(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t pp_xxh64(const void *data, size_t len, uint64_t seed) {
    pp_xxh64_state s;
    pp_xxh64_init(&s, seed);
    pp_xxh64_update(&s, data, len);
    return pp_xxh64_digest(&s);
}

/* ---- MurmurHash3_x64_128 ---------------------------------------------------- */

pp_h128 pp_hash128(const void *data, size_t len, uint32_t seed) {
    const unsigned char *p = data;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = seed, h2 = seed;
    size_t nblocks = len / 16;
    for (size_t i = 0; i < nblocks; i++, p += 16) {
        uint64_t k1 = rd64(p), k2 = rd64(p + 8);
        k1 *= c1, k1 = rotl64(k1, 31), k1 *= c2, h1 ^= k1;
        h1 = rotl64(h1, 27), h1 += h2, h1 = h1 * 5 + 0x52dce729;
        k2 *= c2, k2 = rotl64(k2, 33), k2 *= c1, h2 ^= k2;
        h2 = rotl64(h2, 31), h2 += h1, h2 = h2 * 5 + 0x38495ab5;
    }
    uint64_t k1 = 0, k2 = 0;
    switch (len & 15) {
    case 15: k2 ^= (uint64_t)p[14] << 48; /* fall through */
    case 14: k2 ^= (uint64_t)p[13] << 40; /* fall through */
    case 13: k2 ^= (uint64_t)p[12] << 32; /* fall through */
    case 12: k2 ^= (uint64_t)p[11] << 24; /* fall through */
    case 11: k2 ^= (uint64_t)p[10] << 16; /* fall through */
    case 10: k2 ^= (uint64_t)p[9] << 8;   /* fall through */
    case 9:
        k2 ^= (uint64_t)p[8];
        k2 *= c2, k2 = rotl64(k2, 33), k2 *= c1, h2 ^= k2;
        /* fall through */
    case 8: k1 ^= (uint64_t)p[7] << 56; /* fall through */
    case 7: k1 ^= (uint64_t)p[6] << 48; /* fall through */
    case 6: k1 ^= (uint64_t)p[5] << 40; /* fall through */
    case 5: k1 ^= (uint64_t)p[4] << 32; /* fall through */
    case 4: k1 ^= (uint64_t)p[3] << 24; /* fall through */
    case 3: k1 ^= (uint64_t)p[2] << 16; /* fall through */
    case 2: k1 ^= (uint64_t)p[1] << 8;  /* fall through */
    case 1:
        k1 ^= (uint64_t)p[0];
        k1 *= c1, k1 = rotl64(k1, 31), k1 *= c2, h1 ^= k1;
    }
    h1 ^= (uint64_t)len, h2 ^= (uint64_t)len;
    h1 += h2, h2 += h1;
    h1 = pp_mix64(h1), h2 = pp_mix64(h2);
    h1 += h2, h2 += h1;
    return (pp_h128){h1, h2};
}

/* ---- word hash ----------------------------------------------------------- */

uint64_t pp_hash_word(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    uint64_t h = (uint64_t)len * P1;
    while (len >= 8) {
        h = rotl64(h ^ (rd64(p) * P2), 29) * P1;
        p += 8, len -= 8;
    }
    uint64_t t = 0;
    if (len >= 4) {
        t = (uint64_t)rd32(p) | ((uint64_t)rd32(p + len - 4) << 32);
    } else if (len) {
        t = (uint64_t)p[0] | ((uint64_t)p[len / 2] << 8) | ((uint64_t)p[len - 1] << 16);
    }
    return pp_mix64(h ^ (t * P3) ^ len);
}
