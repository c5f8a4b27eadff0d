#!/bin/sh
# genre_counts: every genre is counted in manifest.json and `inspect --json`,
# including 64-byte names (a multi-byte character at the end, two names equal
# but for their last byte), and an invalid UTF-8 label skips its song with a
# warning naming FILE:LINE instead of becoming a genre.
# Usage: genre_counts.sh LYRICMIND PLUGIN_DIR WORKDIR
set -eu
LM=$1
export HDF5_PLUGIN_PATH=$2
W=$3
rm -rf "$W" && mkdir -p "$W"
X62=$(printf 'x%.0s' $(seq 62)); Y63=$(printf 'y%.0s' $(seq 63))
{
  printf 'lyrics,genre\n'
  i=0
  for g in Pop "${X62}é" "${Y63}1" "${Y63}2" 'Say "hi"' Rock; do
    for k in 1 2 3 4; do
      i=$((i + 1))
      printf '"song %s has words one two three four %s",%s\n' "$i" "$k$i" "$(printf '%s' "$g" | sed 's/"/""/g; s/.*/"&"/')"
    done
  done
  printf '"an invalid label song with many words",\300\257Pop\n'
} > "$W/in.csv"
"$LM" preprocess --out "$W/c" --val-fraction 0.3 "$W/in.csv" 2> "$W/err"
grep -q 'in.csv:26: invalid UTF-8 at byte 0 of the genre label; song skipped' "$W/err" || { cat "$W/err"; exit 1; }
"$LM" inspect --json "$W/c/vocab.h5" "$W"/c/train-*.h5 "$W"/c/val-*.h5 > "$W/inspect.jsonl"
python3 - "$W/c/manifest.json" "$W/inspect.jsonl" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2])]
vocab, shards = rows[0], rows[1:]
names = vocab["genres"]
assert len(names) == 6, names
c = m["counts"]
assert sorted(c["genres"]) == sorted(names), (c["genres"], names)
assert sum(c["genres"].values()) == c["songs_kept"] == 24, c
assert c["skipped"]["invalid_utf8"] == 1, c["skipped"]
per = {}
for s in shards:
    assert s["valid"], s
    assert sum(s["songs_per_genre"].values()) == s["songs"], s
    for k, v in s["songs_per_genre"].items(): per[k] = per.get(k, 0) + v
assert per == c["genres"], (per, c["genres"])
print("genre counts ok")
PY
rm -rf "$W"
