#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then run LyricMind.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export OPENBLAS_NUM_THREADS=1
echo "== core benchmark (1 thread): training step and generation"
build/lyricmind bench train --batch 8 --seq-len 30 --vocab 50000 --threads 1
build/lyricmind bench generate --threads 1
