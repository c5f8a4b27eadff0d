#!/usr/bin/env bash
# Installs the Debian packages LyricMind needs.
#   scripts/install-deps.sh           build and run (scripts/main.sh, the bare-root check)
#   scripts/install-deps.sh --tests   also what only the test suite uses (scripts/test.sh)
# Non-interactive; safe to re-run (does nothing when all are present); as
# root or as a user with sudo. apt's output goes to a log that is printed
# only when apt fails.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  libopenmpi-dev openmpi-bin            # MPI
  libopenblas-dev                       # BLAS (OpenBLAS, not the reference BLAS)
  libhdf5-dev hdf5-tools                # shards and checkpoints; h5dump to read them
  libzstd-dev zstd                      # zstd HDF5 filter; zstd makes .zst inputs
  libutf8proc-dev libcsv-dev libjansson-dev   # text pipeline
  libxxhash-dev                         # XXH64 input checksums (manifest.json)
  gnuplot-nox                           # lyricmind plot and report draw with gnuplot
  pocketsphinx-en-us                    # CMU pronouncing dictionary (rhyme metric)
)
TEST_PKGS=(
  libcriterion-dev                      # unit tests (LM_BUILD_TESTS=ON)
  python3 python3-h5py python3-numpy    # stock h5py reads our shards; test drivers
  chromium                              # the report page renders in headless Chromium
  iproute2                              # tests/cluster: emulated hosts (ip netns, tc)
)
case ${1:-} in
  "") ;;
  --tests) PKGS+=("${TEST_PKGS[@]}") ;;
  -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) echo "install-deps: unknown argument '$1' (use --tests or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
# As root apt-get runs directly; otherwise through sudo, keeping
# DEBIAN_FRONTEND (an empty "$SUDO -E" would run "-E" as a command).
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get)
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  APT=(sudo -E apt-get)
fi
log=$(mktemp "${TMPDIR:-/tmp}/install-deps.XXXXXX.log")
apt_quiet() {
  "${APT[@]}" "$@" </dev/null >>"$log" 2>&1 && return 0
  echo "install-deps: apt-get $1 failed; its output:" >&2
  cat "$log" >&2
  rm -f "$log"
  exit 1
}
apt_quiet update -q
apt_quiet install -y -q --no-install-recommends "${missing[@]}"
rm -f "$log"
echo "install-deps: installed the ${#missing[@]} missing packages and their dependencies"
