#!/usr/bin/python3
"""scaling-projection.py: projected data-parallel throughput of LyricMind
(docs/scaling.md) from the ring-allreduce model of the per-step exchange.

  scripts/scaling-projection.py [--exchange FILE.jsonl] [--alpha-us A]
        [--efficiency F] [--accumulate K] [--wire16] [--overlap] [--png OUT.png] [--csv OUT.csv]

Model of one step on p ranks with b sequences of T = 30 tokens per rank
(V = 50,000, E = 64, H = 128; today's blocking exchange: compute, then the
exchange, nothing overlapped):
  compute  t_c(b) = C0 + C1 * b          one core; C0, C1 from `bench train`
                                         (docs/benchmarks.md): 129.5 ms at
                                         b = 8 and 3,859 CPU ms at b = 256
  exchange t_x = R(bitmap V/8 bytes) + R(dense head + LSTM, 6,548,816
                 floats) + R(|U| x E floats of embedding rows), or one dense
                 R(all 9,748,816 floats) once 2|U| >= V (the code's rule)
  R(bytes) = 2(p-1) alpha + 2(p-1)/p * bytes * beta      (ring allreduce)
  beta = 8 / (rate * efficiency) seconds per byte
|U|: the expected number of distinct ids among p*b*T draws of the bench's
log-uniform id distribution (at p*b*T = 480 this gives 330; the bench
measured 318 in one step). tokens/s = p*b*T / (t_c + t_x); efficiency
= t_c / (t_c + t_x) (against p independent ranks); comm share = t_x / step.
--exchange prints the fitted alpha/beta of `bench allreduce` runs
(tests/cluster/measure.sh) beside the assumptions. The slow-network options
of `lyricmind train` (issue 12 item 4): --accumulate K computes K windows
per exchange (t_c x K, |U| over K*p*b*T draws, K times the tokens);
--wire16 sends the head (V x (H+1) floats) as 16 bits in its own allreduce
(2 bytes a value), the LSTM and embedding rows still fp32.
--overlap (train --overlap on): fc.weight (V x H floats, or 16 bits with
--wire16) is summed by the overlap engine while the backward runs; of its
ring time R(fc.weight) only what exceeds the compute left after the first
row range is final stays exposed:
  hide(b) = t_c(b) x (P2 x 7/8 x last(b) + LSTMB)
  P2 = 0.35: the head's pass 2 (the gradient products) per step compute
             (45 ms of 130 at b = 8), 7/8 of it after the first of its 8
             row groups; last(b): the share of the window's rows in the
             last chunk of 256 (rows are final only there: 1 for b <= 8,
             0.2 at b = 32); LSTMB = 0.015: the LSTM backward after the
             head (~2 ms at b = 8)
  t_x = R(bitmap) + max(0, R(fc.weight) - hide(b)) + R(fc.bias + LSTM)
        + R(rows)
(with --accumulate K only the last window's backward hides it). Measured
on the emulated 1 Gbit/s link at p = 2 (docs/scaling.md) the engine's
concurrent ring pieces also moved the head faster than one blocking
allreduce; that transport effect is not in the model (beta is the link's)."""
import argparse
import json
import math
import os
import subprocess
import tempfile

V, E, H, T = 50000, 64, 128, 30
HEAD = V * (H + 1)  # fc.weight + fc.bias floats
DENSE = HEAD + 4 * H * (E + H) + 4 * H  # head + LSTM floats
ALL = DENSE + V * E
C0, C1 = 9.2e-3, 15.04e-3  # seconds: (129.5 ms @ b=8, 3,859 ms @ b=256)
RANKS = [8, 16, 32, 64, 128, 256, 512, 1024]
RATES = [1, 10, 100]  # Gbit/s
BATCHES = [8, 32, 128]
HEADW = V * H  # fc.weight floats: what the overlap engine sends
P2, LSTMB, GROUPS, CHUNK = 0.35, 0.015, 8, 256


def distinct(n):
    """Expected distinct ids among n log-uniform draws id = floor(exp(u ln V)) - 1."""
    lv = math.log(V)
    s = 0.0
    for k in range(V - 1):  # P(id = k) = (ln(k+2) - ln(k+1)) / ln V
        pk = (math.log(k + 2) - math.log(k + 1)) / lv
        s += -math.expm1(n * math.log1p(-pk))
    return s  # id V-1 needs u == 1 exactly: no mass


def ring(p, nbytes, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def hide(b):
    """Seconds of one window's compute after its first head rows are final."""
    n = b * T
    last = n - CHUNK * ((n - 1) // CHUNK)
    return (C0 + C1 * b) * (P2 * (GROUPS - 1) / GROUPS * last / n + LSTMB)


def step(p, b, rate, alpha, eff, cache, k=1, wire16=False, overlap=False):
    """(compute s, exposed exchange s, |U|) of one optimizer step of k windows."""
    beta = 8 / (rate * 1e9 * eff)
    n = k * p * b * T
    if n not in cache:
        cache[n] = distinct(n)
    u = cache[n]
    tx = ring(p, V / 8, alpha, beta)
    if overlap:
        head = max(0.0, ring(p, (2 if wire16 else 4) * HEADW, alpha, beta) - hide(b))
        rest = (ALL if 2 * u >= V else DENSE) - HEADW
        tx += head + ring(p, 4 * rest, alpha, beta) + (0.0 if 2 * u >= V else ring(p, 4 * u * E, alpha, beta))
        return k * (C0 + C1 * b), tx, u
    head = ring(p, 2 * HEAD, alpha, beta) if wire16 else 0.0
    fp32 = HEAD if wire16 else 0  # floats of DENSE/ALL that went in 16 bits
    if 2 * u >= V:
        tx += ring(p, 4 * (ALL - fp32), alpha, beta) + head
    else:
        tx += ring(p, 4 * (DENSE - fp32), alpha, beta) + head + ring(p, 4 * u * E, alpha, beta)
    tc = k * (C0 + C1 * b)
    return tc, tx, u


def measured(path):
    print("Measured (bench allreduce: fitted ring model, the 26 MB message, the step):")
    print("| net | p | alpha us | beta ns/B (Gbit/s) | largest message ms | step ms (model) |")
    print("|---|---|---|---|---|---|")
    for line in open(path):
        j = json.loads(line)
        print("| %s | %d | %.1f | %.3f (%.2f) | %s | %.1f (%.1f) |" % (
            j["net"], j["ranks"], j["alpha_us"], j["beta_ns_per_byte"], j["gbit_s"],
            "%.1f" % j["big_ms"] if "big_ms" in j else "-", j["step_ms"], j["step_model_ms"]))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exchange", help="exchange.jsonl of tests/cluster/measure.sh")
    ap.add_argument("--alpha-us", type=float, default=25.0, help="latency per ring step (default 25 us)")
    ap.add_argument("--efficiency", type=float, default=0.9,
                    help="TCP goodput / line rate (default 0.9)")
    ap.add_argument("--accumulate", type=int, default=1, help="windows per exchange (train --accumulate K)")
    ap.add_argument("--wire16", action="store_true", help="16-bit head on the wire (train --wire-dtype bf16)")
    ap.add_argument("--overlap", action="store_true", help="fc.weight summed during the backward (train --overlap on)")
    ap.add_argument("--csv", help="write every point as CSV")
    ap.add_argument("--png", help="plot efficiency vs ranks with gnuplot")
    a = ap.parse_args()
    if a.exchange:
        measured(a.exchange)
    alpha, cache, rows = a.alpha_us * 1e-6, {}, []
    for b in BATCHES:
        for rate in RATES:
            for p in RANKS:
                tc, tx, u = step(p, b, rate, alpha, a.efficiency, cache, a.accumulate, a.wire16, a.overlap)
                rows.append((b, rate, p, tc, tx, u))
    k = a.accumulate
    opts = "".join([", accumulate %d" % k if k > 1 else "", ", 16-bit head" if a.wire16 else ""])
    print("Projection: alpha %.0f us, link efficiency %.2f, %s%s." %
          (a.alpha_us, a.efficiency, "overlapped head (comm: exposed)" if a.overlap else
           "blocking exchange, no overlap", opts))
    print()
    print("| batch/rank | Gbit/s | ranks | step ms | comm ms | comm share | efficiency | tokens/s | |U| |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b, rate, p, tc, tx, u in rows:
        st = tc + tx
        print("| %d | %d | %d | %.0f | %.0f | %.0f%% | %.0f%% | %s | %s |" % (
            b, rate, p, 1e3 * st, 1e3 * tx, 100 * tx / st, 100 * tc / st,
            format(int(round(k * p * b * T / st)), ","), "dense" if 2 * u >= V else "%.0f" % u))
    if a.csv or a.png:
        csv = a.csv or tempfile.mkstemp(suffix=".csv")[1]
        with open(csv, "w") as f:
            f.write("batch,gbit,ranks,step_s,comm_s,efficiency,tokens_per_s\n")
            for b, rate, p, tc, tx, u in rows:
                f.write("%d,%d,%d,%.6f,%.6f,%.4f,%.1f\n" % (b, rate, p, tc + tx, tx, tc / (tc + tx),
                                                          k * p * b * T / (tc + tx)))
    if a.png:
        what = ", ".join(x for x in ["overlapped head" if a.overlap else "blocking exchange",
                                     "accumulate %d" % k if k > 1 else "",
                                     "16-bit head" if a.wire16 else ""] if x)
        plot(a.png, csv, what)
        if not a.csv:
            os.unlink(csv)


def plot(png, csv, what):
    series = []
    for bi, b in enumerate(BATCHES):
        for ri, rate in enumerate(RATES):
            series.append("'%s' using ($1==%d && $2==%d ? $3 : 1/0):($6*100) with linespoints "
                          "lt %d dt %d title 'batch %d, %d Gbit/s'" % (csv, b, rate, ri + 1, bi + 1, b, rate))
    script = """set terminal pngcairo size 900,560
set output '%s'
set datafile separator ','
set logscale x 2
set xrange [8:1024]
set yrange [0:100]
set xlabel 'ranks'
set ylabel 'efficiency %% (%s)'
set key outside right
set grid
plot %s
""" % (png, what, ", ".join(series))
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


if __name__ == "__main__":
    main()
