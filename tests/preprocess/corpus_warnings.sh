#!/bin/sh
# preprocess warns at the end, one line each saying what to change, about a
# corpus train would refuse (no validation or no training songs) or learn
# little from (more than --oov-warn of the word tokens <unk>), exits 0, and
# records the same lines in manifest.json (counts.warnings) and --json.
# Args: LM INPUT WORKDIR
set -eu
LM=$1; IN=$2; W=$3
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$W" && mkdir -p "$W" && cd "$W"
pp() { out=$1; shift; "$LM" preprocess --threads 1 --out "$out" "$@" "$IN" >out.txt 2>err.txt || fail "preprocess $*"; }
warnings_in() { python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["counts"]["warnings"]))' "$1/manifest.json"; }

pp bad --vocab-size 100 --val-fraction 0
grep -q "^lyricmind preprocess: warning: no validation songs (976 kept, --val-fraction 0): train refuses this corpus; give more input or a larger --val-fraction$" err.txt \
  || { cat err.txt; fail "no warning for 0 validation songs"; }
grep -q "^lyricmind preprocess: warning: 43.4% of the word tokens are <unk> (more than 20%, --oov-warn 0.2): raise --vocab-size (now 100) or lower --min-count (now 2)$" err.txt \
  || { cat err.txt; fail "no OOV warning"; }
[ "$(grep -c . err.txt)" = 2 ] || { cat err.txt; fail "expected exactly two lines on stderr"; }
sed 's/^lyricmind preprocess: warning: //' err.txt > want.txt
warnings_in bad > got.txt
cmp want.txt got.txt || fail "manifest warnings differ from the printed ones"
tail -1 out.txt | grep -q "time " || fail "warnings must come after the summary, not in it"

pp fine --vocab-size 2000
[ ! -s err.txt ] || { cat err.txt; fail "warning for a usable corpus"; }
[ -z "$(warnings_in fine)" ] || fail "manifest has warnings for a usable corpus"

pp lenient --vocab-size 100 --oov-warn 0.5
[ ! -s err.txt ] || { cat err.txt; fail "--oov-warn 0.5 should silence 43%"; }

"$LM" preprocess --threads 1 --json --out alltrain --val-fraction 1 "$IN" >out.txt 2>err.txt
grep -q "warning: no training songs: train refuses this corpus" err.txt || { cat err.txt; fail "no warning for 0 training songs"; }
python3 -c 'import json,sys; w=json.load(open("out.txt"))["warnings"]; assert len(w)==1 and w[0].startswith("no training songs"), w'
echo "corpus warnings ok"
