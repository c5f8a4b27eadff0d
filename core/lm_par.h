/* lm_par: run a fixed set of work parts on up to N threads.
 *
 * The one thread mechanism of core/ (output layer, LSTM, clipping, Adam).
 * Callers split their work into `parts` pieces whose results do not depend
 * on which thread runs them (each part writes only its own outputs; sums
 * over parts are added by the caller, in part order, afterwards), so the
 * results are bitwise the same for every thread count. Threads are created
 * per call and joined before it returns (no pool, no global state): a call
 * with 2 threads costs 58-75 us more than one on the 2-core development VM
 * under load, so a call should carry a few hundred microseconds of work or
 * more (the head's two passes per chunk, the LSTM's two time loops, clip
 * and Adam: 7 calls per training step). */
#ifndef LM_PAR_H
#define LM_PAR_H

typedef void (*lm_par_fn)(void *ctx, int part);

/* Runs fn(ctx, p) for p in [0, parts) on min(threads, parts) threads, the
 * calling thread included: thread t runs parts t, t + n, t + 2n, ... in
 * increasing order. threads < 1 means 1. If a thread cannot be started its
 * parts run on the calling thread. Returns when every part is done. */
void lm_par_run(lm_par_fn fn, void *ctx, int parts, int threads);

#endif
