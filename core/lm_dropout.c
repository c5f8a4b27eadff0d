/* lm_dropout: inverted dropout. The forward draws the mask (0 or 1/(1-p))
 * from the caller's lm_rng in index order, so a restored RNG state replays
 * the same mask; the backward reuses that mask. Expectation is preserved:
 * E[out] = in. */
#include <string.h>

#include "lm_layers.h"

void lm_dropout_forward(float *out, float *mask, const float *in, size_t n,
                        float p, lm_rng *rng) {
    if (p <= 0.0f) {
        for (size_t i = 0; i < n; i++) mask[i] = 1.0f;
        if (out != in) memmove(out, in, sizeof(float) * n);
        return;
    }
    const float keep = 1.0f / (1.0f - p);
    lm_rng_fill_uniform(rng, mask, n); /* the draws of n lm_rng_uniform calls */
    for (size_t i = 0; i < n; i++) {
        mask[i] = mask[i] < p ? 0.0f : keep;
        out[i] = in[i] * mask[i];
    }
}

void lm_dropout_backward(float *din, const float *dout, const float *mask,
                         size_t n) {
    for (size_t i = 0; i < n; i++) din[i] = dout[i] * mask[i];
}
