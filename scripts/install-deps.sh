#!/usr/bin/env bash
# Installs every Debian package LyricMind needs to build, test and run.
# Non-interactive; safe to re-run (does nothing when all are present).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  libopenmpi-dev openmpi-bin            # MPI
  libopenblas-dev                       # BLAS (OpenBLAS, not the reference BLAS)
  libhdf5-dev hdf5-tools                # shards and checkpoints; h5dump for checks
  libzstd-dev zstd                      # zstd HDF5 filter, .zst inputs
  libutf8proc-dev libcsv-dev libjansson-dev   # text pipeline
  libcriterion-dev                      # unit tests
  gnuplot-nox                           # lyricmind plot and report draw with gnuplot
  python3 python3-h5py python3-numpy    # tests: stock h5py reads our shards
  pocketsphinx-en-us                    # CMU pronouncing dictionary (rhyme metric)
)
TEST_PKGS=(                             # needed by the tests only
  chromium                              # the report page renders in headless Chromium
)
PKGS+=("${TEST_PKGS[@]}")
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
"${APT[@]}" update -qq
"${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
