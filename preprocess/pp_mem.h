/* pp_mem: the growable-buffer helper shared by the readers and the cleaner
 * (internal to preprocess/). */
#ifndef PP_MEM_H
#define PP_MEM_H

#include <stdlib.h>

/* Grows *p (capacity *cap elements of elem bytes) to hold at least need
 * elements, doubling; 0, or -1 when out of memory (*p unchanged). */
static inline int pp_reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

#endif
