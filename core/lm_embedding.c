/* lm_embedding: the token-embedding lookup and its sparse gradient.
 * Invariant: ids are in [0,V) (checked by the caller, lm_model). */
#include <string.h>

#include "lm_layers.h"

void lm_embedding_forward(float *out, const int32_t *in, const float *emb,
                          int N, int E) {
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * E, emb + (size_t)in[n] * E, sizeof(float) * E);
}

void lm_embedding_backward(float *demb, const float *dout, const int32_t *in,
                           int N, int E) {
    for (int n = 0; n < N; n++) {
        float *row = demb + (size_t)in[n] * E;
        const float *d = dout + (size_t)n * E;
        for (int e = 0; e < E; e++) row[e] += d[e];
    }
}
