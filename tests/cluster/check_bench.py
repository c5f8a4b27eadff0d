#!/usr/bin/python3
"""Checks the output of 'lyricmind bench allreduce' (not its figures):

  check_bench.py OUT RANKS

the table has one row per size with positive times, the model line and the
step line are there, and the JSON line has RANKS ranks, finite positive
alpha and beta, and positive step times. Exits 1 with a message otherwise."""
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
if j["step_union_rows"] <= 0:
    fail("JSON: no token union")
print("OK: %d sizes, alpha %.2f us, beta %.4f ns/byte, step %.3f ms (model %.3f ms)"
      % (len(rows), j["alpha_us"], j["beta_ns_per_byte"], j["step_ms"], j["step_model_ms"]))
