/* lm_sample: choosing the next token from one row of logits.
 * temperature <= 0 or top_k == 1 means greedy (argmax, lowest id on ties).
 * Otherwise: divide by temperature, keep the top_k largest (0 = all), then the
 * smallest prefix (by descending probability) whose mass reaches top_p
 * (1.0 = all), renormalise and draw one token with rng. */
#ifndef LM_SAMPLE_H
#define LM_SAMPLE_H

#include <stddef.h>

#include "lm_rng.h"

typedef struct lm_sampler {
    float temperature; /* default 1.0 */
    int top_k;         /* 0 = no limit */
    float top_p;       /* 1.0 = no limit */
} lm_sampler;

/* Returns the chosen id in [0, V). `scratch` is workspace of
 * lm_sample_scratch_floats(V) floats (4*V; obtain it from malloc, it also
 * holds int32 ids). Greedy calls use no rng draw, every other call
 * exactly one, so a run is reproducible from the rng state. NaN logits count
 * as -inf; when no token has positive weight it falls back to greedy.
 * Ties at the top-k/top-p boundary keep the lower ids. If logprob is non-NULL
 * it receives the log-probability of the chosen token under the untruncated
 * softmax at temperature 1 (the model's own distribution). */
size_t lm_sample_scratch_floats(int V);
int lm_sample(const lm_sampler *s, const float *logits, int V, lm_rng *rng,
              float *scratch, float *logprob);
/* Index of the largest entry (lowest on ties; NaN ignored; 0 if none). */
int lm_argmax(const float *x, int n);

#endif
