/* test_dist_grad: the gradient sum across ranks is right and the same bits
 * on every rank, in every mode: overlapped or not (hook called or not),
 * embedding sparse, dense, or chosen by size, tokens given or not; over
 * disjoint, overlapping, one-empty, all-empty and wide token sets; and for
 * several steps on one sync object (state resets between steps).
 *
 * Overlap goes through the ring engine (dist_overlap.c): the head as one
 * range from on_head_grads, or rows in uneven pieces with progress calls
 * between them; at 2 ranks it must give bitwise what the blocking
 * MPI_Allreduce gives (a + b), at 3 the same bits on every rank.
 *
 * Every rank regenerates every rank's inputs, so the expected result is the
 * rank-order sum computed locally. With "exact" inputs (multiples of 1/64)
 * any summation order gives the same bits, so the data movement (head,
 * LSTM, packed rows) is checked bitwise for any world size; with random
 * floats the result is bitwise equal for 1 and 2 ranks (a+b == b+a) and
 * within rounding for more, and identical across ranks always. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist_test.h"

typedef struct shape {
    int V, E;
    size_t head, lstm;
} shape;

enum { C_DISJOINT, C_OVERLAP, C_ONE_EMPTY, C_ALL_EMPTY, C_WIDE, C_COUNT };
static const char *const case_name[C_COUNT] = {"disjoint", "overlap", "one-empty",
                                               "all-empty", "wide"};

/* Rank r's input ids for a case, with duplicates as in a real batch. */
static size_t case_ids(int c, int r, int P, int V, int32_t *ids) {
    size_t n = 0;
    switch (c) {
    case C_DISJOINT: /* 12 tokens per rank, no two ranks share one */
        for (int k = 0; k < 12; k++) {
            ids[n++] = k * P + r;
            if (k % 3 == 0) ids[n++] = k * P + r;
        }
        break;
    case C_OVERLAP: /* tokens 0..7 everywhere plus a few of its own */
        for (int k = 0; k < 8; k++) ids[n++] = 7 - k;
        for (int k = 0; k < 5; k++) ids[n++] = V - 1 - (r * 5 + k);
        ids[n++] = 3;
        break;
    case C_ONE_EMPTY: /* the last rank's batch has no tokens at all */
        if (r != P - 1 || P == 1)
            for (int k = 0; k < 10; k++) ids[n++] = 5 + r * 10 + k;
        break;
    case C_ALL_EMPTY:
        break;
    case C_WIDE: /* 50-60% of the vocabulary in the union: dense is cheaper */
        for (int t = 0; t < V; t++)
            if (t % 10 < 5 + r % 2) ids[n++] = t;
        break;
    }
    return n;
}

/* A rank's gradient as the model leaves it: head and LSTM dense, embedding
 * rows scatter-added for its ids, every other row zero. */
static void fill_grads(float *g, const dist_grad_layout *L, uint64_t seed, int exact,
                       const int32_t *ids, size_t n) {
    uint64_t s = seed;
    for (size_t i = 0; i < L->emb; i++) g[i] = dt_value(&s, exact);
    memset(g + L->emb, 0, (size_t)L->V * (size_t)L->E * sizeof(float));
    for (size_t k = 0; k < n; k++)
        for (int j = 0; j < L->E; j++)
            g[L->emb + (size_t)ids[k] * (size_t)L->E + (size_t)j] += dt_value(&s, exact);
}

enum { HOOK_NONE, HOOK_HEAD, HOOK_ROWS }; /* HOOK_ROWS: rows in pieces, then on_head_grads */

typedef struct mode {
    const char *name;
    unsigned flags;
    int hook, tokens;
} mode;

enum { ROW_PIECES = 7 };

static int row_piece(int V, int k) { return V * k * k / (ROW_PIECES * ROW_PIECES); }
static int ring_pieces(size_t n) { return (int)((n + DIST_RING_PIECE - 1) / DIST_RING_PIECE); }

/* The model's row announcements: 7 uneven ranges covering [0, V), with
 * progress calls between them (as the fused head does between blocks). */
static void announce_rows(dist_grad_sync *s, int V) {
    for (int k = 0; k < ROW_PIECES; k++) {
        dist_grad_sync_on_head_rows(s, row_piece(V, k), row_piece(V, k + 1));
        dist_grad_sync_on_progress(s);
        dist_grad_sync_on_progress(s);
    }
}

/* The ring allreduces a step starts: each range in pieces of at most
 * DIST_RING_PIECE floats. */
static int want_ring_ranges(const dist_grad_layout *L, int hook) {
    if (hook != HOOK_ROWS) return ring_pieces(L->head);
    int n = 0;
    for (int k = 0; k < ROW_PIECES; k++)
        n += ring_pieces((size_t)(row_piece(L->V, k + 1) - row_piece(L->V, k)) * L->row);
    return n;
}

typedef struct bufs {
    float *g, *want, *tmp;
    int32_t *ids, *mine;
    unsigned char *in_union;
} bufs;

/* One step: fill, sync as the train loop would, compare. */
static void run_step(dist_world *w, dist_grad_sync *s, const dist_grad_layout *L,
                     const mode *m, int c, int step, int exact, bufs *b) {
    lm_err e = {{0}};
    int P = w->size;
    size_t n_mine = 0;
    memset(b->in_union, 0, (size_t)L->V);
    for (int r = 0; r < P; r++) {
        size_t n = case_ids(c, r, P, L->V, b->ids);
        for (size_t k = 0; k < n; k++) b->in_union[b->ids[k]] = 1;
        fill_grads(b->tmp, L, 1000003u * (uint64_t)step + (uint64_t)r, exact, b->ids, n);
        for (size_t i = 0; i < L->n; i++) b->want[i] = r == 0 ? b->tmp[i] : b->want[i] + b->tmp[i];
        if (r == w->rank) {
            memcpy(b->g, b->tmp, L->n * sizeof(float));
            memcpy(b->mine, b->ids, n * sizeof(int32_t));
            n_mine = n;
        }
    }
    long u = 0;
    for (int t = 0; t < L->V; t++) u += b->in_union[t];

    /* As the train loop: tokens before the forward, hook once the head is
     * final; the rest of the gradient is written only after the hook. */
    size_t rest = L->n - L->head;
    memcpy(b->tmp, b->g + L->head, rest * sizeof(float));
    memset(b->g + L->head, 0, rest * sizeof(float));
    if (m->tokens) CHECK(w, dist_grad_sync_tokens(s, b->mine, n_mine, &e) == 0, "%s", e.msg);
    if (m->hook == HOOK_ROWS) announce_rows(s, L->V);
    if (m->hook) dist_grad_sync_on_head_grads(s);
    memcpy(b->g + L->head, b->tmp, rest * sizeof(float));
    dist_grad_sync_progress(s);
    CHECK(w, dist_grad_sync_finish(s, &e) == 0, "%s", e.msg);

    const char *what = case_name[c];
    if (exact || P <= 2) {
        for (size_t i = 0; i < L->n; i++)
            CHECK(w, memcmp(&b->g[i], &b->want[i], sizeof(float)) == 0,
                  "%s/%s/%s: g[%zu] = %.9g, want %.9g (head %zu, emb %zu)", m->name, what,
                  exact ? "exact" : "random", i, b->g[i], b->want[i], L->head, L->emb);
    } else {
        for (size_t i = 0; i < L->n; i++)
            CHECK(w, fabsf(b->g[i] - b->want[i]) <= 1e-6f * (float)P,
                  "%s/%s/random: g[%zu] = %.9g, want %.9g", m->name, what, i, b->g[i],
                  b->want[i]);
    }
    CHECK(w, dist_check_identical(w, b->g, L->n, &e) == 0, "%s/%s: %s", m->name, what, e.msg);

    dist_grad_stats st;
    dist_grad_sync_stats(s, &st);
    CHECK(w, st.comm_s >= 0 && st.wait_s >= 0 && st.total_comm_s >= st.comm_s,
          "negative times");
    if (P == 1) return;
    int dense_only = (m->flags & DIST_GS_DENSE_EMB) != 0;
    int want_sparse = !dense_only && ((m->flags & DIST_GS_SPARSE_EMB) ||
                                      (m->tokens && 2 * u < (long)L->V));
    long want_rows = dense_only || !m->tokens ? -1 : u;
    int want_overlap = m->hook && (m->flags & DIST_GS_OVERLAP);
    CHECK(w, st.sparse == want_sparse, "%s/%s: sparse %d, want %d", m->name, what, st.sparse,
          want_sparse);
    CHECK(w, st.union_rows == want_rows, "%s/%s: union %ld, want %ld", m->name, what,
          st.union_rows, want_rows);
    CHECK(w, st.overlapped == want_overlap, "%s/%s: overlapped %d", m->name, what,
          st.overlapped);
    int want_ranges = !want_overlap ? 0 : want_ring_ranges(L, m->hook);
    CHECK(w, st.ranges == want_ranges, "%s/%s: %d ring ranges, want %d", m->name, what, st.ranges,
          want_ranges);
    /* without tokens every rank offers every row: the union is V */
    size_t rows = m->tokens ? (size_t)u : (size_t)L->V;
    size_t want_floats = want_sparse ? L->emb + rows * (size_t)L->E : L->n;
    CHECK(w, st.floats == want_floats, "%s/%s: %zu floats reduced, want %zu", m->name, what,
          st.floats, want_floats);
}

static dist_grad_layout layout_of(shape sh) {
    dist_grad_layout L = {.head = sh.head, .emb = sh.head + sh.lstm, .V = sh.V, .E = sh.E};
    L.n = L.emb + (size_t)sh.V * (size_t)sh.E;
    L.row = sh.head > (size_t)sh.V ? (sh.head - (size_t)sh.V) / (size_t)sh.V : 0; /* the rest: "fc.bias" */
    return L;
}

static void test_modes(dist_world *w, shape sh) {
    static const mode modes[] = {
        {"default", 0, HOOK_ROWS, 1},
        {"overlap", DIST_GS_OVERLAP, HOOK_HEAD, 1},
        {"overlap-rows", DIST_GS_OVERLAP, HOOK_ROWS, 1},
        {"overlap-no-hook", DIST_GS_OVERLAP, HOOK_NONE, 1},
        {"overlap-dense", DIST_GS_OVERLAP | DIST_GS_DENSE_EMB, HOOK_HEAD, 1},
        {"overlap-rows-dense", DIST_GS_OVERLAP | DIST_GS_DENSE_EMB, HOOK_ROWS, 1},
        {"dense", DIST_GS_DENSE_EMB, HOOK_HEAD, 1},
        {"sparse", DIST_GS_SPARSE_EMB, HOOK_HEAD, 1},
        {"overlap-sparse", DIST_GS_OVERLAP | DIST_GS_SPARSE_EMB, HOOK_ROWS, 1},
        {"no-tokens", DIST_GS_OVERLAP, HOOK_HEAD, 0},
        {"rows-no-tokens", DIST_GS_OVERLAP, HOOK_ROWS, 0},
        {"sparse-no-tokens", DIST_GS_SPARSE_EMB, HOOK_NONE, 0},
    };
    lm_err e = {{0}};
    dist_grad_layout L = layout_of(sh);
    bufs b = {malloc(L.n * sizeof(float)), malloc(L.n * sizeof(float)),
              malloc(L.n * sizeof(float)), malloc((size_t)sh.V * 2 * sizeof(int32_t)),
              malloc((size_t)sh.V * 2 * sizeof(int32_t)), malloc((size_t)sh.V)};
    CHECK(w, b.g && b.want && b.tmp && b.ids && b.mine && b.in_union, "out of memory");
    int step = 0;
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        dist_grad_sync *s = dist_grad_sync_create(w, b.g, &L, modes[mi].flags, &e);
        CHECK(w, s != NULL, "%s", e.msg);
        for (int c = 0; c < C_COUNT; c++)
            for (int exact = 1; exact >= 0; exact--)
                run_step(w, s, &L, &modes[mi], c, step++, exact, &b);
        dist_grad_stats st;
        dist_grad_sync_stats(s, &st);
        CHECK(w, st.steps == 2 * C_COUNT, "%ld steps counted", st.steps);
        dist_grad_sync_free(s);
    }
    free(b.g), free(b.want), free(b.tmp), free(b.ids), free(b.mine), free(b.in_union);
}

/* Misuse is reported, and a rank that failed in tokens() still completes the
 * step with the others (it goes dense), so nobody hangs. */
static void test_errors(dist_world *w) {
    lm_err e = {{0}};
    shape sh = {50, 3, 40, 7};
    dist_grad_layout L = layout_of(sh), bad = L;
    bad.n++;
    float *g = calloc(L.n, sizeof(float));
    CHECK(w, g != NULL, "out of memory");
    CHECK(w, dist_grad_sync_create(w, g, &bad, 0, &e) == NULL && strstr(e.msg, "layout"),
          "bad layout accepted: '%s'", e.msg);
    CHECK(w, dist_grad_sync_create(w, g, &L, DIST_GS_DENSE_EMB | DIST_GS_SPARSE_EMB, &e) == NULL,
          "dense+sparse accepted");

    dist_grad_sync *s = dist_grad_sync_create(w, g, &L, DIST_GS_CHECK_ROWS, &e);
    CHECK(w, s != NULL, "%s", e.msg);
    int32_t ids[3] = {1, 2, w->rank == 0 ? 50 : 3};
    int rc = dist_grad_sync_tokens(s, ids, 3, &e);
    if (w->size > 1 && w->rank == 0)
        CHECK(w, rc == -1 && strstr(e.msg, "token id 50"), "id 50 of V 50 accepted: '%s'",
              e.msg);
    else
        CHECK(w, rc == 0, "%s", e.msg);
    if (w->size > 1 && w->rank != 0)
        CHECK(w, dist_grad_sync_tokens(s, ids, 3, &e) == -1 && strstr(e.msg, "twice"),
              "second tokens() in a step accepted");
    for (size_t i = 0; i < L.n; i++) g[i] = 1.0f;
    memset(g + L.emb, 0, (size_t)sh.V * sh.E * sizeof(float));
    CHECK(w, dist_grad_sync_finish(s, &e) == 0, "%s", e.msg);
    for (size_t i = 0; i < L.emb; i++)
        CHECK(w, g[i] == (float)w->size, "g[%zu] = %g after a failed tokens()", i, g[i]);

    /* CHECK_ROWS: the last rank has gradient in a row it had no token for. */
    for (size_t i = 0; i < L.n; i++) g[i] = 0.0f;
    int32_t one = 4;
    CHECK(w, dist_grad_sync_tokens(s, &one, 1, &e) == 0, "%s", e.msg);
    g[L.emb + (size_t)4 * sh.E] = 1.0f;
    if (w->rank == w->size - 1) g[L.emb + (size_t)9 * sh.E + 2] = 1.0f;
    rc = dist_grad_sync_finish(s, &e);
    if (w->size > 1 && w->rank == w->size - 1)
        CHECK(w, rc == -1 && strstr(e.msg, "row 9"), "stray row not reported: rc %d '%s'", rc,
              e.msg);
    else
        CHECK(w, rc == 0, "%s", e.msg);
    CHECK(w, g[L.emb + (size_t)4 * sh.E] == (float)w->size, "row 4 not summed");
    dist_grad_sync_free(s);

    /* A head range that does not continue the previous one is refused (the
     * sync stays usable: the head then goes from the hook). */
    s = dist_grad_sync_create(w, g, &L, DIST_GS_OVERLAP, &e);
    CHECK(w, s != NULL, "%s", e.msg);
    for (size_t i = 0; i < L.n; i++) g[i] = i < L.emb ? 1.0f : 0.0f;
    rc = dist_grad_sync_head_range(s, 5, 10, &e);
    if (w->size > 1)
        CHECK(w, rc == -1 && strstr(e.msg, "does not continue"), "range [5, 10) first accepted: '%s'", e.msg);
    dist_grad_sync_on_head_grads(s);
    CHECK(w, dist_grad_sync_finish(s, &e) == 0, "%s", e.msg);
    for (size_t i = 0; i < L.emb; i++) CHECK(w, g[i] == (float)w->size, "g[%zu] = %g", i, g[i]);
    dist_grad_sync_free(s);
    free(g);
}

/* The layout read off an lm_model follows lm_model.h's tensor order. */
static void test_layout_of_model(dist_world *w) {
    lm_model m;
    memset(&m, 0, sizeof m);
    m.d = (lm_dims){.V = 10, .E = 3, .H = 2};
    size_t sizes[LM_P_COUNT] = {10 * 2, 10, 8 * 3, 8 * 2, 8, 10 * 3}, off = 0;
    for (int i = 0; i < LM_P_COUNT; i++) {
        m.info[i].offset = off;
        off += sizes[i];
    }
    m.n_params = off;
    dist_grad_layout L = dist_grad_layout_of_model(&m);
    CHECK(w, L.n == 108 && L.head == 30 && L.emb == 78 && L.V == 10 && L.E == 3,
          "layout n %zu head %zu emb %zu V %d E %d", L.n, L.head, L.emb, L.V, L.E);
}

int main(int argc, char **argv) {
    dist_world w;
    dt_init(&w, &argc, &argv);
    test_layout_of_model(&w);
    test_modes(&w, (shape){300, 4, 3000, 50});
    /* A head of 4 MiB goes by the rendezvous protocol, not eagerly. */
    test_modes(&w, (shape){2000, 16, (size_t)1 << 20, 5000});
    test_errors(&w);
    if (w.rank == 0) printf("test_dist_grad: %d rank(s) ok\n", w.size);
    dist_world_finalize(&w);
    return 0;
}
