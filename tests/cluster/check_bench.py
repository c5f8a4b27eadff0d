#!/usr/bin/python3
"""Checks the output of 'lyricmind bench allreduce' (not its figures):

  check_bench.py OUT RANKS

the table has one row per size with positive times, the model line and the
step line are there, the JSON line has RANKS ranks, finite positive alpha
and beta, and positive step times, and alpha and beta are the fit of the
table's own figures (recomputed here) and its model column their model. Exits 1 with a message otherwise."""
import json
import math
import re
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


text = open(sys.argv[1]).read().splitlines()
ranks = int(sys.argv[2])
rows = [l.split() for l in text if re.match(r"^\s*\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", l)]
if len(rows) < 2:
    fail("fewer than 2 table rows")
for r in rows:
    if not (float(r[2]) > 0 and float(r[3]) > 0):
        fail("non-positive time in row %s" % r)
if [int(r[0]) for r in rows] != sorted(int(r[0]) for r in rows) or int(rows[0][0]) != 64:
    fail("sizes are not increasing from 64 floats")
if not any(re.match(r"^model: t = 2\(p-1\)\*alpha .* alpha = [\d.]+ us, beta = [\d.]+ ns/byte", l) for l in text):
    fail("no model line")
if not any(re.match(r"^step: .* measured [\d.]+ ms, model [\d.]+ ms$", l) for l in text):
    fail("no step line")
js = [json.loads(l) for l in text if l.startswith("{")]
if len(js) != 1:
    fail("expected one JSON line, got %d" % len(js))
j = js[0]
if j["bench"] != "allreduce" or j["ranks"] != ranks:
    fail("JSON: bench %s ranks %s" % (j["bench"], j["ranks"]))
if not any(re.match(r"^largest message alone \(\d+ bytes, [\d.]+ ms\): beta = [\d.]+ ns/byte", l) for l in text):
    fail("no largest-message line")
for k in ("alpha_us", "beta_ns_per_byte", "gbit_s", "big_ms", "beta_big_ns_per_byte", "step_ms", "step_model_ms"):
    if not (math.isfinite(j[k]) and j[k] > 0):
        fail("JSON: %s = %r is not a positive number" % (k, j[k]))
if type(j["step_sparse"]) is not bool or type(j["step_dense_floats"]) is not int:
    fail("JSON: step_sparse must be a boolean and step_dense_floats an integer: %r" % j)
if j["step_union_rows"] <= 0:
    fail("JSON: no token union")
# The fit, recomputed from the printed table (fit_ring's rule): the slope
# by least squares over all sizes, the intercept by relative error over the
# sizes where the bandwidth term is at most half the time (else t/2 of the
# smallest); and every model_ms is the model of the printed alpha, beta.
p, x = ranks, [float(r[1]) for r in rows]
t = [1e-3 * float(r[2]) for r in rows]
mx, mt = sum(x) / len(x), sum(t) / len(t)
b = sum((xi - mx) * (ti - mt) for xi, ti in zip(x, t)) / sum((xi - mx) ** 2 for xi in x)
lat = [(1 / ti ** 2, ti - b * xi) for xi, ti in zip(x, t) if b * xi <= 0.5 * ti]
a = sum(w * r for w, r in lat) / sum(w for w, _ in lat) if lat else 0.5 * t[0]
alpha, beta = 1e-6 * j["alpha_us"], 1e-9 * j["beta_ns_per_byte"]
if abs(beta - b / (2 * (p - 1) / p)) > 0.01 * beta:
    fail("beta %g is not the least-squares slope of the table (%g)" % (beta, b / (2 * (p - 1) / p)))
if abs(alpha - a / (2 * (p - 1))) > max(0.1 * alpha, 1e-7):
    fail("alpha %g is not the fit of the table (%g)" % (alpha, a / (2 * (p - 1))))
for r in rows:
    mo = 2 * (p - 1) * alpha + 2 * (p - 1) / p * float(r[1]) * beta
    if abs(1e-3 * float(r[3]) - mo) > 1e-3 * mo + 2e-7:
        fail("model_ms %s of %s bytes is not the model's %g ms" % (r[3], r[1], 1e3 * mo))
print("OK: %d sizes, alpha %.2f us, beta %.4f ns/byte, step %.3f ms (model %.3f ms)"
      % (len(rows), j["alpha_us"], j["beta_ns_per_byte"], j["step_ms"], j["step_model_ms"]))
