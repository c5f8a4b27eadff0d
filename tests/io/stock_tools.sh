#!/bin/sh
# stock_tools: a shard written by LyricMind decodes, bit for bit, with stock
# HDF5 tools through our zstd plugin: h5dump (hdf5-tools) and h5py
# (python3-h5py, run with /usr/bin/python3).
# usage: stock_tools.sh IO_FIXTURES PLUGIN_DIR WORK_DIR
# Env: LM_STOCK_ENV, words before a stock tool that loads the plugin (set in
# sanitizer builds, tests/CMakeLists.txt).
set -eu
fixtures=$1 plugins=$2 work=$3 stock=${LM_STOCK_ENV:-}
rm -rf "$work" && mkdir -p "$work"
"$fixtures" shard "$work/train-00000.h5" "$work/expected.txt"
# Without our plugin, stock h5dump cannot decode the tokens (so the checks
# below really exercise the plugin).
mkdir -p "$work/no-plugins"
if HDF5_PLUGIN_PATH="$work/no-plugins" h5dump -d /tokens -y -w 0 -o "$work/none.txt" \
     "$work/train-00000.h5" > /dev/null 2>&1; then
  echo "h5dump decoded zstd tokens without the plugin?"; exit 1
fi
export HDF5_PLUGIN_PATH="$plugins"

# h5dump: -y drops indices, -o writes only the data values.
$stock h5dump -d /tokens -y -w 0 -o "$work/h5dump.txt" "$work/train-00000.h5" > "$work/h5dump.log"
{ tr -s ', \n' '\n\n\n' < "$work/h5dump.txt"; echo; } | sed '/^$/d' > "$work/h5dump.ids"
cmp "$work/expected.txt" "$work/h5dump.ids" || { echo "h5dump decoded different tokens"; exit 1; }
$stock h5dump -p -H "$work/train-00000.h5" | grep -q 'FILTER_ID 32015' \
  || { echo "filter 32015 not in the dataset layout"; exit 1; }

$stock /usr/bin/python3 - "$work" <<'PY'
import sys, h5py, numpy as np
work = sys.argv[1]
expected = np.loadtxt(work + "/expected.txt", dtype=np.uint16)
with h5py.File(work + "/train-00000.h5", "r") as f:
    t = f["tokens"]
    assert t.dtype == np.uint16 and t.ndim == 1, (t.dtype, t.shape)
    assert 32015 in t._filters or "32015" in t._filters, t._filters
    got = t[...]
    assert np.array_equal(got, expected), "h5py decoded different tokens"
    off = f["song_offsets"][...]
    assert off[0] == 0 and off[-1] == len(got) == f.attrs["n_tokens"]
    assert f.attrs["kind"] in (b"shard", "shard")
print("h5py ok:", len(got), "tokens")
PY
echo "stock tools ok"
