#!/usr/bin/python3
"""check_projection_options.py SCRIPT: the slow-network options of
scripts/scaling-projection.py. --accumulate 1 prints the default table; with
--wire16 every point's exchange changes by the head's saving in the ring
model (half its bytes) less the latency of one more allreduce, computed here
by hand (so at large p on fast links it can lose); with --accumulate 4 every
point's efficiency is higher and its step computes 4 windows. With
--overlap every point's exchange is the blocking one less what the
compute after the first head rows hides, no more than fc.weight's ring
time, plus one ring latency (the head goes in its own allreduce); one point
(8 ranks, batch 8, 10 Gbit/s) is computed here by hand."""
import subprocess
import sys

script = sys.argv[1]


def table(*args):
    out = subprocess.run([sys.executable, script, *args], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        f = [c.strip() for c in line.strip("|").split("|")]
        if len(f) == 9 and f[0].isdigit():
            rows[(int(f[0]), int(f[1]), int(f[2]))] = (float(f[3]), float(f[4]), float(f[6].rstrip("%")), f[8])
    assert len(rows) == 72, "expected 72 points, got %d" % len(rows)
    return out, rows


base_out, base = table()
one_out, _ = table("--accumulate", "1")
assert one_out == base_out, "--accumulate 1 changes the table"
_, w16 = table("--wire16")
_, k4 = table("--accumulate", "4")
V, H = 50000, 128
for (b, rate, p), (st, cm, eff, u) in base.items():
    beta = 8 / (rate * 1e9 * 0.9)
    saving = 2 * (p - 1) / p * 2 * V * (H + 1) * beta - 2 * (p - 1) * 25e-6
    got = (cm - w16[(b, rate, p)][1]) / 1e3
    assert abs(got - saving) <= 1.01e-3, "wire16 at %s saves %.4f s, by hand %.4f s" % ((b, rate, p), got, saving)
    assert k4[(b, rate, p)][2] > eff or eff >= 99, "accumulate 4 not more efficient at %s" % ((b, rate, p),)
    assert abs(k4[(b, rate, p)][0] - k4[(b, rate, p)][1] - 4 * (st - cm)) <= 4, "accumulate 4 computes 4 windows"
_, ov = table("--overlap")
C0, C1, HW = 9.2e-3, 15.04e-3, V * H
for (b, rate, p), (st, cm, eff, u) in base.items():
    n = b * 30
    last = n - 256 * ((n - 1) // 256)
    hide = (C0 + C1 * b) * (0.35 * 7 / 8 * last / n + 0.015)
    beta = 8 / (rate * 1e9 * 0.9)
    headw = 2 * (p - 1) * 25e-6 + 2 * (p - 1) / p * 4 * HW * beta
    got = (cm - ov[(b, rate, p)][1]) / 1e3
    assert got <= min(hide, headw) + 1.01e-3, "overlap at %s saves %.4f s, more than it can hide" % ((b, rate, p), got)
    assert got >= min(hide, headw) - 2 * (p - 1) * 25e-6 - 1.01e-3, "overlap at %s saves only %.4f s" % ((b, rate, p), got)
# By hand: p = 8, b = 8, 10 Gbit/s: the head's ring (14 alpha + 1.75 x 4 x V x H
# x beta = 40.3 ms) against hide = 129.5 ms x (0.35 x 7/8 + 0.015) = 41.6 ms:
# all hidden; left: the bitmap, fc.bias + LSTM, the rows.
import math
beta, alpha, lv, n = 8 / 9e9, 25e-6, math.log(V), 8 * 8 * 30
u = sum(-math.expm1(n * math.log1p(-(math.log(k + 2) - math.log(k + 1)) / lv)) for k in range(V - 1))
ring = lambda nb: 14 * alpha + 1.75 * nb * beta
lstm = 4 * 128 * (64 + 128) + 4 * 128
tx = ring(V / 8) + max(0.0, ring(4 * HW) - (C0 + C1 * 8) * (0.35 * 7 / 8 + 0.015)) + ring(4 * (V + lstm)) + ring(4 * u * 64)
assert abs(ov[(8, 10, 8)][1] - 1e3 * tx) <= 0.5, "overlap p=8 b=8 10 Gbit/s: comm %s ms, by hand %.2f" % (ov[(8, 10, 8)][1], 1e3 * tx)
print("ok: --wire16, --accumulate 4 and --overlap as modelled at all 72 points")
