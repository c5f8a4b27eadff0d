#!/usr/bin/python3
"""Checks scripts/scaling-projection.py (not its assumptions):

  check_projection.py SCRIPT

runs it with --csv, and checks 72 points (3 batches x 3 rates x 8 rank
counts), efficiencies in (0, 1], efficiency never rising with more ranks
and never falling with a faster link or a larger batch, tokens/s growing
with ranks, and one hand-computed point: 8 ranks, batch 8, 10 Gbit/s."""
import csv
import math
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


with tempfile.NamedTemporaryFile(suffix=".csv") as f:
    out = subprocess.run([sys.executable, sys.argv[1], "--csv", f.name], capture_output=True,
                         text=True, check=True).stdout
    rows = list(csv.DictReader(open(f.name)))
if len(rows) != 72 or out.count("\n| ") < 72:
    fail("%d points, %d table lines" % (len(rows), out.count("\n| ")))
pt = {(int(r["batch"]), int(r["gbit"]), int(r["ranks"])): r for r in rows}
for (b, g, p), r in pt.items():
    e = float(r["efficiency"])
    if not 0 < e <= 1:
        fail("efficiency %g at %s" % (e, (b, g, p)))
    q = (b, g, p * 2)
    if q in pt and (float(pt[q]["efficiency"]) > e + 1e-9 or
                    float(pt[q]["tokens_per_s"]) <= float(r["tokens_per_s"])):
        fail("more ranks did better per rank or worse in total at %s" % (q,))
    for q in ((b, g * 10, p), (b * 4, g, p)):
        if q in pt and float(pt[q]["efficiency"]) < e - 1e-9:
            fail("a faster link or a larger batch did worse at %s" % (q,))
# By hand: p=8, b=8, 10 Gbit/s at 90%, alpha 25 us; |U| of 1,920 log-uniform
# ids (sparse); ring(n) = 14 alpha + 1.75 n beta.
beta, alpha = 8 / 9e9, 25e-6
V, lv, n = 50000, math.log(50000), 8 * 8 * 30
u = sum(-math.expm1(n * math.log1p(-(math.log(k + 2) - math.log(k + 1)) / lv)) for k in range(V - 1))
ring = lambda nb: 14 * alpha + 1.75 * nb * beta
tx = ring(V / 8) + ring(4 * 6548816) + ring(4 * u * 64)
tc = 9.2e-3 + 15.04e-3 * 8
got = float(pt[(8, 10, 8)]["step_s"])
if abs(got - (tc + tx)) > 1e-5:
    fail("p=8 b=8 10 Gbit/s: step %g s, by hand %g s" % (got, tc + tx))
print("OK: 72 points, monotone, p=8 b=8 10 Gbit/s step %.1f ms (comm %.1f ms)" % (1e3 * got, 1e3 * tx))
