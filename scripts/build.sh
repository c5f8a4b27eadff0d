#!/usr/bin/env bash
# Configures and builds LyricMind into build/ (Release). Extra arguments go
# to cmake's configure step, e.g. scripts/build.sh -DLM_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
