/* lm_sample: greedy, temperature, top-k and nucleus (top-p) sampling over one
 * row of logits, in O(V) for every path, with no sort:
 *   - weights w = exp((x - max) / T) by lm_vexp_sum (vectorized);
 *   - top-k: a size-k heap scan over the logits finds the k largest,
 *     O(V log k) worst case (a small k is then heap-sorted, a large one
 *     re-collected in id order by one stable pass);
 *   - top-p: a radix select on the weights' float bits (three 10-bit digits
 *     from mass histograms) finds the boundary weight without sorting; the
 *     nucleus is the cut "heavier than it, or equal to it and not after the
 *     last position needed";
 *   - the draw sums the cut's mass per block, then walks one block.
 *
 * Invariants: candidates are ordered by (weight desc, id asc), a strict total
 * order, so ties at the top-k / top-p boundary always keep the lower ids and
 * the result depends only on the logits and the rng state. NaN logits count
 * as -inf. If the weights cannot be formed (all -inf/NaN, +inf logits, an
 * overflowing 1/T) the sampler falls back to greedy. Exactly one rng draw is
 * consumed per non-greedy call, none for greedy. */
#include "lm_sample.h"

#include "lm_vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lm_clones.h"

enum { BLOCK = 256, MAX_BLOCKS = 4096, NB = 1024, NC = 4 };

/* w[i] = (x[i] - m) * inv_t, ready for lm_vexp_sum(w, n, 0); NaN -> -inf */
LM_ISA_CLONES_VOID(shift_scale, (const float *x, float *w, int n, float m, float inv_t),
                   (x, w, n, m, inv_t)) {
    for (int i = 0; i < n; i++) {
        float d = (x[i] - m) * inv_t;
        w[i] = d == d ? d : -INFINITY;
    }
}

/* max over non-NaN entries; -INFINITY when there are none */
LM_ISA_CLONES(float, max_pass, (const float *restrict x, int n), (x, n)) {
    float acc[16]; /* independent lanes: no loop-carried latency chain */
    for (int j = 0; j < 16; j++) acc[j] = -INFINITY;
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    float m = -INFINITY;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    return m;
}

/* first i with x[i] == m, testing 16 at a time; 0 if none */
static int first_equal(const float *x, int n, float m) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        int any = 0;
        for (int j = 0; j < 16; j++) any |= x[i + j] == m;
        if (any) break;
    }
    for (; i < n; i++)
        if (x[i] == m) return i;
    return 0;
}

int lm_argmax(const float *x, int n) { return n > 0 ? first_equal(x, n, max_pass(x, n)) : 0; }

size_t lm_sample_scratch_floats(int V) { return V > 0 ? 4 * (size_t)V : 0; }

/* ---- (weight, id) pairs in two parallel arrays ------------------------- */

/* a comes before b in the candidate order: heavier first, then lower id */
static inline int before(const float *w, const int32_t *id, int a, int b) {
    return w[a] > w[b] || (w[a] == w[b] && id[a] < id[b]);
}

static inline void swap_at(float *w, int32_t *id, int a, int b) {
    float tw = w[a];
    w[a] = w[b];
    w[b] = tw;
    int32_t ti = id[a];
    id[a] = id[b];
    id[b] = ti;
}

/* Heap with the LAST element of the order at the root. */
static void heap_sift(float *w, int32_t *id, int n, int i) {
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && before(w, id, c, c + 1)) c++;
        if (!before(w, id, i, c)) return;
        swap_at(w, id, i, c);
        i = c;
    }
}

static void heap_build(float *w, int32_t *id, int n) {
    for (int i = n / 2 - 1; i >= 0; i--) heap_sift(w, id, n, i);
}

/* The k largest logits (NaN as -inf) in (w, id)[0..n), ids ascending among
 * equal logits; returns n (k, or fewer when NaNs were among them). A heap
 * whose root is the weakest kept finds them in one scan; a small k is then
 * heap-sorted (into the candidate order), a large one is re-collected by a
 * stable pass over the logits. */
static int top_k_candidates(const float *logits, int V, int k, float *w, int32_t *id) {
    for (int i = 0; i < k; i++) {
        w[i] = logits[i] == logits[i] ? logits[i] : -INFINITY;
        id[i] = i;
    }
    heap_build(w, id, k);
    for (int i = k; i < V; i++)
        if (logits[i] > w[0]) { /* an equal logit loses: its id is higher */
            w[0] = logits[i];
            id[0] = i;
            heap_sift(w, id, k, 0);
        }
    if (k <= V / 16) {
        for (int end = k - 1; end > 0; end--) {
            swap_at(w, id, 0, end);
            heap_sift(w, id, end, 0);
        }
        return k;
    }
    const float rx = w[0];
    const int32_t rid = id[0];
    int n = 0;
    for (int i = 0; i < V; i++) { /* branch-free stable compaction */
        float x = logits[i];
        w[n] = x;
        id[n] = i;
        n += (x > rx) | ((x == rx) & (i <= rid));
    }
    return n;
}

/* ---- nucleus by radix select on the weights' bits ----------------------
 * Weights are in [0, 1], where float bit patterns order like the values, so
 * the k-th heaviest can be found digit by digit (10 bits at a time) from
 * mass histograms instead of by sorting. The nucleus is then described by a
 * cut: every weight whose bits exceed `key`, plus those equal to it at a
 * position up to `last` (candidates of equal weight are in id order, so ties
 * keep the lower ids). */
typedef struct {
    uint32_t key;
    int32_t last;
} cut;

static inline uint32_t fbits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Mass per digit (bits >> shift) & (NB-1) over w[0..n), in NC interleaved
 * copies so that runs of equal digits do not serialize on one counter. */
static void mass_histogram(const float *w, int n, int shift, double *out) {
    double h[NC][NB];
    memset(h, 0, sizeof h);
    int i = 0;
    for (; i + NC <= n; i += NC)
        for (int c = 0; c < NC; c++) h[c][(fbits(w[i + c]) >> shift) & (NB - 1)] += (double)w[i + c];
    for (; i < n; i++) h[0][(fbits(w[i]) >> shift) & (NB - 1)] += (double)w[i];
    for (int b = 0; b < NB; b++) out[b] = h[0][b] + h[1][b] + h[2][b] + h[3][b];
}

/* From the heaviest digit down, the one whose mass takes *acc to target;
 * *acc gains the mass of the digits above it. If rounding leaves the target
 * unreached, the lightest non-empty digit (everything is kept). */
static int pick_digit(const double *h, double *acc, double target) {
    int last_nonempty = 0;
    double acc_before_last = *acc;
    for (int b = NB - 1; b >= 0; b--) {
        if (h[b] == 0.0) continue;
        if (*acc + h[b] >= target) return b;
        last_nonempty = b;
        acc_before_last = *acc;
        *acc += h[b];
    }
    *acc = acc_before_last;
    return last_nonempty;
}

/* Keeps (gw, gid)[0..n) entries whose bits >> shift equal want; stable. */
static int keep_digit(float *gw, int32_t *gid, int n, int shift, uint32_t want) {
    int g = 0;
    for (int i = 0; i < n; i++) {
        float x = gw[i];
        int32_t d = gid[i];
        gw[g] = x;
        gid[g] = d;
        g += (fbits(x) >> shift) == want;
    }
    return g;
}

/* The smallest prefix of w[0..n) in the candidate order whose mass reaches
 * target > 0, as a cut. gw/gpos: workspace of n entries for the boundary
 * digit's group (weights and positions). */
static cut nucleus_cut(const float *w, int n, double target, float *gw, int32_t *gpos) {
    double h[NB], acc = 0.0;
    mass_histogram(w, n, 20, h); /* bits 31..20: w <= 1 keeps them < NB */
    uint32_t key = (uint32_t)pick_digit(h, &acc, target);
    int g = 0;
    for (int i = 0; i < n; i++) { /* the boundary group, in id order */
        gw[g] = w[i];
        gpos[g] = i;
        g += (fbits(w[i]) >> 20) == key;
    }
    for (int shift = 10; shift >= 0; shift -= 10) {
        mass_histogram(gw, g, shift, h);
        key = (key << 10) | (uint32_t)pick_digit(h, &acc, target);
        g = keep_digit(gw, gpos, g, shift, key);
    }
    cut c = {key, -1};
    for (int i = 0; i < g && acc < target; i++) { /* ties at the boundary */
        acc += (double)gw[i];
        c.last = gpos[i];
    }
    if (c.last < 0 && g > 0) c.last = gpos[g - 1];
    return c;
}

static const cut CUT_ALL = {0, INT32_MAX};

static inline int in_cut(float w, int32_t pos, cut c) {
    uint32_t bits = fbits(w);
    return (bits > c.key) | ((bits == c.key) & (pos <= c.last));
}

/* Mass of the members of cut c in w[lo..hi) (at most one block), summed in
 * 16 float lanes (a block is short enough for float). */
LM_ISA_CLONES(double, block_mass, (const float *restrict w, int lo, int hi, cut c),
              (w, lo, hi, c)) {
    float acc[16] = {0};
    int i = lo;
    for (; i + 16 <= hi; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += in_cut(w[i + j], i + j, c) ? w[i + j] : 0.0f;
    double s = 0.0;
    for (; i < hi; i++) s += in_cut(w[i], i, c) ? (double)w[i] : 0.0;
    for (int j = 0; j < 16; j++) s += (double)acc[j];
    return s;
}

/* Draws a position in [0,n) with probability proportional to w among the
 * members of cut c, walking block sums first. -1 if there is no mass. */
static int draw(const float *w, int n, cut c, double u) {
    int bs = BLOCK;
    if ((n + bs - 1) / bs > MAX_BLOCKS) bs = (n + MAX_BLOCKS - 1) / MAX_BLOCKS;
    int nb = (n + bs - 1) / bs;
    double bsum[MAX_BLOCKS], total = 0.0;
    for (int b = 0; b < nb; b++) {
        bsum[b] = block_mass(w, b * bs, (b + 1) * bs <= n ? (b + 1) * bs : n, c);
        total += bsum[b];
    }
    if (!(total > 0.0) || !isfinite(total)) return -1;
    double target = u * total, acc = 0.0;
    int b = 0;
    while (b < nb - 1 && acc + bsum[b] <= target) acc += bsum[b++];
    int last_pos = -1;
    for (int i = b * bs; i < n; i++) { /* normally ends inside block b */
        if (w[i] <= 0.0f || !in_cut(w[i], i, c)) continue;
        acc += w[i];
        last_pos = i;
        if (target < acc) return i;
    }
    return last_pos; /* target fell past the end by rounding */
}

/* log-softmax at temperature 1 of logits[i]; m is the max over non-NaN
 * logits; w is V floats of workspace. */
static float log_prob_at(const float *logits, int V, float m, int i, float *w) {
    if (!isfinite(m)) return logits[i] == m ? 0.0f : -INFINITY;
    memcpy(w, logits, (size_t)V * sizeof *w);
    double z = (double)lm_vexp_sum(w, (size_t)V, m);
    return (float)((double)logits[i] - (double)m - log(z));
}

int lm_sample(const lm_sampler *s, const float *logits, int V, lm_rng *rng, float *scratch,
              float *logprob) {
    if (V <= 1) {
        if (logprob) *logprob = 0.0f;
        return 0;
    }
    const float m = max_pass(logits, V);
    const float inv_t = s->temperature > 0.0f ? 1.0f / s->temperature : INFINITY;
    const int greedy = s->temperature <= 0.0f || s->top_k == 1 || !isfinite(inv_t) || !isfinite(m);
    /* scratch: w [V] floats, id [V] int32, then the nucleus group gw, gpos */
    float *w = scratch, *gw = scratch + 2 * (size_t)V;
    int32_t *id = (int32_t *)(scratch + V), *gpos = (int32_t *)(scratch + 3 * (size_t)V);
    int chosen = -1;
    if (!greedy) {
        const double u = lm_rng_uniform_d(rng);
        const int32_t *ids = NULL; /* NULL: candidate i is token i */
        int n = V;
        if (s->top_k > 0 && s->top_k < V) {
            n = top_k_candidates(logits, V, s->top_k, w, id);
            ids = id;
            shift_scale(w, w, n, m, inv_t);
        } else {
            shift_scale(logits, w, V, m, inv_t);
        }
        double total = (double)lm_vexp_sum(w, (size_t)n, 0.0f);
        cut c = CUT_ALL;
        if (s->top_p < 1.0f && n > 1 && total > 0.0) {
            if (s->top_p <= 0.0f) { /* only the first candidate */
                int a = lm_argmax(w, n);
                c = (cut){fbits(w[a]), a};
            } else {
                c = nucleus_cut(w, n, (double)s->top_p * total, gw, gpos);
            }
        }
        int j = n > 0 ? draw(w, n, c, u) : -1;
        if (j >= 0) chosen = ids ? ids[j] : j;
    }
    if (chosen < 0) chosen = first_equal(logits, V, m);
    if (logprob) *logprob = log_prob_at(logits, V, m, chosen, w);
    return chosen;
}
