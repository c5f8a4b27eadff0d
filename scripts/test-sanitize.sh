#!/usr/bin/env bash
# The test suite again in a sanitizer build (build-san/, -DLM_SANITIZE=ON:
# ASan, UBSan and LeakSanitizer, every report fatal). scripts/test.sh runs it
# after the normal suite; the tests that cannot run there are not registered
# in such a build (docs/testing.md lists them and why).
set -euo pipefail
cd "$(dirname "$0")/.."
SAN_DIR=${SAN_BUILD_DIR:-build-san}
# -g: reports name file and line of every frame.
BUILD_DIR=$SAN_DIR BUILD_TYPE=RelWithDebInfo scripts/build.sh -DLM_SANITIZE=ON
cd "$SAN_DIR"
export OPENBLAS_NUM_THREADS=1
ctest --output-on-failure -j "$(nproc)" --timeout 900
