#!/usr/bin/python3
"""Comparisons for the train tests (run with Debian's python3: h5py, numpy).

  compare.py losses RUN_A RUN_B [--rtol X] [--from STEP]   train loss lines equal (bitwise if rtol 0)
  compare.py params A.h5 B.h5 [--atol X] [--optim]         /model tensors equal within atol (0: bitwise);
                                                           --optim: Adam's m and v (/optim/adam) too
  compare.py evals RUN                                     prints eval lines (debug)
  compare.py field RUN TYPE KEY                            prints KEY of every TYPE line, one per line
Exits 1 with a message on the first difference."""
import json
import sys

import numpy as np


def lines(run, kind):
    out = []
    with open(run + "/metrics.jsonl") as f:
        for line in f:
            obj = json.loads(line)
            if obj["type"] == kind:
                out.append(obj)
    return out


def opt(name, default):
    if name in sys.argv:
        return float(sys.argv[sys.argv.index(name) + 1])
    return default


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


cmd = sys.argv[1]
if cmd == "losses":
    rtol, start = opt("--rtol", 0.0), int(opt("--from", 0))
    a = {o["step"]: o["loss"] for o in lines(sys.argv[2], "train") if o["step"] > start}
    b = {o["step"]: o["loss"] for o in lines(sys.argv[3], "train") if o["step"] > start}
    if not a or sorted(a) != sorted(b):
        fail("step sets differ: %d vs %d lines" % (len(a), len(b)))
    for s in sorted(a):
        if (rtol == 0 and a[s] != b[s]) or abs(a[s] - b[s]) > rtol * abs(a[s]):
            fail("step %d: loss %r vs %r (rtol %g)" % (s, a[s], b[s], rtol))
    print("OK: %d loss lines equal (rtol %g)" % (len(a), rtol))
elif cmd == "params":
    import h5py
    atol = opt("--atol", 0.0)
    groups = ["model"] + (["optim/adam/m", "optim/adam/v"] if "--optim" in sys.argv else [])
    with h5py.File(sys.argv[2], "r") as fa, h5py.File(sys.argv[3], "r") as fb:
        for g in groups:
            names = sorted(fa[g].keys())
            if names != sorted(fb[g].keys()) or len(names) != 6:
                fail("%s: tensor names differ: %s" % (g, names))
            for n in names:
                x, y = np.asarray(fa[g][n]), np.asarray(fb[g][n])
                d = float(np.max(np.abs(x - y)))
                if (atol == 0 and not np.array_equal(x, y)) or d > atol:
                    fail("%s/%s: max |diff| %g (atol %g)" % (g, n, d, atol))
    print("OK: %s equal (atol %g)" % (", ".join(groups), atol))
elif cmd == "field":
    for o in lines(sys.argv[2], sys.argv[3]):
        print(o[sys.argv[4]])
else:
    fail("unknown command " + cmd)
