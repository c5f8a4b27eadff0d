/* lm_lstm: one LSTM layer over a window, forward and full BPTT backward.
 *
 * Layout is batch-major [B,T,*]; the time slice t of a [B,T,C] array is the
 * [B,C] matrix starting at offset t*C with leading dimension T*C, which is
 * how the per-step GEMMs address it. Invariants: the forward copies h0/c0
 * into hprev/cprev[:,0] before writing hT/cT, so they may alias; the
 * backward never reads hT/cT and stops at the window edge (no d h0, d c0). */
#include <cblas.h>
#include <string.h>

#include "lm_layers.h"
#include "lm_vmath.h"

void lm_lstm_cell_forward(float *g, const float *b, const float *cp, float *c,
                          float *tc, float *h, int H) {
    for (int j = 0; j < 4 * H; j++) g[j] += b[j];
    lm_vsigmoid(g, 2 * (size_t)H);                  /* i, f */
    lm_vtanh(g + 2 * H, (size_t)H);                 /* g */
    lm_vsigmoid(g + 3 * H, (size_t)H);              /* o */
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    for (int j = 0; j < H; j++) tc[j] = c[j] = gf[j] * cp[j] + gi[j] * gg[j];
    lm_vtanh(tc, (size_t)H);
    for (int j = 0; j < H; j++) h[j] = go[j] * tc[j];
}

void lm_lstm_forward(float *hs, lm_lstm_cache *k, float *hT, float *cT,
                     const float *x, const float *w_ih, const float *w_hh,
                     const float *b, const float *h0, const float *c0, int B,
                     int T, int E, int H) {
    const int G = 4 * H;
    for (int bb = 0; bb < B; bb++) {
        memcpy(k->hprev + (size_t)bb * T * H, h0 + (size_t)bb * H, sizeof(float) * H);
        memcpy(k->cprev + (size_t)bb * T * H, c0 + (size_t)bb * H, sizeof(float) * H);
    }
    /* input projection of all B*T steps: gates [N,4H] = x [N,E] W_ih^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * T, G, E, 1.0f, x,
                E, w_ih, E, 0.0f, k->gates, G);
    for (int t = 0; t < T; t++) {
        /* gates[:,t] += hprev[:,t] W_hh^T   ([B,H] x [H,4H]) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f,
                    k->hprev + (size_t)t * H, T * H, w_hh, H, 1.0f,
                    k->gates + (size_t)t * G, T * G);
        for (int bb = 0; bb < B; bb++) {
            size_t r = (size_t)bb * T + t; /* row (b,t) */
            float *h = hs + r * H;
            float *c = t + 1 < T ? k->cprev + (r + 1) * H : cT + (size_t)bb * H;
            lm_lstm_cell_forward(k->gates + r * G, b, k->cprev + r * H, c,
                                 k->tc + r * H, h, H);
            if (t + 1 < T)
                memcpy(k->hprev + (r + 1) * H, h, sizeof(float) * H);
            else
                memcpy(hT + (size_t)bb * H, h, sizeof(float) * H);
        }
    }
}

void lm_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db,
                      const float *dhs, lm_lstm_cache *k, const float *x,
                      const float *w_ih, const float *w_hh, float *scratch,
                      int B, int T, int E, int H) {
    const int G = 4 * H;
    float *dh_next = scratch, *dc_next = scratch + (size_t)B * H;
    memset(scratch, 0, sizeof(float) * 2 * B * H);
    for (int t = T - 1; t >= 0; t--) {
        for (int bb = 0; bb < B; bb++) {
            size_t r = (size_t)bb * T + t;
            float *g = k->gates + r * G;
            const float *dh_out = dhs + r * H, *tc = k->tc + r * H;
            const float *cp = k->cprev + r * H;
            float *dhn = dh_next + (size_t)bb * H, *dcn = dc_next + (size_t)bb * H;
            for (int j = 0; j < H; j++) {
                float i = g[j], f = g[H + j], gt = g[2 * H + j], o = g[3 * H + j];
                float dh = dh_out[j] + dhn[j];
                float dc = dcn[j] + dh * o * (1.0f - tc[j] * tc[j]);
                dcn[j] = dc * f;
                g[j] = dc * gt * i * (1.0f - i);
                g[H + j] = dc * cp[j] * f * (1.0f - f);
                g[2 * H + j] = dc * i * (1.0f - gt * gt);
                g[3 * H + j] = dh * tc[j] * o * (1.0f - o);
            }
        }
        /* d h_{t-1} = dpre[:,t] W_hh   ([B,4H] x [4H,H]); none into h0 */
        if (t > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G,
                        1.0f, k->gates + (size_t)t * G, T * G, w_hh, H, 0.0f,
                        dh_next, H);
    }
    const int N = B * T;
    const float *dpre = k->gates;
    /* dW_ih [4H,E] = dpre^T x; dW_hh [4H,H] = dpre^T hprev; dx = dpre W_ih */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, E, N, 1.0f, dpre,
                G, x, E, 0.0f, dw_ih, E);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, N, 1.0f, dpre,
                G, k->hprev, H, 0.0f, dw_hh, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, E, G, 1.0f, dpre,
                G, w_ih, E, 0.0f, dx, E);
    memset(db, 0, sizeof(float) * G);
    for (int n = 0; n < N; n++)
        for (int j = 0; j < G; j++) db[j] += dpre[(size_t)n * G + j];
}
