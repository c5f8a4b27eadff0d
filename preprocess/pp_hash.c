/* pp_hash: MurmurHash3_x64_128 and a word hash (see pp_hash.h).
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

/* ---- word hash constants (XXH64's primes) --------------------------------------- */

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

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
