#!/usr/bin/env bash
# Integration tests of 'lyricmind plot', 'report', 'export' and the stock-tools
# line of 'inspect' on short real runs (ctest runs one CASE per test).
# Env: LM (the binary), SHARED (the shared data dir), MPIRUN (mpirun plus
# flags), PY (/usr/bin/python3 with h5py), WORK (scratch dir), CHROMIUM.
# The fixture preprocesses one nltk-4genre file (V=1000) and trains run1 (1
# rank, 60 steps, then resumed to 120) and run2 (2 ranks, 80 steps), both
# with validation every 20 steps, plus eval.json for run1.
set -euo pipefail
CASE=$1
. "$(cd "$(dirname "$0")/../lib" && pwd)/cases.sh" # fail, expect_rc, one_line_error
export OPENBLAS_NUM_THREADS=1
DATA=$WORK/corpus
png_size() { "$PY" -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24)
assert d[:8]==b"\x89PNG\r\n\x1a\n" and d[12:16]==b"IHDR", "not a PNG"
print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
train() { # train RUN NP STEPS [flags]
  local run=$1 np=$2 steps=$3; shift 3
  $MPIRUN -np "$np" "$LM" train --data "$DATA" --run "$WORK/$run" --batch-size $((8 / np)) --embed 16 \
    --hidden 32 --eval-every 20 --eval-tokens 3000 --max-steps "$steps" --quiet "$@" >/dev/null
}

if [ "$CASE" = fixture ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  "$LM" preprocess --force --threads 1 --vocab-size 1000 --out "$DATA" \
    "$SHARED/lyrics/nltk-4genre/country.txt" >/dev/null
  train run1 1 60 && train run1 1 120 && train run2 2 80 --lr 0.003
  grep -q '"type":"resume","step":60' "$WORK/run1/metrics.jsonl" || fail "run1 did not resume at step 60"
  "$LM" eval --checkpoint "$WORK/run1/best.h5" --data "$DATA" --json --samples 4 --per-genre 4 \
    --max-words 40 --classifier "$WORK/clf.h5" > "$WORK/run1/eval.json"
  echo "ok fixture"; exit 0
fi
rm -rf "$WORK/$CASE" && mkdir -p "$WORK/$CASE" && cd "$WORK/$CASE"

case $CASE in
plot_accumulate)
  # --accumulate K: a step trains K windows of every stream, so the token
  # axis is step x G x T x K.
  train acc 1 6 --accumulate 2 --eval-every 3
  "$LM" plot "$WORK/acc" --out acc.png --csv acc.csv >/dev/null
  "$PY" - <<'PY'
import csv
rows = [r for r in csv.DictReader(open("acc.csv")) if r["kind"] == "train"]
assert rows, "no train rows"
for r in rows:
    assert int(r["tokens"]) == int(r["step"]) * 8 * 30 * 2, r
PY
  echo "ok plot_accumulate"
  ;;
plot_png_svg_csv)
  "$LM" plot "$WORK/run1" "$WORK/run2" --out p.png --svg --csv data.csv --width 1000 --height 700 >/dev/null
  [ "$(png_size p.png)" = 1000x700 ] || fail "p.png is $(png_size p.png), expected 1000x700"
  [ ! -e p.png.tmp.* ] 2>/dev/null || fail "temp file left"
  "$PY" - "$WORK" <<'PY'
import csv, json, sys, xml.etree.ElementTree as ET
work = sys.argv[1]
root = ET.parse("p.svg").getroot()
assert root.tag.endswith("svg"), root.tag
assert "1000" in root.get("width", "") and "700" in root.get("height", ""), root.attrib
rows = list(csv.DictReader(open("data.csv")))
want = "run,kind,step,epoch,tokens,loss,ppl,lr,grad_norm,tokens_per_s,comm_share,val_loss,val_ppl"
assert open("data.csv").readline().strip() == want
for run in ("run1", "run2"):
    recs = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl")]
    for kind, field in (("train", "loss"), ("eval", "val_loss")):
        exp = [(r["step"], r[field]) for r in recs if r["type"] == kind]
        got = [(int(r["step"]), float(r[field])) for r in rows if r["run"] == run and r["kind"] == kind]
        assert len(got) == len(exp) and len(got) > 0, (run, kind, len(got), len(exp))
        for (s1, v1), (s2, v2) in zip(got, exp):
            assert s1 == s2 and abs(v1 - v2) <= 1e-6 * abs(v2), (run, kind, s1, v1, s2, v2)
    for r in rows:
        if r["run"] == run and r["kind"] == "train":
            assert int(r["tokens"]) == int(r["step"]) * 8 * 30, r
res = [(r["run"], r["step"]) for r in rows if r["kind"] == "resume"]
assert res == [("run1", "60")], res
comm = [float(r["comm_share"]) for r in rows if r["run"] == "run2" and r["kind"] == "train"]
assert max(comm) > 0, "2-rank run shows no communication"
print("svg and csv ok:", len(rows), "rows")
PY
  echo "ok $CASE" ;;
plot_tolerant)
  # Unknown kinds and fields, a start record, a superseded segment (steps 61..70
  # written, then a resume from step 60) and a line cut by a kill.
  mkdir run && cp "$WORK/run1"/*.h5 run/
  "$PY" - "$WORK/run1/metrics.jsonl" > run/metrics.jsonl <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '"type":"resume"' not in l]
print(json.dumps({"type": "start", "step": 0, "segment": 1, "ranks": 1}))
for r in recs:
    if r["type"] == "train" and r["step"] == 61:   # an abandoned segment first
        for s in range(61, 71):
            print(json.dumps({"type": "train", "step": s, "epoch": 0, "loss": 99.0, "lr": 1e-3,
                              "tokens_per_s": 1.0, "comm_share": 0.0, "new_field": [1, 2]}))
        print(json.dumps({"type": "resume", "step": 60, "segment": 2}))
    print(json.dumps(dict(r, extra="x")))
print(json.dumps({"type": "gpu_temp", "step": 120, "celsius": 40}))
print('{"type":"train","step":121,"lo', end="")
PY
  "$LM" plot run --csv data.csv --out p.png > out.txt
  grep -q "1 line(s) of metrics.jsonl not understood" out.txt || { cat out.txt; fail "cut line not reported"; }
  "$PY" - <<'PY'
import csv
rows = list(csv.DictReader(open("data.csv")))
steps = [int(r["step"]) for r in rows if r["kind"] == "train"]
assert steps == list(range(1, 121)), steps[55:75]
assert all(float(r["loss"]) < 50 for r in rows if r["kind"] == "train"), "superseded records kept"
assert [r["step"] for r in rows if r["kind"] == "resume"] == ["60"]
PY
  # without a checkpoint the x axis is steps: no tokens column values
  mkdir bare && cp "$WORK/run1/metrics.jsonl" bare/
  "$LM" plot bare --csv bare.csv --out bare.png >/dev/null
  [ "$(grep -c ',train,' bare.csv)" = 120 ] || fail "bare run rows"
  if grep -q ',train,[0-9]*,[0-9]*,[0-9]' bare.csv; then fail "tokens given without G x T"; fi
  echo "ok $CASE" ;;
plot_errors)
  mkdir empty-dir cut-run && : > cut-run/metrics.jsonl
  expect_rc 1 "$LM" plot empty-dir
  one_line_error "empty-dir/metrics.jsonl: cannot open"
  expect_rc 1 "$LM" plot cut-run
  one_line_error "empty run"
  expect_rc 1 env LYRICMIND_GNUPLOT=/nonexistent/gnuplot "$LM" plot "$WORK/run1" --out p.png
  one_line_error "install gnuplot-nox or run scripts/install-deps.sh"
  expect_rc 1 env PATH=/nonexistent "$LM" plot "$WORK/run1" --out p.png
  one_line_error "gnuplot not found on PATH"
  [ ! -e p.png ] || fail "a picture was written without gnuplot"
  env PATH=/nonexistent "$LM" report "$WORK/run1" --out r.html --songs 0 >/dev/null
  grep -q "No plot: gnuplot not found on PATH" r.html || fail "report without gnuplot does not say so"
  expect_rc 2 "$LM" plot
  one_line_error "no RUN directory"
  expect_rc 1 "$LM" report empty-dir
  one_line_error "metrics.jsonl: cannot open"
  echo "ok $CASE" ;;
report_chromium)
  [ -x "$CHROMIUM" ] || fail "chromium not found ($CHROMIUM): install the test packages of scripts/install-deps.sh"
  "$LM" report "$WORK/run1" --out r.html >/dev/null
  # the world shape's ranks come from the start records (run2 ran on 2)
  "$LM" report "$WORK/run2" --out r2.html --songs 0 >/dev/null
  grep -qF '<tr><th>ranks</th><td>2</td></tr>' r2.html || fail "run2's report does not say 2 ranks"
  grep -qF '<tr><th>ranks</th><td>1</td></tr>' r.html || fail "run1's report does not say 1 rank"
  grep -qF "<h1>LyricMind run: $WORK/run1</h1>" r.html || fail "the title does not name the run directory"
  "$LM" generate --checkpoint "$WORK/run1/best.h5" --count 3 --seed 1 --max-words 120 > songs.txt 2>/dev/null
  "$PY" - "$WORK/run1/eval.json" <<'PY'
import html, json, re, sys
page = open("r.html").read()
assert page.count("<svg") == 1 and "</svg>" in page, "no inline plot"
for m in re.finditer(r'(?:src|href)\s*=\s*"([^"]*)"', page):
    assert not re.match(r"[a-z]+:", m.group(1)), "external reference: " + m.group(1)
assert "<script" not in page
for want in ("World shape", "global batch G", "Where time went", "Settings", "hidden", "resumes"):
    assert want in page, want
ev = json.load(open(sys.argv[1]))
ppl = ev["perplexity"]["carried"]["all"]["perplexity"]
assert "<caption>perplexity</caption>" in page and "carried.all.perplexity" in page, "eval table missing"
assert ("<td>%.6g</td>" % ppl) in page, "eval perplexity missing"
songs = [html.unescape(s) for s in
         re.findall(r'<div class="song"><b>[^<]*</b>\n(.*?)</div>', page, re.S)]
want = open("songs.txt").read().split("---\n")
assert len(songs) == 3 and songs == want, (songs, want)
print("page ok")
PY
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$PWD/profile" --enable-logging=stderr \
    --v=0 --window-size=1200,2400 --screenshot="$PWD/shot.png" "file://$PWD/r.html" >chrome.out 2>chrome.err
  [ "$(png_size shot.png)" = 1200x2400 ] || fail "screenshot is $(png_size shot.png)"
  if grep -E ":CONSOLE|Uncaught" chrome.err; then fail "console messages (the page has no script)"; fi
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$PWD/profile" --dump-dom \
    "file://$PWD/r.html" >dom.html 2>/dev/null
  grep -q "Generated songs" dom.html && grep -q "<svg" dom.html || fail "rendered DOM lacks the page"
  echo "ok $CASE" ;;
export_weights)
  ck=$WORK/run1/best.h5
  "$LM" export "$ck" --out w.h5 >/dev/null
  "$PY" - "$ck" w.h5 <<'PY'
import os, sys, h5py
ck, w = sys.argv[1:]
assert os.path.getsize(w) < 0.5 * os.path.getsize(ck), (os.path.getsize(w), os.path.getsize(ck))
with h5py.File(ck) as a, h5py.File(w) as b:
    assert "optim" in a and "optim" not in b, list(b)
    for k in a["model"]:
        assert (a["model"][k][...] == b["model"][k][...]).all(), k
    assert b.attrs["step"] == a.attrs["step"] and b.attrs["config"] == a.attrs["config"]
PY
  "$LM" inspect w.h5 > out.txt && grep -q "optimizer_state: no" out.txt || fail "inspect on the export"
  for f in "$ck" w.h5; do
    "$LM" generate --checkpoint "$f" --count 2 --seed 7 --max-words 40 > "gen-$(basename "$f").txt" 2>/dev/null
  done
  cmp gen-best.h5.txt gen-w.h5.txt || fail "generate differs between checkpoint and export"
  "$LM" eval --checkpoint w.h5 --data "$DATA" --json --samples 2 --per-genre 2 --max-words 20 \
    --classifier "$WORK/clf.h5" > eval.json
  "$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a["perplexity"] == b["perplexity"], "eval perplexity differs"' eval.json "$WORK/run1/eval.json"
  expect_rc 1 "$LM" train --data "$DATA" --run resumed --resume w.h5 --embed 16 --hidden 32 --max-steps 5 --quiet
  one_line_error "w.h5: holds no optimizer state (a weights-only file"
  expect_rc 2 "$LM" export w.h5 --out w.h5
  one_line_error "is the input checkpoint itself"
  expect_rc 1 "$LM" export nonexistent.h5 --out x.h5
  one_line_error "nonexistent.h5"
  [ ! -e x.h5 ] || fail "output written for a missing input"
  echo "ok $CASE" ;;
inspect_plugin_path)
  shard=$DATA/train-00000.h5
  check_line() { # check_line EXPECTED_DIR: inspect's line names it and h5dump reads data with it
    line=$("$1" inspect "$shard" | sed -n 's/^  stock_tools: //p')
    dir=$(echo "$line" | sed -n 's/^HDF5_PLUGIN_PATH=\([^ ]*\) h5dump -d \/tokens .*/\1/p')
    [ "$dir" = "$2" ] || fail "plugin dir '$dir' from '$line', expected $2"
    [ -f "$dir/libh5z_zstd_lyricmind.so" ] || fail "no plugin in $dir"
    env -i PATH=/usr/bin:/bin ${LM_STOCK_ENV:-} sh -c "$line" > dump.txt
    grep -Eq '^ *\(0\): [0-9]+, [0-9]+' dump.txt || { head dump.txt; fail "h5dump with the line shows no data"; }
  }
  # without the plugin stock h5dump shows no data (so the line matters)
  HDF5_PLUGIN_PATH=/nonexistent h5dump -d /tokens "$shard" > none.txt 2>&1 || true
  if grep -Eq '^ *\(0\): [0-9]' none.txt; then fail "h5dump read data without the plugin"; fi
  check_line "$LM" "$(cd "$(dirname "$LM")/plugins" && pwd -P)"
  # an installed layout: PREFIX/bin/lyricmind, PREFIX/lib/<multiarch>/hdf5/plugins
  mkdir -p prefix/bin prefix/lib/x86_64-linux-gnu/hdf5/plugins
  cp "$LM" prefix/bin/ && cp "$(dirname "$LM")/plugins/libh5z_zstd_lyricmind.so" prefix/lib/x86_64-linux-gnu/hdf5/plugins/
  check_line "$PWD/prefix/bin/lyricmind" "$(pwd -P)/prefix/lib/x86_64-linux-gnu/hdf5/plugins"
  rm prefix/lib/x86_64-linux-gnu/hdf5/plugins/*.so
  prefix/bin/lyricmind inspect "$shard" | grep -q "stock_tools: zstd plugin libh5z_zstd_lyricmind.so not found" \
    || fail "a missing plugin is not said"
  echo "ok $CASE" ;;
*) fail "unknown case $CASE" ;;
esac
