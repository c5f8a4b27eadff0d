#!/usr/bin/env bash
# Preprocess at scale: grows a synthetic corpus of N songs (default 1,000,000,
# about 1.4 GB of CSV) from the shared lyrics with the seeded order-2 Markov
# sampler (reused if it already exists), then preprocesses it into a temporary
# directory with --threads T (default 2) and prints one JSON line: wall_s,
# songs_per_s, mb_per_s, peak_rss_mb, user_s/sys_s (CPU seconds).
# The corpus goes under /tmp, never into the repository.
# Usage: scripts/bench-preprocess.sh [N] [T]. Needs build/ (scripts/build.sh)
# with the tests (LM_BUILD_TESTS, the default): the generator is the test
# fixture build/tests/bench/make_corpus (MAKE_CORPUS overrides the path).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
T=${2:-2}
LM=${LM:-build/lyricmind}
MAKE_CORPUS=${MAKE_CORPUS:-build/tests/bench/make_corpus}
export OPENBLAS_NUM_THREADS=1 # preprocess does no BLAS; no idle BLAS threads
CORPUS=${CORPUS:-/tmp/lyricmind-synth-$N.csv}
if [ ! -s "$CORPUS" ]; then
  "$MAKE_CORPUS" --songs "$N" --seed 1 --from ../shared/data/lyrics --out "$CORPUS" >&2
fi
"$LM" bench preprocess --input "$CORPUS" --threads "$T"
