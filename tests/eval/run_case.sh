#!/usr/bin/env bash
# End-to-end tests of 'lyricmind generate' and 'lyricmind eval' (ctest runs
# one CASE per test). The 'fixture' case preprocesses a slice of the shared
# corpus (country + rock, V=2000) and trains 60 steps on one rank; the others
# use its checkpoint. Env: LM (binary), SHARED (shared data dir), MPIRUN
# (mpirun plus flags), PY (system python3), WORK (scratch dir).
set -euo pipefail
CASE=$1
. "$(cd "$(dirname "$0")/../lib" && pwd)/cases.sh" # fail, expect_rc, one_line_error
export OPENBLAS_NUM_THREADS=1
DATA=$WORK/corpus
OTHER=$WORK/corpus-rock
SAME=$WORK/corpus-same-vocab
CKPT=$WORK/run/ckpt-000000060.h5
LYRICS=$SHARED/lyrics/nltk-4genre
mkdir -p "$WORK/$CASE" && cd "$WORK/$CASE"

gen() { "$LM" generate --checkpoint "$CKPT" --quiet "$@"; }

case $CASE in
fixture)
  rm -rf "$DATA" "$OTHER" "$SAME" "$WORK/run"
  "$LM" preprocess --force --threads 1 --vocab-size 2000 --out "$DATA" "$LYRICS/country.txt" "$LYRICS/rock.txt" >/dev/null
  "$LM" preprocess --force --threads 1 --vocab-size 2000 --out "$OTHER" "$LYRICS/rock.txt" >/dev/null
  # other data, the same vocabulary: only the classifier's corpus hash tells them apart
  "$LM" preprocess --force --threads 1 --vocab "$DATA/vocab.h5" --out "$SAME" "$LYRICS/rock.txt" >/dev/null
  "$LM" train --data "$DATA" --run "$WORK/run" --max-steps 60 --quiet >/dev/null
  [ -f "$CKPT" ] || fail "no checkpoint"
  ;;
eval_json)
  # every metric present, finite and in range; the classifier is cached
  # beside the checkpoint; progress on stderr, one line per finished phase
  rm -f "$WORK"/run/genre-classifier-*.h5
  expect_rc 0 "$LM" eval --checkpoint "$CKPT" --data "$DATA" --json --samples 8 --per-genre 4
  ls "$WORK"/run/genre-classifier-*.h5 >/dev/null || fail "classifier not saved beside the checkpoint"
  for phase in "perplexity (carried state)" "perplexity (zero-state windows)" "generation" "genre judge training"; do
    grep -q "^eval: $phase done: [0-9]* [a-z]* in " err.txt || { cat err.txt; fail "no progress line for $phase"; }
  done
  "$PY" - out.txt <<'EOF'
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "not one JSON line"
d = json.loads(lines[0])
def fin(x, lo=-math.inf, hi=math.inf):
    assert isinstance(x, (int, float)) and math.isfinite(x) and lo <= x <= hi, x
    return x
p = d["perplexity"]
assert p["val_songs"] > 0 and p["val_tokens"] > p["val_songs"]
for regime in ("carried", "windows"):
    a, k = p[regime]["all"], p[regime]["no_unk"]
    for r in (a, k):
        ce = fin(r["cross_entropy"], 0.1, 20)
        assert abs(fin(r["perplexity"]) - math.exp(ce)) < 1e-6 * math.exp(ce)
    assert 0 < k["targets"] < a["targets"]
assert p["carried"]["all"]["targets"] == p["val_tokens"] - p["val_songs"]
assert p["windows"]["all"]["targets"] == p["val_tokens"] - 1
assert p["windows"]["seq_len"] == 30  # the checkpoint's seq-len
b = d["bleu"]
assert b["songs"] == 8
fin(b["bleu4"], 0, 1); fin(b["brevity_penalty"], 0, 1)
assert len(b["precisions"]) == 4 and all(0 <= fin(x) <= 1 for x in b["precisions"])
assert b["hyp_words"] > 0 and b["ref_words"] > 0 and "Chen & Cherry" in b["smoothing"]
for name in ("generated", "real"):
    s = d[name]
    assert s["songs"] == 8 and s["words"] > 0 and s["lines"] > 0, s
    for f in ("self_bleu4", "distinct1", "distinct2"):
        fin(s[f], 0, 1)
    assert s["distinct1"] > 0 and fin(s["mean_line_words"]) > 0 and fin(s["mean_song_words"]) > 0
    r = s["rhyme"]
    assert r["pairs"] > 0 and 0 <= r["identical"] <= r["rhymes"] <= r["pairs"], r
    assert abs(fin(r["rate"], 0, 1) - r["rhymes"] / r["pairs"]) < 1e-7  # 8 significant digits
fin(d["generated"]["ended_eos"], 0, 1)
g = d["genre"]
assert g["genres"] == ["Rock", "Country"], g["genres"]
assert g["trained_now"] is True and g["train_songs"] > 1000
assert sum(map(sum, g["real_confusion"])) == g["real_songs"] == p["val_songs"]
assert sum(map(sum, g["generated_confusion"])) == g["generated_songs"] == 8
assert [sum(r) for r in g["generated_confusion"]] == [4, 4]
fin(g["real_accuracy"], 0, 1); fin(g["generated_accuracy"], 0, 1); fin(g["majority_baseline"], 0.5, 1)
assert g["real_accuracy"] > g["majority_baseline"], "the judge is no better than the majority class"
gen = d["generation"]
assert gen["words"] > 0 and fin(gen["words_per_s"]) > 0 and abs(gen["temperature"] - 0.8) < 1e-6
EOF
  ;;
eval_table_and_ranks)
  # the table names every metric; 2 ranks give the same figures as 1 (the
  # classifier is now loaded, not trained)
  expect_rc 0 "$LM" eval --checkpoint "$CKPT" --data "$DATA" --samples 6 --per-genre 3
  for s in "carried state" "zero-state windows" "without <unk>" "BLEU-4" "self-BLEU-4" "rhyme consistency" \
           "distinct-1" "distinct-2" "mean line length" "accuracy on real held-out songs" "accuracy on generated"; do
    grep -q -- "$s" out.txt || { cat out.txt; fail "table lacks '$s'"; }
  done
  expect_rc 0 "$LM" eval --checkpoint "$CKPT" --data "$DATA" --json --samples 6 --per-genre 3
  mv out.txt one.json
  expect_rc 0 $MPIRUN -np 2 "$LM" eval --checkpoint "$CKPT" --data "$DATA" --json --samples 6 --per-genre 3
  # only rank 0 shows progress
  [ "$(grep -c '^eval: generation done' err.txt)" = 1 ] || { cat err.txt; fail "progress not from rank 0 alone"; }
  ! grep -q 'genre judge training' err.txt || { cat err.txt; fail "cached classifier retrained"; }
  "$PY" - one.json out.txt <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["ranks"] == 1 and b["ranks"] == 2
assert a["genre"]["trained_now"] is False and b["genre"]["trained_now"] is False
for d in (a, b):
    del d["ranks"]
    for k in ("seconds", "words_per_s"): del d["generation"][k]
def close(x, y, path):
    if isinstance(x, dict):
        assert x.keys() == y.keys(), path
        for k in x: close(x[k], y[k], path + "." + k)
    elif isinstance(x, list):
        assert len(x) == len(y), path
        for i, (u, v) in enumerate(zip(x, y)): close(u, v, "%s[%d]" % (path, i))
    elif isinstance(x, float):
        assert abs(x - y) <= 1e-6 * max(1.0, abs(x)), (path, x, y)
    else:
        assert x == y, (path, x, y)
close(a, b, "")
EOF
  ;;
eval_readonly_data)
  # --data is a read-only copy: eval succeeds, leaves it exactly as it was
  # (root ignores permission bits, so the listing and mtimes are compared too)
  # and caches the classifier beside the checkpoint
  rm -rf ro ck && cp -a "$DATA" ro && mkdir ck && cp "$CKPT" ck/ckpt.h5 && chmod -R a-w ro
  listing() { find ro -printf '%p %s %T@ %m\n' | sort; }
  listing >before.txt
  expect_rc 0 "$LM" eval --checkpoint ck/ckpt.h5 --data ro --json --samples 2 --per-genre 1 --quiet
  listing >after.txt
  cmp before.txt after.txt || { diff before.txt after.txt; fail "eval changed the --data directory"; }
  [ ! -s err.txt ] || { cat err.txt; fail "stderr despite --quiet"; }
  clf=$(ls ck/genre-classifier-*.h5) || fail "no classifier beside the checkpoint"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["genre"]["path"] == sys.argv[2] and d["genre"]["trained_now"], d["genre"]' out.txt "$clf"
  ls ck/*.tmp* 2>/dev/null && fail "temp file left"
  # the same vocabulary on other data: its own default file, no clash
  expect_rc 0 "$LM" eval --checkpoint ck/ckpt.h5 --data "$SAME" --json --samples 2 --per-genre 1 --quiet
  [ "$(ls ck/genre-classifier-*.h5 | wc -l)" = 2 ] || { ls ck; fail "two corpora share a classifier file"; }
  # --classifier PATH is honoured: written there, then loaded
  expect_rc 0 "$LM" eval --checkpoint ck/ckpt.h5 --data ro --json --samples 2 --per-genre 1 --classifier mine.h5
  [ -f mine.h5 ] || fail "--classifier not written"
  grep -q '"trained_now":true' out.txt || fail "--classifier not trained"
  expect_rc 0 "$LM" eval --checkpoint ck/ckpt.h5 --data ro --json --samples 2 --per-genre 1 --classifier mine.h5
  grep -q '"trained_now":false' out.txt || fail "--classifier not loaded"
  # a classifier of other data (same vocabulary) is detected: one note, retrained
  expect_rc 0 "$LM" eval --checkpoint ck/ckpt.h5 --data "$SAME" --json --samples 2 --per-genre 1 --classifier mine.h5
  grep -q '"trained_now":true' out.txt || fail "foreign classifier used"
  [ "$(grep -c 'retraining the genre classifier: .*mine.h5: classifier was trained on other data' err.txt)" = 1 ] ||
    { cat err.txt; fail "no one-line note for a foreign classifier"; }
  chmod -R u+w ro
  ;;
generate_two_genres)
  for g in country Rock; do
    expect_rc 0 gen --genre "$g" --count 2 --max-words 40 --seed 3
    [ "$(grep -c '^---$' out.txt)" = 1 ] || { cat out.txt; fail "--count 2 is not two songs"; }
    grep -q '[a-z]' out.txt || fail "no words for $g"
    ! grep -q '<' out.txt || { cat out.txt; fail "special token shown"; }
    [ "$(grep -v '^---$' out.txt | wc -w)" -le 80 ] || fail "more than --max-words words"
    [ -s err.txt ] && { cat err.txt; fail "unexpected stderr with --quiet"; }
    cp out.txt "$g.txt"
  done
  ! cmp -s country.txt Rock.txt || fail "two genres gave the same songs"
  # without --quiet: one speed line on stderr
  "$LM" generate --checkpoint "$CKPT" --genre rock --max-words 20 2>err.txt >/dev/null
  grep -q 'words/s' err.txt || fail "no speed line"
  ;;
generate_determinism)
  gen --genre rock --seed 7 --max-words 60 >a.txt
  gen --genre rock --seed 7 --max-words 60 >b.txt
  gen --genre rock --seed 8 --max-words 60 >c.txt
  cmp a.txt b.txt || fail "same seed, different output"
  ! cmp -s a.txt c.txt || fail "different seeds, same output"
  # no --genre: the model draws one, still reproducible
  gen --seed 7 --count 3 --max-words 30 >d.txt
  gen --seed 7 --count 3 --max-words 30 >e.txt
  cmp d.txt e.txt || fail "drawn genres are not reproducible"
  ;;
generate_greedy)
  gen --genre country --top-k 1 --seed 1 --max-words 50 >k1.txt
  gen --genre country --temperature 0 --seed 99 --max-words 50 >t0.txt
  gen --genre country --top-k 1 --temperature 2 --top-p 0.5 --seed 5 --max-words 50 >k1b.txt
  cmp k1.txt t0.txt || fail "--top-k 1 differs from --temperature 0"
  cmp k1.txt k1b.txt || fail "--top-k 1 depends on the seed or temperature"
  ;;
generate_exact)
  # The default fp16 output layer tracks the exact fp32 one: greedy songs agree
  # token for token at first and their log-probs differ by < 5e-3 nats.
  gen --genre country --top-k 1 --json --max-words 40 >f16.json
  gen --genre country --top-k 1 --json --max-words 40 --exact >f32.json
  "$PY" - f16.json f32.json <<'EOF'
import json, sys
a, b = (json.load(open(p))["songs"][0] for p in sys.argv[1:3])
n = 0
while n < min(len(a["ids"]), len(b["ids"])) and a["ids"][n] == b["ids"][n]:
    n += 1
assert n >= 10, "fp16 and fp32 greedy songs part after %d tokens" % n
d = max(abs(x - y) for x, y in zip(a["logprobs"][:n], b["logprobs"][:n]))
assert d < 5e-3, "log-probs differ by %g" % d
print("shared prefix %d tokens, max |dlogprob| %.2g" % (n, d))
EOF
  ;;
generate_unknown_genre)
  expect_rc 2 "$LM" generate --checkpoint "$CKPT" --genre polka
  one_line_error "unknown genre 'polka' (this checkpoint knows: Rock, Country)"
  [ ! -s out.txt ] || fail "output despite the error"
  ;;
generate_json)
  expect_rc 0 "$LM" generate --checkpoint "$CKPT" --genre rock --prompt "I walk the line" --json --count 2 \
    --max-words 30 --seed 4
  "$PY" - out.txt <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1
d = json.loads(lines[0])
assert d["genre"] == "Rock" and d["settings"]["seed"] == 4 and len(d["songs"]) == 2
for s in d["songs"]:
    assert len(s["tokens"]) == len(s["logprobs"]) == len(s["ids"])
    assert s["tokens"][:6] == ["<bos>", "<genre:Rock>", "i", "walk", "the", "line"], s["tokens"][:6]
    assert s["logprobs"][0] == 0 and all(lp <= 0 for lp in s["logprobs"])
    assert s["text"].startswith("i walk the line") and "<" not in s["text"]
    assert s["ended"] in ("eos", "max-words", "max-tokens") and 0 < s["words"] <= 30
    assert (s["tokens"][-1] == "<eos>") == (s["ended"] == "eos")
t = d["timing"]
assert t["words_per_s"] > 0 and t["peak_rss_mb"] > 0 and t["model_mb"] > 0 and t["threads"] == 1
EOF
  ;;
generate_prompt_unknown)
  expect_rc 0 "$LM" generate --checkpoint "$CKPT" --genre rock --prompt "Hello QWZXV darkness, my old qwzxv friend" \
    --max-words 10 --seed 2 --quiet
  one_line_error "not in the vocabulary, fed to the model as <unk>: qwzxv"
  head -c 40 out.txt | grep -q '^hello qwzxv darkness my old qwzxv friend' || { cat out.txt; fail "prompt not shown cleaned"; }
  # a trailing newline in the prompt starts a new line
  gen --genre rock --prompt "hello darkness
" --max-words 10 --seed 2 >nl.txt
  [ "$(head -1 nl.txt)" = "hello darkness" ] || { cat nl.txt; fail "trailing newline not kept"; }
  ;;
bad_inputs)
  expect_rc 1 "$LM" generate --checkpoint "$WORK/nope.h5"
  one_line_error "nope.h5"
  expect_rc 2 "$LM" generate --genre rock
  one_line_error "--checkpoint"
  expect_rc 1 "$LM" eval --checkpoint "$CKPT" --data "$OTHER"
  one_line_error "differs from"
  # under mpirun every rank fails alike and only rank 0 says so (mpirun adds its own lines)
  expect_rc 1 $MPIRUN -np 2 "$LM" eval --checkpoint "$CKPT" --data "$OTHER"
  [ "$(grep -c '^lyricmind eval:' err.txt)" = 1 ] && grep -q 'differs from' err.txt || { cat err.txt; fail "not one error line"; }
  expect_rc 1 "$LM" eval --checkpoint "$CKPT" --data "$WORK/no-such-corpus"
  one_line_error "no-such-corpus"
  expect_rc 2 "$LM" eval --checkpoint "$CKPT"
  one_line_error "--data"
  LYRICMIND_PROGRESS=blink expect_rc 1 "$LM" eval --checkpoint "$CKPT" --data "$DATA"
  one_line_error "LYRICMIND_PROGRESS must be auto, bar or lines"
  # a damaged classifier file is retrained, with a note
  printf 'junk' >"$WORK/junk.h5"
  expect_rc 0 "$LM" eval --checkpoint "$CKPT" --data "$DATA" --classifier "$WORK/junk.h5" --samples 2 --per-genre 1
  grep -q "retraining the genre classifier" err.txt || { cat err.txt; fail "no retrain note"; }
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "ok $CASE"
