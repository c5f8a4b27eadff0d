#!/usr/bin/env bash
# The core benchmarks at every ISA level (LM_ISA=avx512, avx2, baseline; a
# level above the host's runs the host's), interleaved REPS times so that
# the levels see the same machine, one BLAS thread. Prints one markdown row
# per run: the level, tokens/s over wall and CPU time, the host's measured
# limits and the roofline fractions (see docs/benchmarks.md).
# Usage: scripts/bench-levels.sh [REPS] (default 2). LM=path/to/lyricmind.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-2}
LM=${LM:-build/lyricmind}
export OPENBLAS_NUM_THREADS=1
row() { # $1 = level, then the bench arguments
  local level=$1
  shift
  LM_ISA=$level "$LM" bench "$@" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
if d["bench"] == "train":
    per = d["cpu_ms_per_step"] / 1e3 / (d["batch"] * d["seq_len"])
    print("| train B=%d | %s | %.0f | %.0f | %.1f | %.1f | %.3f | %.3f | %.0f |" % (
        d["batch"], d["isa"], d["tokens_per_s"], 1 / per, d["fma_peak_gflops"], d["triad_gbs"],
        d["peak_frac"], d["peak_frac_cpu"], d["peak_rss_mb"]))
else:
    print("| generate %s | %s | %.0f | %.0f | %.1f | %.1f | %.3f | %.3f | %.0f |" % (
        d["head"], d["isa"], d["tokens_per_s"], 1e3 / d["cpu_ms_per_token"], d["fma_peak_gflops"],
        d["triad_gbs"], d["bw_frac"], d["bw_frac_cpu"], d["peak_rss_mb"]))
'
}
echo "| run | level | tok/s (wall) | tok/s (CPU) | FMA peak GFLOP/s | triad GB/s | roofline (wall) | roofline (CPU) | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
for ((r = 0; r < REPS; r++)); do
  for level in avx512 avx2 baseline; do
    steps=10
    [ "$level" = baseline ] && steps=4
    row $level train --batch 8 --seq-len 30 --vocab 50000 --threads 1 --steps $steps --warmup 2
    row $level generate --threads 1 --tokens 1000
    row $level generate --threads 1 --tokens 1000 --exact
  done
done
