#!/usr/bin/env bash
# bare-smoke: what a new user does first on a bare Debian machine, run inside
# the fresh root by tests/bare/bare-root.sh (as root, no standard input):
# install the packages, build, then a smoke job on real lyrics: preprocess one
# file, train 2 MPI ranks for a few dozen steps, generate; then
# `cmake --install --prefix /usr` and stock h5dump; and install-deps.sh as a
# user, without sudo (one clear line) and with it. Every step is
# checked; any failure exits non-zero naming the step.
# usage: bare-smoke.sh SHARED_DIR   (run from the clone's root)
set -euo pipefail
shared=${1:?usage: bare-smoke.sh SHARED_DIR}
lyrics=$shared/data/lyrics/nltk-4genre/country.txt
step() { echo "bare-smoke: == $*"; }
fail() { echo "bare-smoke: FAILED: $*" >&2; exit 1; }

step "scripts/install-deps.sh"
scripts/install-deps.sh || fail "scripts/install-deps.sh"
grep -q "packages present" <<< "$(scripts/install-deps.sh)" \
  || fail "a second scripts/install-deps.sh still finds packages missing"

step "scripts/build.sh (the command, no tests: the default package set)"
scripts/build.sh -DLM_BUILD_TESTS=OFF || fail "scripts/build.sh"
LM=build/lyricmind
[ -x "$LM" ] || fail "scripts/build.sh made no $LM"

work=$(mktemp -d /tmp/bare-smoke.XXXXXX)
export OPENBLAS_NUM_THREADS=1
step "preprocess $lyrics"
"$LM" preprocess --out "$work/corpus" --vocab-size 2000 "$lyrics" || fail "preprocess"
for f in vocab.h5 manifest.json train-00000.h5 val-00000.h5; do
  [ -s "$work/corpus/$f" ] || fail "preprocess wrote no $f"
done

step "train: mpirun -np 2, 40 steps"
mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 \
  "$LM" train --data "$work/corpus" --run "$work/run" --batch-size 4 --max-steps 40 \
  --log-seconds 5 || fail "mpirun train"
ckpt=$work/run/ckpt-000000040.h5
[ -s "$ckpt" ] || fail "train left no checkpoint at step 40 ($(ls "$work/run" | tr '\n' ' '))"
"$LM" inspect "$ckpt" >/dev/null || fail "inspect $ckpt"

step "generate"
"$LM" generate --checkpoint "$ckpt" --genre Country --prompt "down by the river" \
  --max-words 30 --seed 1 --quiet > "$work/song.txt" || fail "generate"
grep -q "down by the river" "$work/song.txt" || fail "generate printed no song"
wc -w < "$work/song.txt" | awk '$1 > 4 { ok = 1 } END { exit !ok }' \
  || fail "generate printed only the prompt"
cat "$work/song.txt"

step "cmake --install build --prefix /usr; stock h5dump with no HDF5_PLUGIN_PATH"
cmake --install build --prefix /usr > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
[ "$(command -v lyricmind)" = /usr/bin/lyricmind ] || fail "lyricmind is not on PATH after the install"
lyricmind --help > /dev/null || fail "the installed lyricmind --help"
env -u HDF5_PLUGIN_PATH h5dump -d /tokens -y -w 0 -o "$work/tokens.txt" "$work/corpus/train-00000.h5" \
  > /dev/null || fail "stock h5dump cannot read /tokens through the plugin installed in /usr"
[ -s "$work/tokens.txt" ] || fail "stock h5dump printed no tokens"

step "scripts/install-deps.sh as a user: without sudo, then with sudo"
# zstd (the command line tool) is in the default set and nothing else needs it.
apt-get remove -y -q zstd > "$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "apt-get remove zstd"; }
useradd --create-home lmuser
mkdir /home/lmuser/lyricmind && cp -a scripts /home/lmuser/lyricmind/ && chown -R lmuser: /home/lmuser/lyricmind
as_user() { (cd /home/lmuser/lyricmind && setpriv --reuid=lmuser --regid=lmuser --init-groups \
              env HOME=/home/lmuser scripts/install-deps.sh "$@"); }
rc=0
as_user --tests > "$work/nosudo.txt" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "not root and no sudo; install: zstd .*python3-h5py" "$work/nosudo.txt" \
  || { cat "$work/nosudo.txt"; fail "install-deps --tests as a user without sudo (exit $rc)"; }
grep -q -- --tests <<< "$(scripts/install-deps.sh --help)" || fail "install-deps --help"
apt-get install -y -q --no-install-recommends sudo > "$work/sudo.log" 2>&1 \
  || { cat "$work/sudo.log"; fail "apt-get install sudo"; }
echo "lmuser ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/lmuser
as_user || fail "install-deps as a user through sudo"
[ "$(dpkg-query -W -f='${Status}' zstd)" = "install ok installed" ] \
  || fail "install-deps through sudo did not install zstd"
rm -rf "$work"
step "smoke job ok"
