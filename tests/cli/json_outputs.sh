#!/usr/bin/env bash
# Every JSON LyricMind writes, parsed by a stock parser (python3's json
# module): each metrics.jsonl record kind of a real short run (start, train,
# eval, checkpoint, finished, resume, stopped; skip is covered by
# test_train_log), eval --json, inspect --json of a shard, the vocabulary and
# a checkpoint, preprocess's manifest.json and --json, generate --json, and
# the lines of make_corpus (tests/bench) and bench preprocess (bench
# train/generate: see tests/bench).
# Counts must be JSON integers, flags booleans, reals the shortest decimal
# that reads back to the same float32 (io_json.h).
# Env: LM (the binary), MAKE_CORPUS (tests/bench's tool), SHARED (the shared data dir), PY (python3), WORK.
set -euo pipefail
. "$(cd "$(dirname "$0")/../lib" && pwd)/cases.sh" # fail, expect_rc, one_line_error
export OPENBLAS_NUM_THREADS=1
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
"$LM" preprocess --force --threads 1 --vocab-size 500 --out corpus --json \
  "$SHARED/lyrics/nltk-4genre/country.txt" > pp.json
T="--data corpus --run run --batch-size 4 --embed 8 --hidden 16 --eval-every 10 --eval-tokens 1000 --quiet"
"$LM" train $T --max-steps 20 >/dev/null
"$LM" train $T --max-steps 30 --lr 0.003 >/dev/null
"$LM" train $T --epochs 100000 --max-steps 100000000 --eval-every 100000 >sig.txt 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ "$(grep -c '"type":"train"' run/metrics.jsonl)" -ge 35 ] && break
  kill -0 $pid 2>/dev/null || fail "trainer ended early"; sleep 0.1
done
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 75 ] || { cat sig.txt; fail "SIGINT exit $rc, expected 75"; }
"$LM" eval --checkpoint run/best.h5 --data corpus --json --samples 2 --per-genre 2 --max-words 20 \
  --classifier clf.h5 --quiet > eval.json
ck=$(ls run/ckpt-*.h5 | tail -1)
shard=$(ls corpus/*.h5 | grep -v vocab | head -1)
"$LM" inspect --json "$shard" corpus/vocab.h5 "$ck" > inspect.json
"$LM" generate --checkpoint run/best.h5 --json --count 2 --max-words 20 --prompt "my old truck" \
  --quiet > gen.json
# make_corpus / bench preprocess with a quote in the path (was written unescaped)
"$MAKE_CORPUS" --songs 20 --from "$SHARED/lyrics/nltk-4genre/country.txt" --out 'syn "q".csv' > bench.json
"$LM" bench preprocess --input 'syn "q".csv' --threads 1 >> bench.json
"$LM" bench train --steps 2 --warmup 1 --vocab 500 --no-roofline > bench-core.json
"$LM" bench generate --vocab 500 --tokens 10 --warmup 2 >> bench-core.json
"$PY" - <<'PY'
import json, struct

def f32(x): return struct.unpack("f", struct.pack("f", x))[0]

def digits(tok):
    m = tok.lstrip("-").split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return len(m)

def check_reals(text, obj):
    """Every real in the text reads back as its float32 and is the shortest such decimal."""
    dec = json.JSONDecoder(parse_float=lambda s: ("REAL", s))
    def walk(o):
        if isinstance(o, tuple):
            s = o[1]; v = float(s); x = f32(v)
            d = digits(s)
            assert d <= 9, ("more than 9 digits", s)
            assert float("%.*g" % (max(d, 1), x)) == v, ("not the float32 %r to %d digits" % (x, d), s)
            if d > 1:
                assert f32(float("%.*g" % (d - 1, x))) != x, ("not shortest", s)
        elif isinstance(o, dict): [walk(x) for x in o.values()]
        elif isinstance(o, list): [walk(x) for x in o]
    walk(dec.decode(text))

def load_lines(path):
    out = []
    for line in open(path):
        o = json.loads(line)
        check_reals(line, o)
        out.append(o)
    return out

def is_int(v): return type(v) is int
def is_real(v): return type(v) is float or v is None

recs = load_lines("run/metrics.jsonl")
kinds = {r["type"] for r in recs}
want = {"start", "resume", "train", "eval", "checkpoint", "finished", "stopped"}
assert want <= kinds, ("missing kinds", want - kinds)
for r in recs:
    t = r["type"]
    assert is_int(r["step"]) and is_int(r["segment"]), r
    if t in ("start", "resume"):
        for k in ("resumed_from_step", "epoch", "step_in_epoch", "ranks", "batch_size", "global_batch"):
            assert is_int(r[k]), (k, r)
        assert (r["checkpoint"] is None) == (t == "start"), r
        for c in r["changes"]:
            assert all(type(c[k]) is str for k in ("setting", "from", "to", "source")), c
    elif t == "train":
        assert is_int(r["epoch"]), r
        for k in ("loss", "lr", "grad_norm", "tokens_per_s", "comm_share"): assert is_real(r[k]), (k, r)
    elif t == "eval":
        assert is_int(r["epoch"]) and is_int(r["tokens"]), r
        assert type(r["full"]) is bool and type(r["improved"]) is bool, r
        for k in ("val_loss", "val_ppl", "lr"): assert is_real(r[k]), (k, r)
    else:
        assert type(r["detail"]) is str, r
res = [r for r in recs if r["type"] == "resume"]
assert any(c["setting"] == "lr" and c["to"] == "0.003" for c in res[0]["changes"]), res[0]
lrs = {r["lr"] for r in recs if r["type"] == "train"}
assert 0.001 in lrs and 0.003 in lrs, lrs  # written as 0.001, not 0.00100000005

ev = load_lines("eval.json")
assert len(ev) == 1; ev = ev[0]
for k in ("targets",):
    assert is_int(ev["perplexity"]["carried"]["all"][k]), ev["perplexity"]
for k in ("words", "tokens"): assert is_int(ev["generation"][k]), ev["generation"]
for k in ("hyp_words", "ref_words", "songs"): assert is_int(ev["bleu"][k]), ev["bleu"]
assert is_int(ev["genre"]["train_songs"]) and type(ev["genre"]["trained_now"]) is bool, ev["genre"]
assert ev["generation"]["top_p"] == 1.0 and is_real(ev["generation"]["temperature"]), ev["generation"]

ins = load_lines("inspect.json")
assert [o["kind"] for o in ins] == ["shard", "vocab", "checkpoint"], [o.get("kind") for o in ins]
assert all(o["valid"] is True for o in ins), ins
sh, vo, ck = ins
assert is_int(sh["songs"]) and is_int(sh["tokens"]) and is_real(sh["compression_ratio"]), sh
assert all(is_int(v) for v in sh["songs_per_genre"].values()), sh
assert is_int(vo["size"]) and is_int(vo["total_count"]), vo
assert type(ck["optimizer_state"]) is bool and ck["optimizer_state"] is True, ck
assert type(ck["checksum_ok"]) is bool and is_int(ck["params"]) and is_real(ck["val_loss"]), ck

man_text = open("corpus/manifest.json").read()
man = json.loads(man_text); check_reals(man_text, man)
pp = load_lines("pp.json")[0]
for k in ("files", "bytes", "songs_read", "songs_kept", "train_tokens", "val_songs", "oov_tokens"):
    assert is_int(pp[k]), (k, pp)
assert is_real(pp["oov_rate"]) and is_real(pp["wall_s"]), pp

gen = load_lines("gen.json")
assert len(gen) == 1; gen = gen[0]
assert len(gen["songs"]) == 2, gen
for s in gen["songs"]:
    assert is_int(s["words"]) and all(is_int(i) for i in s["ids"]), s
    assert all(is_real(x) for x in s["logprobs"]), s
assert is_int(gen["timing"]["words"]) and is_real(gen["timing"]["seconds"]), gen["timing"]
assert is_int(gen["settings"]["seed"]) and is_real(gen["settings"]["top_p"]), gen["settings"]
bc, bp = load_lines("bench.json")
assert bc["bench"] == "corpus" and bc["out"] == 'syn "q".csv' and is_int(bc["songs"]) and is_int(bc["bytes"]), bc
assert bp["bench"] == "preprocess" and bp["input"] == 'syn "q".csv' and bp["songs"] == 20, bp
assert is_int(bp["tokens"]) and is_real(bp["songs_per_s"]) and is_real(bp["peak_rss_mb"]), bp
bt, bg = load_lines("bench-core.json")
assert bt["bench"] == "train" and all(is_int(bt[k]) for k in ("batch", "vocab", "params", "steps")), bt
assert is_real(bt["tokens_per_s"]) and bt["peak_frac"] is None and bt["fma_peak_gflops"] is None, bt
assert bg["bench"] == "generate" and is_int(bg["tokens"]) and is_int(bg["top_k"]), bg
assert is_real(bg["bw_frac"]) and is_real(bg["triad_gbs"]) and is_real(bg["peak_rss_mb"]), bg
print("json ok:", len(recs), "metrics records")
PY
echo "ok json_outputs"
