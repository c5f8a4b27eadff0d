#!/usr/bin/env bash
# The whole test suite on a fresh machine: install packages (with the
# test-only ones), build with the tests, run ctest. ctest includes the
# bare-root check (tests/bare: a fresh Debian root, install, build, smoke job).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh -DLM_BUILD_TESTS=ON
cd "${BUILD_DIR:-build}"
# Tests that use MPI pass --allow-run-as-root themselves; keep OpenBLAS to one
# thread per process so that parallel tests fit two cores.
export OPENBLAS_NUM_THREADS=1
ctest --output-on-failure -j "$(nproc)" --timeout 900
cd - >/dev/null

# ---- sanitizer suite (docs/testing.md) ---------------------------------------
# The same tests in an ASan+UBSan+LSan build where every report is fatal.
scripts/test-sanitize.sh
# ---- end of sanitizer suite ---------------------------------------------------
