#!/usr/bin/env bash
# measure.sh: the exchange figures of docs/scaling.md, by hand (not a test):
# 'lyricmind bench allreduce' over shared memory (one host) and over 2..P
# emulated hosts (emu-cluster.sh) unlimited, at 1 Gbit/s and at 10 Gbit/s.
#
#   tests/cluster/measure.sh LYRICMIND OUT_DIR [P...]     (default P: 2 4; needs root)
#
# OUT_DIR gets NET-pP.txt (the bench's full output) per case and
# exchange.jsonl: the bench's JSON line per case with "net" added, which
# scripts/scaling-projection.py reads. Bench flags: $BENCH_FLAGS (default
# the spec's sizes, --reps 10 --sizes 8).
set -euo pipefail
LM=${1:?usage: measure.sh LYRICMIND OUT_DIR [P...]}
OUT=${2:?usage: measure.sh LYRICMIND OUT_DIR [P...]}
shift 2
PS=("$@")
[ ${#PS[@]} -gt 0 ] || PS=(2 4)
HERE=$(cd "$(dirname "$0")" && pwd)
FLAGS=${BENCH_FLAGS:---reps 10 --sizes 8}
export OPENBLAS_NUM_THREADS=1
mkdir -p "$OUT"
: >"$OUT/exchange.jsonl"
# shellcheck disable=SC2086
for p in "${PS[@]}"; do
  for net in shm none 1gbit 10gbit; do
    f=$OUT/$net-p$p.txt
    echo "== $net p=$p ($(uptime | sed 's/.*load/load/'))" | tee "$f"
    if [ $net = shm ]; then
      timeout 900 mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$p" "$LM" bench allreduce $FLAGS >>"$f"
    else
      "$HERE/emu-cluster.sh" -k "$p" -r $net -t 900 -- "$LM" bench allreduce $FLAGS >>"$f" 2>/dev/null
    fi
    grep -v '^{' "$f" | tail -n +2
    grep '^{' "$f" | sed "s/^{/{\"net\":\"$net\",/" >>"$OUT/exchange.jsonl"
  done
done
