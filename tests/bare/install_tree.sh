#!/usr/bin/env bash
# install_tree: `cmake --install BUILD --prefix P` into a temporary prefix puts
# lyricmind in P/bin, the zstd HDF5 plugin in P/PLUGINDIR and the SLURM
# templates in P/share/lyricmind/slurm; the installed command runs, stock
# h5dump reads a real shard's /tokens through the installed plugin (and
# cannot without it), and the templates (installed and the repository's)
# find the installed lyricmind. The prefix is removed at the end.
# usage: install_tree.sh BUILD_DIR PLUGINDIR SRC_DIR SHARED_DATA WORK_DIR
set -euo pipefail
build=$1 plugindir=$2 src=$3 data=$4 work=$5
fail() { echo "install_tree: $*" >&2; exit 1; }
has() { grep -qF -- "$1" <<< "$2"; }   # has TEXT OUTPUT (no pipe: pipefail and grep -q)
rm -rf "$work" && mkdir -p "$work"
P=$work/prefix
trap 'rm -rf "$P"' EXIT
cmake --install "$build" --prefix "$P" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }

plugins=$P/$plugindir
slurm=$P/share/lyricmind/slurm
[ -x "$P/bin/lyricmind" ] || fail "no $P/bin/lyricmind"
[ -f "$plugins/libh5z_zstd_lyricmind.so" ] || fail "no plugin in $plugins"
for f in train.sbatch preprocess.sbatch eval.sbatch submit; do
  [ -x "$slurm/$f" ] || fail "no executable $slurm/$f"
done
has "usage: lyricmind" "$("$P/bin/lyricmind" --help)" || fail "installed lyricmind --help"

# A real shard: one file of the shared lyrics, preprocessed by the installed command.
"$P/bin/lyricmind" preprocess --out "$work/corpus" --vocab-size 2000 \
  "$data/lyrics/nltk-4genre/country.txt" > "$work/pp.log" 2>&1 || { cat "$work/pp.log"; fail "preprocess"; }
shard=$work/corpus/train-00000.h5
mkdir -p "$work/no-plugins"
if HDF5_PLUGIN_PATH="$work/no-plugins" h5dump -d /tokens -y -w 0 -o "$work/none.txt" "$shard" >/dev/null 2>&1; then
  fail "h5dump decoded the zstd tokens without the plugin?"
fi
HDF5_PLUGIN_PATH="$plugins" h5dump -d /tokens -y -w 0 -o "$work/tokens.txt" "$shard" > "$work/h5dump.log" \
  || fail "h5dump with HDF5_PLUGIN_PATH=$plugins cannot read $shard"
got=$(tr -s ', \n' '\n\n\n' < "$work/tokens.txt" | sed '/^$/d' | awk '$1 >= 0 && $1 < 2000' | wc -l)
want=$(h5dump -a /n_tokens "$shard" | awk '/\(0\)/ { print $2 }')
[ -n "$want" ] && [ "$got" -eq "$want" ] || fail "h5dump read $got valid tokens, the shard says $want"

# The templates run `lyricmind` through the launcher; a stand-in srun runs
# its command as real srun does, resolved on PATH.
mkdir -p "$work/fake"
printf '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\nexec "$@"\n' > "$work/fake/srun"
chmod +x "$work/fake/srun"
sbatch_help() {   # PATH TEMPLATE: the template's `lyricmind train --help` as under sbatch
  env -u LYRICMIND PATH="$1" SLURM_JOB_ID=1 SLURM_NTASKS=1 SLURM_JOB_NUM_NODES=1 \
    bash "$2" --help 2>&1
}
base=$work/fake:/usr/bin:/bin
has "usage: lyricmind train" "$(sbatch_help "$P/bin:$base" "$src/slurm/train.sbatch")" \
  || fail "slurm/train.sbatch does not find the installed lyricmind on PATH"
has "usage: lyricmind train" "$(sbatch_help "$P/bin:$base" "$slurm/train.sbatch")" \
  || fail "the installed train.sbatch does not find lyricmind on PATH"
out=$(sbatch_help "$base" "$slurm/train.sbatch")
has "$P/bin/lyricmind train" "$out" && has "usage: lyricmind train" "$out" \
  || fail "the installed train.sbatch does not fall back to $P/bin/lyricmind"
has "LYRICMIND=$P/bin/lyricmind" "$(env -u LYRICMIND PATH="$base" "$slurm/submit" --dry-run train -- --data c --run r)" \
  || fail "the installed submit does not find $P/bin/lyricmind"
echo "install tree ok"
