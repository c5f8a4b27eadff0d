#!/bin/sh
# shared_corpus: 'lyricmind preprocess' on the real shared corpora (both
# folders) gives about 19.2k distinct songs in exactly the 8 canonical
# genres, the requested vocabulary size, files that 'lyricmind inspect'
# validates, and the same token arrays with 1 and 2 threads (read back with
# stock h5py through our zstd plugin). The lyrics are read in place, never
# copied. usage: shared_corpus.sh LYRICMIND LYRICS_DIR PLUGIN_DIR WORK_DIR
# Env: LM_STOCK_ENV, words before a stock tool that loads the plugin (set in
# sanitizer builds, tests/CMakeLists.txt).
set -eu
lm=$1 data=$2 plugins=$3 work=$4 stock=${LM_STOCK_ENV:-}
rm -rf "$work" && mkdir -p "$work"
"$lm" preprocess --out "$work/c2" --vocab-size 20000 --threads 2 --json "$data" > "$work/summary.json"
"$lm" preprocess --out "$work/c1" --vocab-size 20000 --threads 1 "$data" > "$work/summary1.txt"

/usr/bin/python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
kept = s["songs_kept"]
assert 18500 <= kept <= 20000, f"songs kept {kept} outside [18500, 20000]"
want = ["Pop", "Rock", "Hip-Hop", "Country", "R&B", "Metal", "Indie", "Folk"]
assert list(s["genres"]) == want, f"genres {list(s['genres'])}"
for g, n in s["genres"].items():
    assert n > 1000, f"{g}: only {n} songs"
assert sum(s["genres"].values()) == kept
assert s["vocab_size"] == 20000, s["vocab_size"]
assert s["files"] == 12 and s["duplicates"] > 3000, (s["files"], s["duplicates"])
assert s["songs_read"] == kept + s["duplicates"] + sum(s["skipped"].values())
assert 0 < s["oov_rate"] < 0.05, s["oov_rate"]
print(f"shared corpus: {kept} songs kept, {s['duplicates']} duplicates, vocab {s['vocab_size']}")
PY

for f in "$work"/c2/*.h5; do
  "$lm" inspect "$f" > "$work/inspect.txt" || { cat "$work/inspect.txt"; echo "inspect failed on $f"; exit 1; }
done
cmp "$work/c1/manifest.json" "$work/c2/manifest.json" || { echo "manifests differ between 1 and 2 threads"; exit 1; }

HDF5_PLUGIN_PATH="$plugins" $stock /usr/bin/python3 - "$work/c1" "$work/c2" <<'PY'
import glob, os, sys, h5py, numpy as np
a, b = sys.argv[1], sys.argv[2]
names = sorted(os.path.basename(p) for p in glob.glob(a + "/*.h5"))
assert names == sorted(os.path.basename(p) for p in glob.glob(b + "/*.h5")), "different file sets"
for n in names:
    with h5py.File(f"{a}/{n}", "r") as fa, h5py.File(f"{b}/{n}", "r") as fb:
        for d in fa:
            assert np.array_equal(fa[d][...], fb[d][...]), f"{n}:/{d} differs between 1 and 2 threads"
print("1 and 2 threads: identical datasets in", len(names), "files")
PY
echo "shared corpus ok"
