#!/usr/bin/python3
"""check_projection_options.py SCRIPT: the slow-network options of
scripts/scaling-projection.py. --accumulate 1 prints the default table; with
--wire16 every point's exchange changes by the head's saving in the ring
model (half its bytes) less the latency of one more allreduce, computed here
by hand (so at large p on fast links it can lose); with --accumulate 4 every
point's efficiency is higher and its step computes 4 windows."""
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
print("ok: --wire16 and --accumulate 4 as modelled at all 72 points")
