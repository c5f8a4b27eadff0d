/* dist_grad: the per-step gradient sum across ranks over the model's one
 * contiguous gradient buffer (layout in dist.h / lm_model.h).
 *
 *   tokens()  : OR of the ranks' token bitmaps starts (non-blocking, c_tok)
 *   hooks     : with DIST_GS_OVERLAP, each final range of head rows starts
 *               its ring sum (dist_overlap.c, c_ring; packed to 16 bits
 *               first with a 16-bit wire); the progress hook
 *               advances them; else the head goes in finish
 *   finish()  : union U known -> sum [covered, emb) and the embedding rows of U
 *               (packed, if sparse) or the whole embedding (dense), on c_rest;
 *               then wait for the head. With a 16-bit wire (DIST_GS_WIRE_*)
 *               the head (the part the ring did not take) is packed to 16
 *               bits and summed last, on c_head.
 *
 * Invariants:
 * - Every rank issues the same collectives with the same counts: the sparse
 *   decision depends only on the union bitmap, which all ranks share.
 * - Each float of the result is one MPI_SUM over the same inputs on every
 *   rank; Open MPI's reductions return the same bits on all ranks (the
 *   result is computed once per block and copied, or with the same pairwise
 *   tree everywhere); dist_check_identical is the run-time proof.
 * - Embedding rows outside U are zero on every rank before and after (the
 *   model zeroes the embedding gradient before scatter-adding); they are not
 *   touched by the sparse path.
 * - The three non-blocking/blocking streams use their own communicators, so
 *   their relative order on a rank does not matter. */
#include "dist_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lm_sys.h"

struct dist_grad_sync {
    int size;
    unsigned flags;
    float *g;
    dist_grad_layout L;
    MPI_Comm c_head, c_tok, c_rest, c_ring; /* c_ring: the overlap engine's alone */
    size_t words;       /* bitmap words: ceil(V / 64) */
    uint64_t *mine;     /* this rank's tokens this step */
    uint64_t *all;      /* their OR over ranks */
    size_t n_mine;      /* ids given to tokens() this step */
    MPI_Request tok_req;
    int tok_started;
    dist_ring *ring;    /* the overlap engine, with DIST_GS_OVERLAP */
    size_t covered;     /* [0, covered) of the head started in the ring */
    int ranges;         /* ring ranges started this step */
    int hook_failed;
    lm_err hook_err;
    int wire;           /* DIST_WIRE_*: the head's format on the wire */
    uint16_t *wire_buf; /* [head] 16-bit head, when wire */
    MPI_Op wire_op;     /* its sum (dist_wire.c), when wire */
    float *pack;        /* [|U|, E] rows, grown on demand */
    size_t pack_cap;    /* floats */
    double step_comm;   /* seconds inside dist calls this step so far */
    dist_grad_stats st;
};

dist_grad_layout dist_grad_layout_of_model(const lm_model *m) {
    dist_grad_layout L;
    L.n = m->n_params;
    L.head = m->info[LM_P_FC_B].offset + (size_t)m->d.V;
    L.emb = m->info[LM_P_EMB].offset;
    L.V = m->d.V;
    L.E = m->d.E;
    L.row = (size_t)m->d.H;
    return L;
}

static void free_comms(dist_grad_sync *s) {
    MPI_Comm *c[4] = {&s->c_head, &s->c_tok, &s->c_rest, &s->c_ring};
    for (int i = 0; i < 4; i++)
        if (*c[i] != MPI_COMM_NULL) MPI_Comm_free(c[i]);
}

void dist_grad_sync_free(dist_grad_sync *s) {
    if (!s) return;
    dist_ring_free(s->ring);
    if (s->size > 1) free_comms(s);
    if (s->wire_op != MPI_OP_NULL) MPI_Op_free(&s->wire_op);
    free(s->wire_buf);
    free(s->mine);
    free(s->all);
    free(s->pack);
    free(s);
}

dist_grad_sync *dist_grad_sync_create(const dist_world *w, float *grads,
                                      const dist_grad_layout *L, unsigned flags,
                                      lm_err *e) {
    if (!grads || L->V <= 0 || L->E <= 0 || L->head > L->emb ||
        L->emb + (size_t)L->V * (size_t)L->E != L->n) {
        lm_err_set(e, "dist: bad gradient layout (n %zu, head %zu, emb %zu, V %d, E %d)",
                   L->n, L->head, L->emb, L->V, L->E);
        return NULL;
    }
    if (L->row && L->row * (size_t)L->V > L->head) {
        lm_err_set(e, "dist: %d head rows of %zu floats exceed the head of %zu", L->V, L->row, L->head);
        return NULL;
    }
    if (L->n > (size_t)INT_MAX) {
        lm_err_set(e, "dist: gradient of %zu floats exceeds one MPI message", L->n);
        return NULL;
    }
    if ((flags & DIST_GS_DENSE_EMB) && (flags & DIST_GS_SPARSE_EMB)) {
        lm_err_set(e, "dist: DIST_GS_DENSE_EMB and DIST_GS_SPARSE_EMB together");
        return NULL;
    }
    int wire = (flags & DIST_GS_WIRE_BF16) ? DIST_WIRE_BF16 : (flags & DIST_GS_WIRE_FP16) ? DIST_WIRE_FP16 : 0;
    if (wire && ((flags & DIST_GS_WIRE_BF16) && (flags & DIST_GS_WIRE_FP16))) {
        lm_err_set(e, "dist: DIST_GS_WIRE_BF16 and DIST_GS_WIRE_FP16 together");
        return NULL;
    }
    dist_grad_sync *s = calloc(1, sizeof *s);
    if (!s) {
        lm_err_set(e, "dist: out of memory");
        return NULL;
    }
    s->size = w->size;
    s->flags = flags;
    s->g = grads;
    s->L = *L;
    s->c_head = s->c_tok = s->c_rest = s->c_ring = MPI_COMM_NULL;
    s->tok_req = MPI_REQUEST_NULL;
    s->wire_op = MPI_OP_NULL;
    s->wire = s->size > 1 ? wire : 0;
    s->words = ((size_t)L->V + 63) / 64;
    s->mine = calloc(s->words, sizeof *s->mine);
    s->all = calloc(s->words, sizeof *s->all);
    if (!s->mine || !s->all) {
        lm_err_set(e, "dist: out of memory for token bitmaps (V %d)", L->V);
        dist_grad_sync_free(s);
        return NULL;
    }
    if (s->size > 1 && (dist_comm_dup(dist_comm(w), &s->c_head, e) ||
                        dist_comm_dup(dist_comm(w), &s->c_tok, e) ||
                        dist_comm_dup(dist_comm(w), &s->c_rest, e))) {
        dist_grad_sync_free(s);
        return NULL;
    }
    if (s->size > 1 && (flags & DIST_GS_OVERLAP) &&
        (dist_comm_dup(dist_comm(w), &s->c_ring, e) || dist_ring_create(s->c_ring, s->wire, &s->ring, e))) {
        dist_grad_sync_free(s);
        return NULL;
    }
    if (s->wire && (!(s->wire_buf = malloc(L->head * sizeof *s->wire_buf)) ||
                    dist_wire_op_create(s->wire, &s->wire_op, e))) {
        if (!s->wire_buf) lm_err_set(e, "dist: out of memory for the 16-bit head (%zu values)", L->head);
        dist_grad_sync_free(s);
        return NULL;
    }
    s->st.union_rows = -1;
    return s;
}

/* Starts the OR of the bitmaps (nothing to do with size 1 or dense-only). */
static int start_token_exchange(dist_grad_sync *s, lm_err *e) {
    s->tok_started = 1;
    return dist_mpi_check(MPI_Iallreduce(s->mine, s->all, (int)s->words, MPI_UINT64_T,
                                         MPI_BOR, s->c_tok, &s->tok_req),
                          "MPI_Iallreduce (token bitmap)", e);
}

int dist_grad_sync_tokens(dist_grad_sync *s, const int32_t *ids, size_t n, lm_err *e) {
    if (s->size == 1) return 0;
    double t0 = lm_sys_now();
    if (s->tok_started || s->n_mine)
        return lm_err_set(e, "dist: dist_grad_sync_tokens called twice in one step");
    for (size_t i = 0; i < n; i++) {
        int32_t t = ids[i];
        if (t < 0 || t >= s->L.V)
            return lm_err_set(e, "dist: token id %d at index %zu outside vocabulary of %d", t,
                              i, s->L.V);
        s->mine[(uint32_t)t >> 6] |= 1ull << ((uint32_t)t & 63);
    }
    s->n_mine = n ? n : 1; /* marks "given", even when empty */
    int rc = (s->flags & DIST_GS_DENSE_EMB) ? 0 : start_token_exchange(s, e);
    s->step_comm += lm_sys_now() - t0;
    return rc;
}

int dist_grad_sync_head_range(dist_grad_sync *s, size_t lo, size_t hi, lm_err *e) {
    if (!s->ring || lo == hi) return 0;
    if (lo != s->covered || hi < lo || hi > s->L.head)
        return lm_err_set(e, "dist: head range [%zu, %zu) does not continue [0, %zu) inside the head of %zu",
                          lo, hi, s->covered, s->L.head);
    double t0 = lm_sys_now();
    int rc = 0;
    if (s->wire) dist_wire_pack(s->wire, s->g + lo, s->wire_buf + lo, hi - lo);
    for (size_t a = lo; a < hi && rc == 0; a += DIST_RING_PIECE) {
        size_t b = hi - a < DIST_RING_PIECE ? hi : a + DIST_RING_PIECE;
        rc = s->wire ? dist_ring_start(s->ring, s->wire_buf + a, b - a, e)
                     : dist_ring_start(s->ring, s->g + a, b - a, e);
        if (rc == 0) s->ranges++;
    }
    if (rc == 0) {
        s->covered = hi;
        rc = dist_ring_progress(s->ring, e);
    }
    s->step_comm += lm_sys_now() - t0;
    return rc;
}

/* A hook's error: kept for finish (the first one). */
static void hook_error(dist_grad_sync *s, int rc, const lm_err *e) {
    if (rc && !s->hook_failed) {
        s->hook_failed = 1;
        s->hook_err = *e;
    }
}

void dist_grad_sync_on_head_rows(void *ctx, int row0, int row1) {
    dist_grad_sync *s = ctx;
    if (!s->ring || !s->L.row || s->hook_failed) return;
    lm_err e;
    int rc = dist_grad_sync_head_range(s, (size_t)row0 * s->L.row, (size_t)row1 * s->L.row, &e);
    hook_error(s, rc, &e);
}

void dist_grad_sync_on_head_grads(void *ctx) {
    dist_grad_sync *s = ctx;
    if (!s->ring || s->covered || s->hook_failed) return; /* rows announced: fc.bias goes in finish */
    lm_err e;
    hook_error(s, dist_grad_sync_head_range(s, 0, s->L.head, &e), &e);
}

void dist_grad_sync_progress(dist_grad_sync *s) {
    if (s->size == 1) return;
    double t0 = lm_sys_now();
    int done = 0;
    lm_err e;
    if (s->ring && !s->hook_failed) hook_error(s, dist_ring_progress(s->ring, &e), &e);
    if (s->tok_started) MPI_Test(&s->tok_req, &done, MPI_STATUS_IGNORE);
    s->step_comm += lm_sys_now() - t0;
}

void dist_grad_sync_on_progress(void *ctx) { dist_grad_sync_progress(ctx); }

/* Debug: rows of tokens this rank did not see must be zero here. */
static int check_rows(const dist_grad_sync *s, lm_err *e) {
    const float *emb = s->g + s->L.emb;
    for (int t = 0; t < s->L.V; t++) {
        if (s->mine[t >> 6] >> (t & 63) & 1) continue;
        const float *row = emb + (size_t)t * (size_t)s->L.E;
        for (int j = 0; j < s->L.E; j++)
            if (row[j] != 0.0f)
                return lm_err_set(e,
                                  "dist: embedding gradient row %d is non-zero but token %d "
                                  "is not among this rank's input ids",
                                  t, t);
    }
    return 0;
}

/* Copies the embedding rows of the union into s->pack (to_pack) or back. */
static void move_rows(dist_grad_sync *s, int to_pack) {
    size_t E = (size_t)s->L.E, k = 0;
    float *emb = s->g + s->L.emb;
    for (size_t wi = 0; wi < s->words; wi++) {
        for (uint64_t x = s->all[wi]; x; x &= x - 1, k++) {
            size_t t = wi * 64 + (size_t)__builtin_ctzll(x);
            if (to_pack)
                memcpy(s->pack + k * E, emb + t * E, E * sizeof(float));
            else
                memcpy(emb + t * E, s->pack + k * E, E * sizeof(float));
        }
    }
}

static long count_union(const dist_grad_sync *s) {
    long u = 0;
    for (size_t wi = 0; wi < s->words; wi++) u += __builtin_popcountll(s->all[wi]);
    return u;
}

static int sum_in_place(dist_grad_sync *s, float *buf, size_t n, const char *what,
                        lm_err *e) {
    if (n == 0) return 0;
    s->st.floats += n;
    return dist_mpi_check(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, s->c_rest),
                          what, e);
}

/* The head [lo, head) through the 16-bit wire: pack, sum, unpack (lo: the
 * part the overlap engine did not take). */
static int sum_head16(dist_grad_sync *s, size_t lo, lm_err *e) {
    size_t n = s->L.head - lo;
    if (n == 0) return 0;
    dist_wire_pack(s->wire, s->g + lo, s->wire_buf + lo, n);
    s->st.floats += n;
    if (dist_mpi_check(MPI_Allreduce(MPI_IN_PLACE, s->wire_buf + lo, (int)n, MPI_UINT16_T, s->wire_op, s->c_head),
                       "MPI_Allreduce (16-bit output layer gradient)", e))
        return -1;
    dist_wire_unpack(s->wire, s->wire_buf + lo, s->g + lo, n);
    return 0;
}

/* The reductions of finish, after the union is known. */
static int reduce_rest(dist_grad_sync *s, size_t lo, int sparse, long u, lm_err *e) {
    if (!sparse) return sum_in_place(s, s->g + lo, s->L.n - lo, "MPI_Allreduce (gradient)", e);
    if (sum_in_place(s, s->g + lo, s->L.emb - lo, "MPI_Allreduce (LSTM gradient)", e)) return -1;
    size_t need = (size_t)u * (size_t)s->L.E;
    if (need > s->pack_cap) {
        float *p = realloc(s->pack, need * sizeof(float));
        if (!p) return lm_err_set(e, "dist: out of memory packing %ld embedding rows", u);
        s->pack = p;
        s->pack_cap = need;
    }
    move_rows(s, 1);
    if (sum_in_place(s, s->pack, need, "MPI_Allreduce (embedding rows)", e)) return -1;
    move_rows(s, 0);
    return 0;
}

int dist_grad_sync_finish(dist_grad_sync *s, lm_err *e) {
    if (s->size == 1) {
        s->st.steps++;
        return 0;
    }
    double t0 = lm_sys_now();
    int rc = 0;
    lm_err check_err;
    int check_failed = 0;
    s->st.floats = s->covered;
    if (s->hook_failed) {
        if (e) *e = s->hook_err;
        return -1; /* a ring range failed: the job ends (the caller aborts) */
    }
    if ((s->flags & DIST_GS_CHECK_ROWS) && s->n_mine && check_rows(s, &check_err))
        check_failed = 1;

    /* The union of the tokens; a step without tokens() goes dense. */
    long u = -1;
    int sparse = 0;
    if (!(s->flags & DIST_GS_DENSE_EMB)) {
        if (!s->tok_started) {
            memset(s->mine, 0xff, s->words * sizeof *s->mine);
            if (s->L.V % 64) s->mine[s->words - 1] = (1ull << (s->L.V % 64)) - 1;
            rc = start_token_exchange(s, e);
        }
        if (rc == 0 && s->covered) dist_grad_sync_progress(s);
        if (rc == 0)
            rc = dist_mpi_check(MPI_Wait(&s->tok_req, MPI_STATUS_IGNORE),
                                "MPI_Wait (token bitmap)", e);
        if (rc == 0) {
            u = count_union(s);
            sparse = (s->flags & DIST_GS_SPARSE_EMB) || 2 * u < (long)s->L.V;
        }
    }
    if (rc == 0 && s->covered) rc = dist_ring_progress(s->ring, e);
    if (rc == 0) rc = reduce_rest(s, s->wire ? s->L.head : s->covered, sparse, u, e);
    if (rc == 0 && s->wire) rc = sum_head16(s, s->covered, e);
    if (rc == 0 && s->covered) rc = dist_ring_wait(s->ring, e);
    if (rc == 0 && s->covered && s->wire) dist_wire_unpack(s->wire, s->wire_buf, s->g, s->covered);
    if (rc == 0 && check_failed) {
        if (e) *e = check_err;
        rc = -1;
    }

    double t1 = lm_sys_now();
    s->st.wait_s = t1 - t0;
    s->st.comm_s = s->step_comm + (t1 - t0);
    s->st.total_comm_s += s->st.comm_s;
    s->st.steps++;
    s->st.union_rows = (s->flags & DIST_GS_DENSE_EMB) || !s->n_mine ? -1 : u;
    s->st.sparse = sparse;
    s->st.overlapped = s->covered > 0;
    s->st.ranges = s->ranges;
    s->step_comm = 0;
    s->tok_started = 0;
    s->covered = 0;
    s->ranges = 0;
    s->n_mine = 0;
    memset(s->mine, 0, s->words * sizeof *s->mine);
    return rc;
}

void dist_grad_sync_stats(const dist_grad_sync *s, dist_grad_stats *st) { *st = s->st; }
