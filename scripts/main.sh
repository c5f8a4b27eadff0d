#!/usr/bin/env bash
# The main job on a fresh machine, about 15 minutes on 2 cores:
# install packages, build, preprocess the shared lyrics corpus, train on 2 MPI
# ranks for a bounded time, evaluate, and print generated songs for two genres.
# Outputs: out/corpus (shards), out/run (checkpoints, metrics.jsonl).
# Environment: TRAIN_MINUTES (default 10), LYRICS (default ../shared/data/lyrics).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DLM_BUILD_TESTS=OFF   # the command only; test.sh turns tests back on
LM=build/lyricmind
LYRICS=${LYRICS:-../shared/data/lyrics}
TRAIN_MINUTES=${TRAIN_MINUTES:-10}
export OPENBLAS_NUM_THREADS=1
MPIRUN=(mpirun --oversubscribe --bind-to none -np 2)
[ "$(id -u)" -eq 0 ] && MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
mkdir -p out

echo "== preprocess $LYRICS -> out/corpus"
$LM preprocess --force --out out/corpus "$LYRICS"

echo "== train: 2 ranks x batch 8, at most $TRAIN_MINUTES minutes (resumes out/run if present)"
"${MPIRUN[@]}" $LM train --data out/corpus --run out/run --batch-size 8 \
  --time-limit "$TRAIN_MINUTES" --eval-every 500 --eval-tokens 50000 --log-seconds 30

CKPT=out/run/best.h5
[ -f "$CKPT" ] || CKPT=$(ls out/run/ckpt-*.h5 | tail -1)
echo "== eval $CKPT"
"${MPIRUN[@]}" $LM eval --checkpoint "$CKPT" --data out/corpus --samples 20 --seed 7

for genre in Country Hip-Hop; do
  echo "== generate: $genre"
  $LM generate --checkpoint "$CKPT" --genre "$genre" --count 2 --max-words 120 \
    --temperature 0.8 --top-p 0.95 --seed 42
done
