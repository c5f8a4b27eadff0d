/* lm_par: per-call worker threads over fixed work parts (see lm_par.h). */
#include "lm_par.h"

#include <pthread.h>

#define LM_PAR_MAX_THREADS 64

typedef struct {
    lm_par_fn fn;
    void *ctx;
    int t, n, parts;
} par_worker;

static void *par_work(void *p) {
    const par_worker *w = p;
    for (int part = w->t; part < w->parts; part += w->n) w->fn(w->ctx, part);
    return NULL;
}

void lm_par_run(lm_par_fn fn, void *ctx, int parts, int threads) {
    if (parts <= 0) return;
    if (threads > parts) threads = parts;
    if (threads > LM_PAR_MAX_THREADS) threads = LM_PAR_MAX_THREADS;
    if (threads < 1) threads = 1;
    pthread_t tid[LM_PAR_MAX_THREADS];
    par_worker wk[LM_PAR_MAX_THREADS];
    int started = 1;
    for (int t = 0; t < threads; t++) wk[t] = (par_worker){fn, ctx, t, threads, parts};
    for (int t = 1; t < threads; t++, started++)
        if (pthread_create(&tid[t], NULL, par_work, &wk[t])) break;
    for (int t = started; t < threads; t++) par_work(&wk[t]); /* threads never started */
    par_work(&wk[0]);
    for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
}
