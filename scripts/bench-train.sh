#!/usr/bin/env bash
# Training throughput on this machine: 1 and 2 ranks (one BLAS thread each) at
# the spec's batch (8 per rank, T=30) on the shared corpus. Prints one JSON
# line per rank count: aggregate and per-rank tokens/s (steady state: steps
# after the first 10), share of step time in communication, peak RSS per rank.
# Usage: scripts/bench-train.sh [STEPS] (default 80). Needs build/ (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-80}
LM=${LM:-build/lyricmind}
CORPUS=${CORPUS:-/tmp/lyricmind-bench-corpus}
WORK=$(mktemp -d /tmp/lyricmind-bench-train.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export OPENBLAS_NUM_THREADS=1
if [ ! -f "$CORPUS/vocab.h5" ] || ! "$LM" inspect "$CORPUS/vocab.h5" >/dev/null 2>&1; then
  "$LM" preprocess --force --out "$CORPUS" ../shared/data/lyrics >/dev/null
fi
for np in 1 2; do
  mpirun --allow-run-as-root --oversubscribe --bind-to none -np $np "$LM" train --data "$CORPUS" \
    --run "$WORK/r$np" --batch-size 8 --seq-len 30 --threads 1 --max-steps "$STEPS" \
    --eval-every 1000000 --checkpoint-minutes 0 --quiet >/dev/null
  python3 - "$WORK/r$np/metrics.jsonl" $np <<'PY'
import json, re, sys
path, np = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(path)]
train = [r for r in rows if r["type"] == "train"]
G, T = 8 * np, 30
# cumulative tokens/s -> elapsed training time at each step
t = {r["step"]: r["step"] * G * T / r["tokens_per_s"] for r in train}
a, b = 10, train[-1]["step"]
agg = (b - a) * G * T / (t[b] - t[a])
comm = sum(r["comm_share"] for r in train if r["step"] > a) / (b - a)
fin = [r for r in rows if r["type"] == "finished"][-1]["detail"]
rss = [float(x) for x in re.search(r"per rank: (.*)$", fin).group(1).split(",")]
print(json.dumps({"ranks": np, "batch_per_rank": 8, "seq_len": T, "steps": b,
                  "tokens_per_s": round(agg, 1), "tokens_per_s_per_rank": round(agg / np, 1),
                  "comm_share": round(comm, 3), "peak_rss_mb_per_rank": rss}))
PY
done
