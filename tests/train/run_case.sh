#!/usr/bin/env bash
# Integration tests of 'lyricmind train' (ctest runs one CASE per test).
# Env: LM (the binary), DATA (small corpus made by the train_corpus fixture),
# OTHER (a corpus with another vocabulary), SHARED (the shared lyrics dir),
# MPIRUN (mpirun plus flags), PY (python3 with h5py), WORK (scratch dir).
set -euo pipefail
CASE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/cases.sh" # fail, expect_rc, one_line_error
CMP="$PY $HERE/compare.py"
export OPENBLAS_NUM_THREADS=1
rm -rf "$WORK/$CASE" && mkdir -p "$WORK/$CASE" && cd "$WORK/$CASE"

# train NP RUN [flags...]: NP ranks with a global batch of 8, quiet.
train() {
  local np=$1 run=$2; shift 2
  $MPIRUN -np "$np" "$LM" train --data "$DATA" --run "$run" --batch-size $((8 / np)) \
    --eval-every 10 --eval-tokens 3000 --quiet "$@"
}
wait_train() { # wait_train RUN N PID: until RUN has N train records (PID must still run)
  for _ in $(seq 1200); do
    [ -f "$1/metrics.jsonl" ] && [ "$(grep -c '"type":"train"' "$1/metrics.jsonl")" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || fail "trainer $3 ended before $2 steps"
    sleep 0.1
  done
  kill -9 "$3"; fail "trainer $3 did not reach $2 steps"
}
last_ckpt_step() { # last_ckpt_step RUN: step of the newest ckpt-N.h5
  local ck; ck=$(ls "$1"/ckpt-*.h5 | tail -1); ck=$(basename "$ck" .h5); echo $((10#${ck#ckpt-}))
}
LONG="--epochs 100000 --max-steps 100000000 --eval-every 100000" # runs until a signal stops them

case $CASE in
ranks_equal)
  # 2 ranks x batch 4 equals 1 rank x batch 8 (dropout off): same data, same sums.
  # (the 2-rank run takes its settings from a job file and checks every step
  # that the ranks' parameters are bitwise identical)
  train 1 r1 --dropout 0 --max-steps 20 >/dev/null
  printf '[train]\ndropout = 0\nmax_steps = 20\n' > job.ini
  train 2 r2 --config job.ini --check-params >/dev/null
  [ "$($CMP field r2 train step | tail -1)" = 20 ] || fail "job file max_steps not applied"
  grep -q '"type":"finished".*peak RSS MB per rank: [0-9]*, [0-9]*"' r2/metrics.jsonl \
    || fail "no per-rank peak RSS in the final event"
  $CMP losses r1 r2 --rtol 1e-5
  $CMP params r1/ckpt-000000020.h5 r2/ckpt-000000020.h5 --atol 1e-5
  ;;
resume_exact_1|resume_exact_2)
  # 2N steps straight vs N, stop, resume, N: bitwise equal losses and parameters
  # (dropout on: masks derive from seed and step, so they repeat too).
  np=${CASE#resume_exact_}
  train "$np" full --max-steps 24 >/dev/null
  train "$np" split --max-steps 12 >/dev/null
  [ -f split/ckpt-000000012.h5 ] || fail "no checkpoint at step 12"
  train "$np" split --max-steps 24 >/dev/null
  grep -q '"type":"resume","step":12' split/metrics.jsonl || fail "second run did not resume at step 12"
  $CMP losses full split --rtol 0
  $CMP params full/ckpt-000000024.h5 split/ckpt-000000024.h5 --atol 0
  ;;
resume_other_threads)
  # A run resumed with another --threads continues bit for bit: the output
  # layer works in fixed groups whatever the thread count (docs/model.md).
  train 1 full --threads 1 --max-steps 24 >/dev/null
  train 1 split --threads 2 --max-steps 12 >/dev/null
  train 1 split --threads 1 --max-steps 24 >/dev/null
  grep -q '"type":"resume","step":12' split/metrics.jsonl || fail "second run did not resume at step 12"
  $CMP losses full split --rtol 0
  $CMP params full/ckpt-000000024.h5 split/ckpt-000000024.h5 --atol 0
  ;;
resume_other_ranks)
  # Same global batch on another rank count continues the same data order:
  # 2x4 for 12 steps, resumed as 1x8, tracks the uninterrupted 2x4 run.
  train 2 full --dropout 0 --max-steps 24 >/dev/null
  train 2 split --dropout 0 --max-steps 12 >/dev/null
  train 1 split --dropout 0 --max-steps 24 >/dev/null
  $CMP losses full split --rtol 1e-4
  $CMP params full/ckpt-000000024.h5 split/ckpt-000000024.h5 --atol 1e-4
  ;;
early_stop_plateau)
  # With a vanishing LR the validation loss stalls: the plateau schedule must
  # lower the LR after each stalled evaluation and early stopping must end the run.
  train 2 r --lr 1e-6 --min-lr 1e-9 --plateau-patience 0 --patience 3 --eval-every 5 --max-steps 200 >/dev/null
  grep -q '"type":"finished".*early stopping' r/metrics.jsonl || fail "no early stop"
  steps=$($CMP field r train step | tail -1)
  [ "$steps" -lt 200 ] || fail "ran all $steps steps"
  lrs=$($CMP field r eval lr | tr '\n' ' ')
  $PY -c "import sys; l=[float(x) for x in '$lrs'.split()]; sys.exit(0 if l[-1] < l[0] * 0.2 else 1)" \
    || fail "LR was not lowered: $lrs"
  ;;
signal_single|signal_mpirun)
  # SIGUSR1 (single process) or SIGTERM (one rank of two) mid-run: a valid
  # checkpoint, exit code 75, and a resume continues from it.
  if [ "$CASE" = signal_single ]; then
    "$LM" train --data "$DATA" --run r --quiet --epochs 100000 --max-steps 100000000 --eval-every 100000 >out.txt 2>&1 &
    pid=$!; target=$pid; sig=USR1
  else
    $MPIRUN -np 2 "$LM" train --data "$DATA" --run r --batch-size 4 --quiet --epochs 100000 --max-steps 100000000 \
      --eval-every 100000 >out.txt 2>&1 &
    pid=$!; sig=TERM
  fi
  for _ in $(seq 600); do [ -f r/metrics.jsonl ] && [ "$(grep -c train r/metrics.jsonl)" -ge 5 ] && break; sleep 0.1; done
  [ -f r/metrics.jsonl ] || { kill -9 $pid; fail "training did not start"; }
  if [ "$CASE" = signal_mpirun ]; then
    target=$(pgrep -P "$pid" -f "lyricmind train" | tail -1)
    [ -n "$target" ] || { kill -9 $pid; fail "no rank process found under mpirun $pid"; }
  fi
  kill -$sig "$target"
  set +e; wait $pid; rc=$?; set -e
  [ "$rc" = 75 ] || { cat out.txt; fail "exit $rc, expected 75"; }
  grep -q '"type":"stopped"' r/metrics.jsonl || fail "no stopped event"
  ck=$(ls r/ckpt-*.h5 | tail -1)
  "$LM" inspect "$ck" >/dev/null || fail "checkpoint $ck is not valid"
  step=$(basename "$ck" .h5); step=$((10#${step#ckpt-}))
  "$LM" train --data "$DATA" --run r --quiet --max-steps $((step + 3)) >/dev/null
  grep -q "\"type\":\"resume\",\"step\":$step" r/metrics.jsonl || fail "no resume from step $step"
  ;;
bad_inputs)
  train 1 good --max-steps 10 >/dev/null
  ck=good/ckpt-000000010.h5
  # corrupt a byte inside the parameters: checksum error, nothing overwritten
  cp $ck corrupt.h5
  $PY - <<'PY'
import h5py, numpy as np
with h5py.File("corrupt.h5", "r") as f:
    off = f["model/fc.weight"].id.get_offset()
assert off is not None, "fc.weight is not contiguous"
with open("corrupt.h5", "r+b") as f:
    f.seek(off + 1000); b = f.read(1); f.seek(off + 1000); f.write(bytes([b[0] ^ 0x40]))
PY
  before=$(md5sum corrupt.h5)
  expect_rc 1 "$LM" train --data "$DATA" --run r_corrupt --resume corrupt.h5 --quiet --max-steps 20
  one_line_error corrupt.h5
  [ "$(md5sum corrupt.h5)" = "$before" ] || fail "corrupt checkpoint was modified"
  [ ! -e r_corrupt/ckpt-000000020.h5 ] || fail "a run went ahead from a corrupt checkpoint"
  # truncated
  head -c 100000 $ck > trunc.h5
  expect_rc 1 "$LM" train --data "$DATA" --run r_trunc --resume trunc.h5 --quiet --max-steps 20
  one_line_error trunc.h5
  # from other data (another vocabulary): the data must match, so exit 2
  expect_rc 2 "$LM" train --data "$OTHER" --run good --quiet --max-steps 20
  one_line_error 'another vocabulary'
  [ "$(ls good/ckpt-*.h5)" = "$ck" ] || fail "run directory changed"
  # missing data dir, bad flags, bad job file
  expect_rc 1 "$LM" train --data /nonexistent/corpus --run r_missing --quiet
  one_line_error /nonexistent/corpus
  expect_rc 2 "$LM" train --data "$DATA" --run r --batch-size 0
  one_line_error batch-size
  printf '[train]\nepochs = 2\nbatchsize = 3\n' > job.ini
  expect_rc 2 "$LM" train --data "$DATA" --run r --config job.ini
  one_line_error 'job.ini:3'
  # a malformed environment setting
  LYRICMIND_PROGRESS=blink expect_rc 1 "$LM" train --data "$DATA" --run r_env --quiet --max-steps 2
  one_line_error LYRICMIND_PROGRESS
  # --resume none refuses a run directory with checkpoints
  expect_rc 1 "$LM" train --data "$DATA" --run good --resume none --quiet
  one_line_error 'already has checkpoints'
  ;;
not_a_corpus)
  # --data on a raw lyrics folder (no vocab.h5), on a file and on nothing: one
  # line that says to run preprocess, no run directory left behind; eval too.
  mkdir raw && echo "my lyrics" > raw/song.txt
  expect_rc 1 "$LM" train --data raw --run r_raw --quiet
  one_line_error "raw is not a corpus directory (no vocab.h5): run 'lyricmind preprocess --out CORPUS raw' first, then pass --data CORPUS"
  [ ! -e r_raw ] || fail "train made a run directory for a raw folder"
  train 1 good --max-steps 2 >/dev/null
  expect_rc 1 "$LM" eval --data raw --checkpoint good/ckpt-000000002.h5 --quiet
  one_line_error "raw is not a corpus directory (no vocab.h5): run 'lyricmind preprocess"
  echo x > file.txt
  expect_rc 1 "$LM" train --data file.txt --run r_file --quiet
  one_line_error "file.txt is not a directory (--data takes a corpus directory made by 'lyricmind preprocess"
  expect_rc 1 "$LM" train --data nowhere --run r_none --quiet
  one_line_error "nowhere: No such file or directory (--data takes a corpus directory"
  ;;
reset_cosine_keep)
  # --state reset, a cosine schedule with warmup, --checkpoint-every and
  # --keep: LRs follow the schedule, only the last 2 step checkpoints stay, and
  # resume is bitwise exact in reset mode too.
  flags="--state reset --lr-schedule cosine --warmup-steps 5 --min-lr 0 --checkpoint-every 5 --keep 2"
  train 2 full $flags --epochs 1 --max-steps 20 >full.out
  spe=$(sed -n 's/^\([0-9]*\) steps per epoch.*/\1/p' full.out)
  [ -n "$spe" ] || { cat full.out; fail "no steps-per-epoch line"; }
  [ "$(cd full && ls ckpt-*.h5 | tr '\n' ' ')" = "ckpt-000000015.h5 ckpt-000000020.h5 " ] \
    || fail "kept: $(ls full)"
  lrs=$($CMP field full train lr | tr '\n' ' ')
  $PY -c "
import math, sys
l = [float(x) for x in '$lrs'.split()]
total = $spe  # the cosine horizon: epochs (1) x steps per epoch, not --max-steps
want = [1e-3 * (s + 1) / 5 if s < 5 else 1e-3 * (1 + math.cos(math.pi * (s - 5) / (total - 5))) / 2 for s in range(20)]
bad = [(s, a, b) for s, (a, b) in enumerate(zip(l, want)) if abs(a - b) > 1e-6 * 1e-3 + 1e-6 * b]
sys.exit('LR off schedule: %s' % bad[:3] if bad or len(l) != 20 else 0)" || fail "cosine schedule"
  train 2 split $flags --epochs 1 --max-steps 10 >/dev/null
  train 2 split $flags --epochs 1 --max-steps 20 >/dev/null
  $CMP losses full split --rtol 0
  $CMP params full/ckpt-000000020.h5 split/ckpt-000000020.h5 --atol 0
  ;;
time_limit)
  # --time-limit checkpoints and stops cleanly (exit 0) long before --max-steps.
  train 1 r --time-limit 0.03 --epochs 100000 --max-steps 100000000 --eval-every 1000000 >/dev/null
  grep -q '"type":"finished".*time limit' r/metrics.jsonl || fail "no time-limit finish"
  ls r/ckpt-*.h5 >/dev/null || fail "no checkpoint"
  "$LM" inspect "$(ls r/ckpt-*.h5 | tail -1)" >/dev/null || fail "invalid checkpoint"
  ;;
progress_lines)
  # mpirun gives ranks a pty: progress must still come as lines (no \r bar,
  # no ESC[K), because that output usually ends in a log file.
  script -qc "$MPIRUN -np 1 $LM train --data $DATA --run r --max-steps 40 --eval-every 20 --log-seconds 0.1" \
    /dev/null > log.txt
  grep -q "step 40/40" log.txt || { cat log.txt; fail "no progress lines"; }
  ! grep -q $'\033\[K' log.txt || fail "terminal escape codes in the log"
  # grad-norm and ms/step are on every progress line; a validation adds
  # nothing but its result line (no progress of its own in a log)
  n=$(grep -c '^epoch 1/5  step [0-9]*/40 ' log.txt)
  [ "$n" -ge 2 ] || { cat log.txt; fail "too few progress lines"; }
  [ "$(grep -cE '^epoch .*  grad-norm [0-9.e+-]+  [0-9]+\.[0-9] ms/step  [0-9]+ tok/s ' log.txt)" = "$n" ] \
    || { cat log.txt; fail "progress lines without grad-norm and ms/step"; }
  [ "$(grep -v '^finished at' log.txt | grep -c 'validation')" = 2 ] || { cat log.txt; fail "validation lines: not one per validation"; }
  ;;
progress_tty)
  # On a terminal (a pty, no launcher) a validation inside train shows its
  # own redrawn progress line, then its result line replaces it.
  script -qc "$LM train --data $DATA --run r --max-steps 20 --eval-every 10 --eval-tokens 3000" /dev/null > tty.txt
  grep -q $'\r\033\[Ktrain: validation 0/[0-9]* steps (0.0%)  ETA' tty.txt \
    || { cat -v tty.txt; fail "no validation progress on the terminal"; }
  [ "$(grep -c $'\033\[Kstep [0-9]*: validation loss' tty.txt)" = 2 ] \
    || { cat -v tty.txt; fail "the validation result does not replace its progress line"; }
  # (a step line starts a fresh line after a validation's result, else it
  # redraws the live one; on a fast host 20 steps may draw only the last)
  grep -qE $'(^|\r\033\[K)epoch 1/5  step [0-9]*/20 .* grad-norm [0-9.e+-]*  [0-9.]* ms/step' tty.txt \
    || { cat -v tty.txt; fail "no redrawn step line with grad-norm and ms/step"; }
  # --quiet: neither
  script -qc "$LM train --data $DATA --run q --max-steps 20 --eval-every 10 --eval-tokens 3000 --quiet" /dev/null > q.txt
  ! grep -q 'train: validation\|ms/step' q.txt || { cat -v q.txt; fail "--quiet printed progress"; }
  ;;
banner)
  # The start-up banner: world shape, corpus, model size, then only the
  # settings that differ from the defaults, floats as written; --verbose
  # lists all of them. (threads 1 x ranks 2 = 2 cores)
  $MPIRUN -np 2 "$LM" train --data "$DATA" --run r --batch-size 4 --lr 0.01 --dropout 0.25 --min-lr 1e-5 \
    --max-steps 2 --checkpoint-minutes 2.5 >out.txt
  counts=$($PY -c "
import json, sys
m = json.load(open(sys.argv[1]))
s = next(v for v in m.values() if isinstance(v, dict) and 'train_songs' in v)
print('%d train / %d val songs, %d train / %d val tokens' % tuple(s[k] for k in ('train_songs', 'val_songs', 'train_tokens', 'val_tokens')))" "$DATA/manifest.json")
  grep -qx 'lyricmind train: 2 ranks x 1 thread, batch 4 per rank = global batch 8 streams x 30 tokens' out.txt \
    || { cat out.txt; fail "no world-shape line"; }
  grep -qxF "corpus: $DATA: $counts, V=2000" out.txt \
    || { cat out.txt; fail "no corpus line"; }
  grep -qx 'model: E=64 H=128, 484816 parameters (1.8 MB)' out.txt || { cat out.txt; fail "no model line"; }
  got=$(sed -n '/^settings that differ from the defaults (--verbose: all):$/,/^[^ ]/p' out.txt | grep '^  ')
  want=$(printf '  batch-size = 4\n  lr = 0.01\n  dropout = 0.25\n  checkpoint-minutes = 2.5\n  max-steps = 2')
  [ "$got" = "$want" ] || { cat out.txt; fail "non-default settings: got '$got'"; }
  # --verbose: every setting, in the flag table's order, defaults included
  "$LM" train --data "$DATA" --run v --max-steps 2 --verbose >vout.txt
  "$LM" train --help | sed -n 's/^  --\([a-z-]*\).*/\1/p' | grep -vx 'help\|config' >flags.txt
  sed -n '/^settings:$/,/^[^ ]/p' vout.txt | sed -n 's/^  \([a-z-]*\) = .*/\1/p' >shown.txt
  diff flags.txt shown.txt || fail "--verbose does not list every setting"
  for l in '  lr = 0.001' '  min-lr = 1e-05' '  dropout = 0.3' '  checkpoint-minutes = 10' '  verbose = true'; do
    grep -qxF -- "$l" vout.txt || { cat vout.txt; fail "--verbose lacks '$l'"; }
  done
  # nothing but defaults: says so
  "$LM" train --data "$DATA" --run d >dout.txt 2>&1 &
  pid=$!
  wait_train d 1 $pid
  kill -TERM $pid; wait $pid || true
  grep -A1 -x 'settings that differ from the defaults (--verbose: all):' dout.txt | grep -qx '  (none)' \
    || { cat dout.txt; fail "no '(none)' for an all-defaults run"; }
  ;;
config_ini)
  # RUN/config.ini: the effective settings as a [train] job file, written
  # at every start (after a resume took the checkpoint's), that --config
  # reads back to the same settings.
  train 1 r --lr 0.01 --dropout 0.25 --min-lr 2.5e-7 --clip 0.5 --max-steps 4 >/dev/null
  [ -f r/config.ini ] || fail "no r/config.ini"
  grep -qx '\[train\]' r/config.ini || fail "no [train] section"
  for l in 'lr = 0.01' 'dropout = 0.25' 'min-lr = 2.5e-07' 'clip = 0.5' 'max-steps = 4' 'checkpoint-minutes = 10' \
           "data = $DATA" 'run = r' 'quiet = true'; do
    grep -qxF -- "$l" r/config.ini || { cat r/config.ini; fail "config.ini lacks '$l'"; }
  done
  ! grep -q '^config =\|^resume =' r/config.ini || fail "config.ini names the job file or the resume"
  ! ls r/config.ini.tmp* 2>/dev/null || fail "temp file left"
  # the job file alone gives the same settings (another run directory)
  "$LM" train --config r/config.ini --run r2 >/dev/null
  [ "$($CMP field r2 train step | tail -1)" = 4 ] || fail "config.ini's max-steps not applied"
  diff <(sed 's/^run = .*//; /^#/d' r/config.ini) <(sed 's/^run = .*//; /^#/d' r2/config.ini) \
    || fail "train --config r/config.ini ran with other settings"
  $CMP losses r r2 --rtol 0
  # rewritten at every start with the values in use (a resume's change)
  train 1 r --max-steps 6 --lr 0.02 >/dev/null
  grep -qx 'lr = 0.02' r/config.ini && grep -qx 'max-steps = 6' r/config.ini && grep -qx 'dropout = 0.25' r/config.ini \
    || { cat r/config.ini; fail "config.ini not rewritten on resume"; }
  grep -qx '# (this one at step 4). A job file: lyricmind train --config r/config.ini' r/config.ini \
    || { cat r/config.ini; fail "header does not name the start step"; }
  ;;
shared_short)
  # A real short run on the shared corpus: validation loss falls well below ln(V).
  "$LM" preprocess --out corpus --threads 2 --vocab-size 10000 "$SHARED/lyrics" >/dev/null
  $MPIRUN -np 2 "$LM" train --data corpus --run r --batch-size 8 --max-steps 300 --eval-every 100 \
    --eval-tokens 20000 --quiet >/dev/null
  V=$($PY -c "import h5py; print(h5py.File('corpus/vocab.h5')['tokens'].shape[0])")
  last=$($CMP field r eval val_loss | tail -1)
  $PY -c "import math,sys; v=$V; l=$last; print('V=%d ln(V)=%.2f val_loss=%.3f' % (v, math.log(v), l)); sys.exit(0 if l < 0.7*math.log(v) else 1)" \
    || fail "validation loss $last not well below ln(V)"
  ;;
resume_changes)
  # A resume applies the settings the user gives (flag or job file), one line
  # each, and really uses them; unset ones keep the checkpoint's; settings
  # that must match are refused with exit 2 naming both values.
  train 1 r --max-steps 12 --plateau-patience 1000 >/dev/null  # the LR stays as given
  train 1 r --max-steps 24 --lr 0.01 --quiet=false >out.txt
  grep -qxF 'lr: 0.001 (checkpoint) -> 0.01 (command line)' out.txt || { cat out.txt; fail "no lr change line"; }
  grep -qxF 'max-steps: 12 (checkpoint) -> 24 (command line)' out.txt || fail "no max-steps change line"
  grep -qxF '  lr = 0.01' out.txt || fail "the printed settings do not show the lr used"
  printf '[train]\nlr = 0.005\nmax_steps = 36\n' > job.ini
  train 1 r --config job.ini >out2.txt
  grep -qxF 'lr: 0.01 (checkpoint) -> 0.005 (job file job.ini)' out2.txt || { cat out2.txt; fail "no job-file lr line"; }
  # given equal to the default but not to the checkpoint: a change too
  train 1 r --max-steps 40 --lr 0.001 >out3.txt
  grep -qxF 'lr: 0.005 (checkpoint) -> 0.001 (command line)' out3.txt || { cat out3.txt; fail "explicit default lr ignored"; }
  $PY - r/metrics.jsonl <<'PY'
import json, sys
want = lambda s: 1e-3 if s <= 12 else 1e-2 if s <= 24 else 5e-3 if s <= 36 else 1e-3
recs = [json.loads(l) for l in open(sys.argv[1])]
bad = [(r["step"], r["lr"]) for r in recs if r["type"] == "train" and abs(r["lr"] - want(r["step"])) > 1e-6 * want(r["step"])]
assert not bad, "lr used differs from the one given: %s" % bad[:4]
assert [r["step"] for r in recs if r["type"] == "train"] == list(range(1, 41)), "steps"
PY
  # nothing given: resumes unchanged (no change lines, the checkpoint's max-steps 40 holds)
  "$LM" train --data "$DATA" --run r >plain.txt
  ! grep -q '(checkpoint) ->' plain.txt || { cat plain.txt; fail "a plain resume changed settings"; }
  [ "$($CMP field r train step | tail -1)" = 40 ] || fail "a plain resume trained on"
  $PY -c "
import json
s = [json.loads(l) for l in open('r/metrics.jsonl') if l.startswith('{\"type\":\"resume\"')][-1]
assert s['step'] == 40 and s['changes'] == [], s"
  # must match: exit 2, one line naming the setting and both values
  ck=$(ls r/ckpt-*.h5 | tail -1)
  before=$(md5sum r/ckpt-*.h5 r/metrics.jsonl)
  expect_rc 2 "$LM" train --data "$DATA" --run r --hidden 64
  one_line_error '--hidden 64 (command line) does not match the checkpoint.s 128'
  expect_rc 2 "$LM" train --data "$DATA" --run r --seq-len 20
  one_line_error '--seq-len 20 (command line) does not match the checkpoint.s 30'
  expect_rc 2 "$LM" train --data "$DATA" --run r --seed 7
  one_line_error '--seed 7 (command line) does not match the checkpoint.s 1234'
  expect_rc 2 "$LM" train --data "$DATA" --run r --lr-schedule cosine
  one_line_error '--lr-schedule cosine (command line) does not match the checkpoint.s plateau'
  expect_rc 2 "$LM" train --data "$DATA" --run r --batch-size 4
  one_line_error 'global batch 4 does not match the checkpoint.s global batch 8'
  printf '[train]\nstate = reset\n' > job2.ini
  expect_rc 2 "$LM" train --data "$DATA" --run r --config job2.ini
  one_line_error '--state reset (job file job2.ini) does not match the checkpoint.s carry'
  [ "$(md5sum r/ckpt-*.h5 r/metrics.jsonl)" = "$before" ] || fail "a refused resume changed the run"
  ;;
resume_corpus)
  # The corpus is fingerprinted: the same vocabulary re-preprocessed with
  # fewer songs is refused with one line (exit 2); the same corpus rebuilt
  # identically is accepted.
  train 1 r --max-steps 10 >/dev/null
  "$LM" preprocess --threads 1 --vocab "$DATA/vocab.h5" --min-words 100 --out fewer \
    "$SHARED/lyrics/nltk-4genre/country.txt" >/dev/null
  "$LM" preprocess --threads 1 --vocab "$DATA/vocab.h5" --out same "$SHARED/lyrics/nltk-4genre/country.txt" >/dev/null
  expect_rc 2 "$LM" train --data fewer --run r --max-steps 20
  one_line_error 'is not the corpus this run was trained on: its train split has [0-9]* songs'
  [ ! -e r/ckpt-000000020.h5 ] || fail "trained on a changed corpus"
  "$LM" train --data same --run r --max-steps 20 >/dev/null || fail "the same corpus rebuilt was refused"
  ;;
resume_history)
  # metrics.jsonl tells the whole history: a start record per start (step,
  # ranks, changes), a segment on every record, and the records a resume from
  # an earlier checkpoint superseded are the documented ones; what is left is
  # exactly one uninterrupted run. Epochs are numbered alike on the console
  # and in the file.
  train 1 straight --max-steps 25 --quiet=false --log-seconds 0.1 >straight.txt
  train 1 h --max-steps 20 --checkpoint-every 10 --keep 5 >/dev/null
  train 2 h --max-steps 30 >/dev/null
  train 1 h --resume h/ckpt-000000010.h5 --max-steps 25 >/dev/null
  $PY - h/metrics.jsonl straight/metrics.jsonl straight.txt <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
starts = [r for r in recs if r["type"] in ("start", "resume")]
assert [(s["type"], s["segment"], s["resumed_from_step"], s["ranks"]) for s in starts] == \
    [("start", 1, 0, 1), ("resume", 2, 20, 2), ("resume", 3, 10, 1)], starts
assert all("segment" in r for r in recs), "a record without a segment"
ch = {c["setting"]: (c["from"], c["to"], c["source"]) for c in starts[1]["changes"]}
assert ch == {"batch-size": ("8", "4", "command line"), "max-steps": ("20", "30", "command line")}, ch
assert starts[2]["checkpoint"].endswith("ckpt-000000010.h5"), starts[2]
# docs/training.md: a record is superseded when a start record of a later
# segment has resumed_from_step < its step
live = [r for r in recs if not any(s["segment"] > r["segment"] and r["step"] > s["resumed_from_step"] for s in starts)]
train = [r for r in live if r["type"] == "train"]
assert [r["step"] for r in train] == list(range(1, 26)), [r["step"] for r in train]
assert all(r["segment"] == (1 if r["step"] <= 10 else 3) for r in train)
ref = {r["step"]: r for r in map(json.loads, open(sys.argv[2])) if r["type"] == "train"}
diff = [r["step"] for r in train if r["loss"] != ref[r["step"]]["loss"] or r["epoch"] != ref[r["step"]]["epoch"]]
assert not diff, "kept history differs from the uninterrupted run at steps %s" % diff
# one numbering of epochs: the console's 'epoch E/N  step S/..' matches the file
con = [(int(e), int(s)) for e, s in re.findall(r"epoch (\d+)/\d+  step (\d+)/", open(sys.argv[3]).read())]
assert con and all(ref[s]["epoch"] == e == 1 for e, s in con), con
print("OK: %d records, %d superseded" % (len(recs), len(recs) - len(live)))
PY
  ;;
resume_legacy)
  # A checkpoint from before corpus fingerprints (no /state/corpus.*) still
  # resumes, with a one-line warning; its successor has a fingerprint. And a
  # resume on 2 ranks without --batch-size keeps the global batch.
  train 1 r --max-steps 10 >/dev/null
  cp r/ckpt-000000010.h5 legacy.h5
  $PY - legacy.h5 <<'PY'
import sys, h5py, numpy as np
codes = {np.dtype("<i8"): 0, np.dtype("<u8"): 1, np.dtype("<f4"): 2, np.dtype("<f8"): 3}
def fnv(h, b):
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h
with h5py.File(sys.argv[1], "r+") as f:
    st = f["state"]
    for n in ("corpus.fingerprint", "corpus.train", "corpus.val"):
        del st[n]
    h = 0xcbf29ce484222325
    for n in sorted(st.keys()):  # docs/formats.md: the /state checksum
        a = np.asarray(st[n][()])
        h = fnv(h, n.encode() + b"\0" + bytes([codes[a.dtype], a.ndim]))
        h = fnv(h, np.asarray(a.shape, "<u8").tobytes() + np.ascontiguousarray(a).tobytes())
    st.attrs["checksum"] = np.uint64(h)
PY
  "$LM" inspect legacy.h5 >/dev/null || fail "the legacy checkpoint is not valid"
  $MPIRUN -np 2 "$LM" train --data "$DATA" --run r2 --resume legacy.h5 --max-steps 12 >out.txt 2>err.txt \
    || { cat out.txt err.txt; fail "a checkpoint without a fingerprint was refused"; }
  grep -q "warning: legacy.h5 has no corpus fingerprint" err.txt || { cat err.txt; fail "no warning"; }
  grep -qxF 'batch-size: 8 (checkpoint) -> 4 (ranks)' out.txt || { cat out.txt; fail "no derived batch-size line"; }
  $PY -c "import h5py; assert 'corpus.fingerprint' in h5py.File('r2/ckpt-000000012.h5')['state']"
  ;;
resume_doc)
  # docs/training.md lists every train flag under the class the code's table
  # gives it (as printed by --help), and the table covers every flag.
  "$LM" train --help >help.txt
  $PY - help.txt "$HERE/../../docs/training.md" <<'PY'
import re, sys
help_text, doc_text = open(sys.argv[1]).read(), open(sys.argv[2]).read()
flags = [f for f in re.findall(r"^  --([a-z-]+)", help_text, re.M) if f != "help"]
def lists(text, heads, indent, name_re):
    lines, out = text.split("\n"), {}
    for key, head in heads.items():
        at = [i for i, l in enumerate(lines) if l.startswith(head)]
        assert len(at) == 1, "'%s' found %d times" % (head, len(at))
        i = at[0]
        chunk = lines[i][len(head):]
        while i + 1 < len(lines) and lines[i + 1].startswith(indent) and lines[i + 1].strip():
            i += 1
            chunk += " " + lines[i]
        for name in re.findall(name_re, chunk):
            assert name not in out, "%s listed twice" % name
            out[name] = key
    return out
code = lists(help_text, {"change": "  may change (applied, one line each):", "match": "  must match (else exit 2):",
                         "none": "  not compared:"}, "   ", r"[a-z][a-z-]+")
assert "unclassified:" not in help_text, "flags missing from the table:" + help_text.split("unclassified:")[1]
doc = lists(doc_text, {"change": "- **May change:**", "match": "- **Must match:**", "none": "- **Not compared:**"},
            "  ", r"`([a-z][a-z-]+)`")
assert sorted(code) == sorted(flags), "table vs flags: %s" % (set(code) ^ set(flags))
bad = {f: (code.get(f), doc.get(f)) for f in set(flags) | set(doc) if code.get(f) != doc.get(f)}
assert not bad, "docs/training.md disagrees with the table (code, doc): %s" % bad
print("OK: %d flags classified alike in the table and the docs" % len(flags))
PY
  ;;
run_lock)
  # One trainer per run directory. A second train on a live run exits 1 at
  # once naming the holder (also under mpirun, where rank 0 decides for all);
  # the first one is unharmed (one train record per step, in order).
  "$LM" train --data "$DATA" --run r --quiet $LONG >first.txt 2>&1 &
  pid=$!
  wait_train r 3 $pid
  expect_rc 1 timeout 60 "$LM" train --data "$DATA" --run r --quiet --max-steps 5
  one_line_error "run directory is in use by another trainer (host $(hostname) pid $pid started 20"
  expect_rc 1 timeout 120 $MPIRUN -np 2 "$LM" train --data "$DATA" --run r --batch-size 4 --quiet --max-steps 5
  grep -q "in use by another trainer (host $(hostname) pid $pid " err.txt || { cat err.txt; fail "mpirun: holder not named"; }
  kill -TERM $pid
  set +e; wait $pid; rc=$?; set -e
  [ "$rc" = 75 ] || { cat first.txt; fail "first trainer exit $rc"; }
  step=$(last_ckpt_step r)
  [ "$($CMP field r train step | tr '\n' ' ')" = "$(seq -s ' ' 1 "$step") " ] \
    || fail "train records are not one per step in order: $($CMP field r train step | tr '\n' ' ')"
  [ ! -e r/.lock ] || fail "lock file left after the trainer ended"
  # The lock file of a SIGKILLed trainer stays but does not block the next one.
  "$LM" train --data "$DATA" --run r --quiet $LONG >/dev/null 2>&1 &
  pid=$!
  wait_train r $((step + 2)) $pid
  kill -KILL $pid
  wait $pid || true
  grep -q "pid $pid " r/.lock || fail "the killed trainer left no lock file naming it"
  expect_rc 0 timeout 120 "$LM" train --data "$DATA" --run r --quiet --max-steps $((step + 2))
  [ ! -e r/.lock ] || fail "lock file left after the trainer ended"
  # A lock held by another process names the holder its file records;
  # LYRICMIND_RUN_LOCK=off trains without the lock; other values are refused.
  mkdir h && echo "host elsewhere pid 4242 started 2026-01-01T00:00:00Z" > h/.lock
  $PY -c "import fcntl, time; f = open('h/.lock', 'a'); fcntl.flock(f, fcntl.LOCK_EX); open('held', 'w').close(); time.sleep(300)" &
  holder=$!
  for _ in $(seq 100); do [ -e held ] && break; sleep 0.1; done
  expect_rc 1 "$LM" train --data "$DATA" --run h --quiet --max-steps 2
  one_line_error "in use by another trainer (host elsewhere pid 4242 started 2026-01-01T00:00:00Z)"
  LYRICMIND_RUN_LOCK=off expect_rc 0 "$LM" train --data "$DATA" --run h --quiet --max-steps 2
  LYRICMIND_RUN_LOCK=maybe expect_rc 1 "$LM" train --data "$DATA" --run h --quiet --max-steps 2
  one_line_error LYRICMIND_RUN_LOCK
  kill $holder; wait $holder || true
  ;;
signal_sigint)
  # Ctrl-C (SIGINT) on a single-process train acts like SIGTERM: checkpoint,
  # one line saying how to resume, exit 75; the resumed run continues exactly
  # (its losses and parameters are bitwise those of an uninterrupted run).
  "$LM" train --data "$DATA" --run r --quiet $LONG >out.txt 2>&1 &
  pid=$!
  wait_train r 5 $pid
  kill -INT $pid
  set +e; wait $pid; rc=$?; set -e
  [ "$rc" = 75 ] || { cat out.txt; fail "exit $rc, expected 75"; }
  step=$(last_ckpt_step r)
  ck=r/ckpt-$(printf %09d "$step").h5
  "$LM" inspect "$ck" >/dev/null || fail "checkpoint $ck is not valid"
  [ "$(grep -c "^stopped at step $step: SIGINT received; checkpoint $ck written; resume with the same command" out.txt)" = 1 ] \
    || { cat out.txt; fail "no line saying how to resume"; }
  grep -q "^lyricmind train: SIGINT: stopping with a checkpoint after this step; press Ctrl-C again to quit at once$" out.txt \
    || { cat out.txt; fail "no note when SIGINT arrived"; }
  end=$((step + 5))
  "$LM" train --data "$DATA" --run r --quiet --epochs 100000 --max-steps $end --eval-every 100000 >/dev/null
  "$LM" train --data "$DATA" --run full --quiet --epochs 100000 --max-steps $end --eval-every 100000 >/dev/null
  grep -q "\"type\":\"resume\",\"step\":$step" r/metrics.jsonl || fail "no resume from step $step"
  $CMP losses full r --rtol 0
  $CMP params full/ckpt-$(printf %09d $end).h5 r/ckpt-$(printf %09d $end).h5 --atol 0
  ;;
sigint_twice)
  # A second SIGINT ends the process at once (killed by SIGINT, no
  # checkpoint). Long steps (a bigger model) keep the first one pending.
  "$LM" train --data "$DATA" --run r --quiet $LONG --hidden 512 --embed 256 --batch-size 32 --seq-len 64 \
    >out.txt 2>&1 &
  pid=$!
  wait_train r 1 $pid
  caught() { [ $((0x$(awk '/^SigCgt/ {print $2}' /proc/$pid/status) & 2)) != 0 ]; } # SIGINT has a handler
  caught || { kill -9 $pid; fail "SIGINT is not handled"; }
  kill -INT $pid
  # the first was delivered once SIGINT is no longer caught (SA_RESETHAND)
  for _ in $(seq 500); do caught || break; sleep 0.01; done
  ! caught || { kill -9 $pid; fail "the first SIGINT did not reset its handler"; }
  kill -0 $pid || fail "the first SIGINT ended the process"
  kill -INT $pid
  set +e; wait $pid; rc=$?; set -e
  [ "$rc" = 130 ] || { cat out.txt; fail "exit $rc, expected 130 (killed by the second SIGINT)"; }
  ! grep -q '"type":"stopped"' r/metrics.jsonl || fail "a stopped event after the second SIGINT"
  ;;
mpirun_signals)
  # A signal to mpirun itself (Open MPI 4.1, docs/training.md): SIGUSR1 is
  # forwarded to the ranks: checkpoint, mpirun exits 75. SIGTERM and SIGINT
  # (Ctrl-C) make mpirun send the ranks SIGTERM odls_base_sigkill_timeout
  # seconds later (then SIGKILL): the ranks write a checkpoint in that time,
  # but mpirun itself exits 1.
  for sig in USR1 TERM INT; do
    rm -rf r
    $MPIRUN --mca odls_base_sigkill_timeout 10 -np 2 "$LM" train --data "$DATA" --run r --batch-size 4 --quiet $LONG \
      >out.txt 2>&1 &
    pid=$!
    wait_train r 3 $pid
    kill -$sig $pid
    set +e; wait $pid; rc=$?; set -e
    want=1; name=SIGTERM
    [ $sig = USR1 ] && want=75 name=SIGUSR1
    [ "$rc" = $want ] || { cat out.txt; fail "SIG$sig to mpirun: exit $rc, expected $want"; }
    grep -q "\"type\":\"stopped\".*\"detail\":\"$name received" r/metrics.jsonl \
      || { cat out.txt; fail "SIG$sig to mpirun: the ranks did not stop on $name"; }
    "$LM" inspect "r/ckpt-$(printf %09d "$(last_ckpt_step r)").h5" >/dev/null || fail "SIG$sig: invalid checkpoint"
  done
  ;;
resume_no_valid)
  # --resume auto when checkpoints exist but none is valid: exit 1 naming
  # them, never a silent restart from step 0; --resume none starts over.
  train 1 r --max-steps 10 --checkpoint-every 5 >/dev/null
  for f in r/ckpt-000000005.h5 r/ckpt-000000010.h5; do head -c 50000 $f > cut.h5 && mv cut.h5 $f; done
  expect_rc 1 "$LM" train --data "$DATA" --run r --quiet --max-steps 20
  tail -1 err.txt | grep -q "^lyricmind train: r: none of its 2 checkpoints is valid (ckpt-000000005.h5, ckpt-000000010.h5); not starting again from step 0: .*--resume none$" \
    || { cat err.txt; fail "no error naming the invalid checkpoints"; }
  [ "$($CMP field r train step | wc -l)" = 10 ] || fail "a refused run trained"
  expect_rc 0 "$LM" train --data "$DATA" --run r --quiet --max-steps 3 --resume none
  [ "$($CMP field r train step | tail -3 | tr '\n' ' ')" = "1 2 3 " ] || fail "--resume none did not start over"
  ;;
stale_tmp)
  # Checkpoint temp files of dead writers are removed at start (all of them:
  # the run lock means no other writer is alive); nothing else is touched.
  mkdir r
  touch r/ckpt-000000005.h5.tmp.99999999 r/best.h5.tmp.1 r/notes.tmp.3 r/ckpt-000000005.h5.tmp.x r/other.h5.tmp.7
  "$LM" train --data "$DATA" --run r --quiet --max-steps 2 >out.txt
  grep -q "removed 2 stale checkpoint temp files" out.txt || { cat out.txt; fail "no removal reported"; }
  [ ! -e r/ckpt-000000005.h5.tmp.99999999 ] && [ ! -e r/best.h5.tmp.1 ] || fail "stale temp files left: $(ls r)"
  [ -e r/notes.tmp.3 ] && [ -e r/ckpt-000000005.h5.tmp.x ] && [ -e r/other.h5.tmp.7 ] || fail "removed too much: $(ls r)"
  ;;
failed_start)
  # A train that fails before its first step leaves no new directory behind,
  # and never removes a directory (or file) that existed before.
  expect_rc 1 "$LM" train --data /nonexistent/corpus --run new/deep/r --quiet
  [ ! -e new ] || fail "created directories left: $(find new)"
  mkdir keep && echo mine > keep/notes.txt
  expect_rc 1 "$LM" train --data /nonexistent/corpus --run keep --quiet
  [ "$(ls -A keep)" = notes.txt ] || fail "pre-existing directory changed: $(ls -A keep)"
  expect_rc 1 "$LM" train --data /nonexistent/corpus --run keep/r --quiet
  [ "$(ls -A keep)" = notes.txt ] || fail "pre-existing directory changed: $(ls -A keep)"
  train 1 good --max-steps 2 >/dev/null
  expect_rc 2 "$LM" train --data "$OTHER" --run fresh --resume good/ckpt-000000002.h5 --quiet
  one_line_error vocab
  [ ! -e fresh ] || fail "vocabulary mismatch left $(ls -A fresh)"
  LYRICMIND_PROGRESS=blink expect_rc 1 "$LM" train --data "$DATA" --run env --quiet --max-steps 2
  [ ! -e env ] || fail "bad environment left $(ls -A env)"
  expect_rc 1 $MPIRUN -np 2 "$LM" train --data /nonexistent/corpus --run new2 --batch-size 4 --quiet
  [ ! -e new2 ] || fail "2 ranks: created directory left"
  ;;
verdict)
  # A --max-steps stop before the first routine evaluation still validates,
  # writes best.h5 and prints one summary; generate then works on best.h5.
  train 1 r --max-steps 5 >out.txt
  [ -f r/best.h5 ] || fail "no best.h5"
  line=$(grep '^finished at step 5: max steps; ' out.txt) || { cat out.txt; fail "no summary"; }
  for f in "5 steps (5 in this run)" "1200 tokens" "wall [0-9.]* s" "last train loss [0-9]*\.[0-9]*;" \
           "validation loss [0-9.]* (ppl [0-9.]*) at step 5" "best [0-9.]* (ppl [0-9.]*) at step 5: r/best.h5"; do
    echo "$line" | grep -q -- "$f" || fail "summary lacks '$f': $line"
  done
  "$LM" generate --checkpoint r/best.h5 --max-words 10 --quiet >gen.txt || fail "generate on best.h5"
  [ -s gen.txt ] || fail "generate printed nothing"
  # no extra validation when the last step just evaluated (evaluations at 10, 20)
  train 1 r2 --max-steps 20 >/dev/null
  [ "$($CMP field r2 eval step | tr '\n' ' ')" = "10 20 " ] || fail "evaluations: $($CMP field r2 eval step | tr '\n' ' ')"
  # a --time-limit stop validates too
  train 1 r3 --time-limit 0.01 $LONG >/dev/null
  [ -f r3/best.h5 ] || fail "no best.h5 after a time-limit stop"
  ;;
verdict_exact)
  # The closing validation at a --max-steps stop feeds neither the plateau
  # schedule nor early stopping: with a stalled loss every observed
  # evaluation would halve the LR, yet stop-and-resume stays bitwise exact.
  flags="--lr 1e-6 --min-lr 1e-9 --plateau-patience 0 --patience 0"
  train 1 full $flags --max-steps 24 >/dev/null
  train 1 split $flags --max-steps 12 >/dev/null
  train 1 split $flags --max-steps 24 >/dev/null
  [ "$($CMP field full train lr | tr '\n' ' ')" = "$($CMP field split train lr | tr '\n' ' ')" ] || fail "LRs differ"
  $CMP losses full split --rtol 0
  $CMP params full/ckpt-000000024.h5 split/ckpt-000000024.h5 --atol 0
  ;;
run_lock_unsupported)
  # A filesystem that refuses flock() (Lustre without -o flock: ENOSYS,
  # emulated here by an LD_PRELOAD shim): train refuses to start with one
  # line saying what to do; LYRICMIND_RUN_LOCK=off trains without the lock.
  printf '#include <errno.h>\nint flock(int fd, int op) { (void)fd; (void)op; errno = ENOSYS; return -1; }\n' > noflock.c
  cc -shared -fPIC -o noflock.so noflock.c
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
  LD_PRELOAD=$PWD/noflock.so expect_rc 1 "$LM" train --data "$DATA" --run r --quiet --max-steps 2
  one_line_error "r: cannot lock .lock: Function not implemented (the filesystem refuses file locks: on Lustre mount it with -o flock"
  grep -q "LYRICMIND_RUN_LOCK=off" err.txt || fail "no way out named"
  [ ! -e r ] || fail "refused run left $(ls -A r)"
  LD_PRELOAD=$PWD/noflock.so LYRICMIND_RUN_LOCK=off expect_rc 0 "$LM" train --data "$DATA" --run r --quiet --max-steps 2
  [ -f r/ckpt-000000002.h5 ] || fail "no checkpoint without the lock"
  ;;
accumulate_windows)
  # --accumulate 2: step s trains windows 2s-1 and 2s of the K = 1 order, the
  # LSTM state carried from one to the next, and reports their mean loss. With
  # a vanishing LR the parameters barely move, so each K = 2 loss must equal
  # the mean of the two K = 1 window losses; the summary counts K x G x T
  # tokens per step.
  train 1 k1 --dropout 0 --lr 1e-9 --max-steps 12 >/dev/null
  train 1 k2 --dropout 0 --lr 1e-9 --max-steps 6 --accumulate 2 --quiet=false >out.txt
  grep -q '^finished at step 6: max steps; 6 steps (6 in this run), 2880 tokens' out.txt \
    || { cat out.txt; fail "summary does not count 2 x 8 x 30 tokens per step"; }
  $PY - k1/metrics.jsonl k2/metrics.jsonl <<'PY'
import json, sys
loss = lambda f: [json.loads(l)["loss"] for l in open(f) if '"type":"train"' in l]
a, b = loss(sys.argv[1]), loss(sys.argv[2])
assert len(a) == 12 and len(b) == 6, (len(a), len(b))
for s in range(6):
    want = (a[2 * s] + a[2 * s + 1]) / 2
    assert abs(b[s] - want) <= 1e-7 * want, "step %d: K=2 loss %.6f, mean of K=1 windows %.6f" % (s + 1, b[s], want)
    # and not just one window (the two differ by > 1e-4 relative here)
    assert abs(b[s] - a[2 * s]) > 5e-5 * want, "step %d: K=2 loss is window %d's" % (s + 1, 2 * s + 1)
PY
  # K beyond the windows of an epoch: one line naming the flag, exit 1
  expect_rc 1 "$LM" train --data "$DATA" --run big --accumulate 4096 --max-steps 2 --quiet
  one_line_error "--accumulate 4096"
  expect_rc 2 "$LM" train --data "$DATA" --run zero --accumulate 0
  grep -q -- "--accumulate" err.txt || { cat err.txt; fail "--accumulate 0 not refused by name"; }
  ;;
accumulate_ranks)
  # Rank-count independence: K = 2 with 1 rank x 8 streams equals K = 2 with
  # 2 ranks x 4 (same windows, same sums; dropout off), the ranks bitwise
  # identical every step.
  train 1 r1 --dropout 0 --max-steps 10 --accumulate 2 >/dev/null
  train 2 r2 --dropout 0 --max-steps 10 --accumulate 2 --check-params >/dev/null
  $CMP losses r1 r2 --rtol 1e-5
  $CMP params r1/ckpt-000000010.h5 r2/ckpt-000000010.h5 --atol 1e-5
  ;;
accumulate_resume)
  # K = 2 on 2 ranks, dropout on: 12 steps straight vs 6, stop, resume (K
  # taken from the checkpoint, not given) and 6 more: bitwise equal. A resume
  # that gives another K is refused (it must match: it is part of the global batch).
  train 2 full --accumulate 2 --max-steps 12 >/dev/null
  train 2 split --accumulate 2 --max-steps 6 >/dev/null
  expect_rc 2 "$LM" train --data "$DATA" --run split --accumulate 3 --max-steps 12 --quiet
  one_line_error "--accumulate 3"
  grep -q "checkpoint's 2" err.txt || { cat err.txt; fail "refusal does not name the checkpoint's K"; }
  train 2 split --max-steps 12 >/dev/null
  grep -q '"type":"resume","step":6' split/metrics.jsonl || fail "second run did not resume at step 6"
  $CMP losses full split --rtol 0
  $CMP params full/ckpt-000000012.h5 split/ckpt-000000012.h5 --atol 0
  ;;
wire_dtype)
  # --wire-dtype bf16|fp16 on 2 ranks: the ranks stay bitwise identical every
  # step (--check-params), the run stays close to fp32 over 10 steps (losses
  # within 1e-4 relative; parameters within 2e-3: Adam moves a weight with a
  # near-zero gradient by up to ~lr per step whatever its size), but is not bitwise the fp32
  # run (the head really travelled rounded). 1 rank: nothing travels, bitwise.
  train 2 f32 --dropout 0 --max-steps 10 >/dev/null
  for w in bf16 fp16; do
    train 2 $w --dropout 0 --max-steps 10 --wire-dtype $w --check-params >/dev/null
    $CMP losses f32 $w --rtol 1e-4
    $CMP params f32/ckpt-000000010.h5 $w/ckpt-000000010.h5 --atol 2e-3
    ! $CMP params f32/ckpt-000000010.h5 $w/ckpt-000000010.h5 --atol 0 >/dev/null \
      || fail "--wire-dtype $w gave bitwise the fp32 parameters: nothing was rounded"
  done
  train 1 one32 --max-steps 4 >/dev/null
  train 1 one16 --max-steps 4 --wire-dtype bf16 >/dev/null
  $CMP params one32/ckpt-000000004.h5 one16/ckpt-000000004.h5 --atol 0
  expect_rc 2 "$LM" train --data "$DATA" --run bad --wire-dtype int8
  one_line_error "--wire-dtype"
  ;;
overlap)
  # --overlap on (the output layer's rows sent while the backward runs, by
  # the ring engine) gives bitwise the parameters of --overlap off, on 2
  # ranks, with dropout, with --accumulate 2 (rows hook adds the earlier
  # windows first) and with 2 threads (pass 2 in waves); the ranks stay
  # identical every step. It may change on resume: on for 10 steps, resumed
  # off, ends bitwise like off all along. auto on one host: off.
  train 2 off --max-steps 20 --overlap off >/dev/null
  train 2 on --max-steps 20 --overlap on --check-params >/dev/null
  $CMP losses off on --rtol 0
  $CMP params off/ckpt-000000020.h5 on/ckpt-000000020.h5 --atol 0
  train 2 on2 --max-steps 20 --overlap on --threads 2 >/dev/null
  $CMP params off/ckpt-000000020.h5 on2/ckpt-000000020.h5 --atol 0
  train 2 split --max-steps 10 --overlap on >/dev/null
  train 2 split --max-steps 20 --overlap off >out.txt
  grep -q '^overlap: on (checkpoint) -> off (command line)' out.txt || { cat out.txt; fail "no change line for --overlap"; }
  $CMP losses off split --rtol 0
  $CMP params off/ckpt-000000020.h5 split/ckpt-000000020.h5 --atol 0
  train 2 acc_off --max-steps 6 --accumulate 2 --overlap off >/dev/null
  train 2 acc_on --max-steps 6 --accumulate 2 --overlap on --check-params >/dev/null
  $CMP params acc_off/ckpt-000000006.h5 acc_on/ckpt-000000006.h5 --atol 0
  $MPIRUN -np 2 "$LM" train --data "$DATA" --run auto --batch-size 4 --max-steps 2 --eval-tokens 3000 --exchange mpi >out.txt
  grep -q '^gradient exchange: 1 host, overlap off (--overlap auto)' out.txt || { cat out.txt; fail "auto on one host"; }
  $MPIRUN -np 2 "$LM" train --data "$DATA" --run forced --batch-size 4 --max-steps 2 --eval-tokens 3000 --overlap on >out.txt
  grep -q '^gradient exchange: 1 host, overlap on (--overlap on)' out.txt || { cat out.txt; fail "--overlap on not applied"; }
  expect_rc 2 "$LM" train --data "$DATA" --run bad --overlap sometimes
  one_line_error "--overlap"
  # a 16-bit head through the ring (2 ranks: one round(a + b) either way)
  train 2 bf_off --max-steps 6 --wire-dtype bf16 --overlap off >/dev/null
  train 2 bf_on --max-steps 6 --wire-dtype bf16 --overlap on --check-params >/dev/null
  $CMP params bf_off/ckpt-000000006.h5 bf_on/ckpt-000000006.h5 --atol 0
  ;;
exchange)
  # --exchange shared (ranks of one host share parameters, gradients and
  # Adam's moments in memory; each sums and updates its slice) trains
  # bitwise like --exchange mpi at 2 ranks: parameters and moments, with
  # dropout, 2 threads and --accumulate 2. It may change on resume, both
  # ways. 3 ranks (slices of 8 parts each) resume bit for bit and track the
  # MPI sum. auto on one host is shared; shared refuses a 16-bit wire and
  # --overlap on (one line, exit 1).
  train 2 mpi --max-steps 20 --exchange mpi >/dev/null
  train 2 shm --max-steps 20 --exchange shared --check-params >/dev/null
  $CMP losses mpi shm --rtol 0
  $CMP params mpi/ckpt-000000020.h5 shm/ckpt-000000020.h5 --atol 0 --optim
  train 2 shm2 --max-steps 20 --exchange shared --threads 2 >/dev/null
  $CMP params mpi/ckpt-000000020.h5 shm2/ckpt-000000020.h5 --atol 0 --optim
  train 2 acc_mpi --max-steps 6 --accumulate 2 --exchange mpi >/dev/null
  train 2 acc_shm --max-steps 6 --accumulate 2 --exchange shared >/dev/null
  $CMP params acc_mpi/ckpt-000000006.h5 acc_shm/ckpt-000000006.h5 --atol 0 --optim
  train 2 to_mpi --max-steps 10 --exchange shared >/dev/null
  train 2 to_mpi --max-steps 20 --exchange mpi >out.txt
  grep -q '^exchange: shared (checkpoint) -> mpi (command line)' out.txt || { cat out.txt; fail "no change line for --exchange"; }
  $CMP params mpi/ckpt-000000020.h5 to_mpi/ckpt-000000020.h5 --atol 0 --optim
  train 2 to_shm --max-steps 10 --exchange mpi >/dev/null
  train 2 to_shm --max-steps 20 --exchange shared >/dev/null
  $CMP losses mpi to_shm --rtol 0
  $CMP params mpi/ckpt-000000020.h5 to_shm/ckpt-000000020.h5 --atol 0 --optim
  train 3 full3 --max-steps 12 --exchange shared --check-params >/dev/null
  train 3 split3 --max-steps 6 --exchange shared >/dev/null
  train 3 split3 --max-steps 12 --exchange shared >/dev/null
  $CMP losses full3 split3 --rtol 0
  $CMP params full3/ckpt-000000012.h5 split3/ckpt-000000012.h5 --atol 0 --optim
  # 3 ranks: the rank-order sum and MPI's bracketing may differ in a
  # gradient's last bit (~1e-7 relative); Adam moves a parameter by at most
  # ~lr = 1e-3 a step, so 12 steps keep the parameters within 1e-6 and the
  # losses within 1e-5 relative, while a wrong sum (a rank left out) moves
  # the second step's loss by ~6e-4 relative (seen at 2 ranks)
  train 3 mpi3 --max-steps 12 --exchange mpi >/dev/null
  $CMP losses full3 mpi3 --rtol 1e-5
  $CMP params full3/ckpt-000000012.h5 mpi3/ckpt-000000012.h5 --atol 1e-6
  $MPIRUN -np 2 "$LM" train --data "$DATA" --run auto --batch-size 4 --max-steps 2 --eval-tokens 3000 >out.txt
  grep -q '^gradient exchange: 1 host, shared memory (--exchange auto): each rank sums and updates 1/2' out.txt \
    || { cat out.txt; fail "auto on one host is not shared"; }
  $MPIRUN -np 2 "$LM" train --data "$DATA" --run auto16 --batch-size 4 --max-steps 2 --eval-tokens 3000 \
    --wire-dtype bf16 >out.txt
  grep -q '^gradient exchange: 1 host, overlap off' out.txt || { cat out.txt; fail "auto with a 16-bit wire is not MPI"; }
  expect_rc 1 $MPIRUN -np 2 "$LM" train --data "$DATA" --run bad16 --batch-size 4 --max-steps 2 --quiet \
    --exchange shared --wire-dtype bf16
  # (mpirun adds lines of its own: one line of ours)
  [ "$(grep -c '^lyricmind train:' err.txt)" = 1 ] && grep -q -- '--exchange shared sums in fp32' err.txt \
    || { cat err.txt; fail "not one error line for shared with bf16"; }
  [ ! -e bad16 ] || fail "a refused exchange left its run directory"
  expect_rc 1 $MPIRUN -np 2 "$LM" train --data "$DATA" --run bad_ov --batch-size 4 --max-steps 2 --quiet \
    --exchange shared --overlap on
  [ "$(grep -c '^lyricmind train:' err.txt)" = 1 ] && grep -q -- '--exchange shared sends no messages' err.txt \
    || { cat err.txt; fail "not one error line for shared with overlap on"; }
  expect_rc 2 "$LM" train --data "$DATA" --run bad --exchange carrier-pigeon
  one_line_error "--exchange"
  # A /dev/shm without room (a container's 64 MB one; here 1 MB in a mount
  # namespace of this test, Open MPI's own segments moved out of it): auto
  # trains through MPI after one warning line, shared refuses in one line
  # and leaves no run directory; neither hangs nor leaves a file behind.
  printf 'mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "$@"\n' > small_shm.sh
  small_shm() { unshare --user --map-root-user --mount sh small_shm.sh env OMPI_MCA_btl_vader_backing_directory="$PWD" "$@"; }
  expect_rc 0 small_shm $MPIRUN -np 2 "$LM" train --data "$DATA" --run small_auto --batch-size 4 --max-steps 2 \
    --eval-tokens 3000
  [ "$(grep -c . err.txt)" = 1 ] && grep -q 'warning: dist: no room for [0-9]* MB of shared memory in /dev/shm' err.txt \
    || { cat err.txt; fail "no single warning for a full /dev/shm"; }
  grep -q '^gradient exchange: 1 host, overlap off' out.txt || { cat out.txt; fail "full /dev/shm: not MPI"; }
  [ -f small_auto/ckpt-000000002.h5 ] || fail "full /dev/shm: auto did not train"
  expect_rc 1 timeout 120 sh -c 'small_shm() { unshare --user --map-root-user --mount sh small_shm.sh env \
    OMPI_MCA_btl_vader_backing_directory="$PWD" "$@"; }; small_shm "$@"' sh $MPIRUN -np 2 "$LM" train --data "$DATA" \
    --run small_shared --batch-size 4 --max-steps 2 --quiet --exchange shared
  [ "$(grep -c '^lyricmind train:' err.txt)" = 1 ] && grep -q 'no room for .* shared memory in /dev/shm' err.txt \
    || { cat err.txt; fail "not one error line for shared with a full /dev/shm"; }
  [ ! -e small_shared ] || fail "a refused exchange left its run directory"
  ;;
config_commands)
  # --config for generate, eval and preprocess: each reads its own section
  # of one job file (the others are skipped); a setting from the file takes
  # effect, a flag overrides it, a bad key is FILE:LINE (exit 2).
  train 1 r --max-steps 5 >/dev/null
  cat > job.ini <<EOF
[train]
lr = 0.5
[generate]
checkpoint = r/best.h5
count = 2
max_words = 5
seed = 3
[eval]
checkpoint = r/best.h5
data = $DATA
samples = 4
per_genre = 2
max_words = 30
seed = 7
[preprocess]
out = p1
vocab_size = 500
threads = 1
EOF
  "$LM" generate --config job.ini --json --quiet >g1.json
  "$LM" generate --config job.ini --json --quiet --count 1 --seed 4 >g2.json
  $PY - g1.json g2.json <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert (a["settings"]["count"], a["settings"]["max_words"], a["settings"]["seed"], len(a["songs"])) == (2, 5, 3, 2), a["settings"]
assert (b["settings"]["count"], b["settings"]["max_words"], b["settings"]["seed"], len(b["songs"])) == (1, 5, 4, 1), b["settings"]
PY
  "$LM" eval --config job.ini --json --quiet >e1.json
  "$LM" eval --config job.ini --json --quiet --seed 9 --max-words 20 >e2.json
  $PY - e1.json e2.json <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert (a["seed"], a["generation"]["max_words"], a["bleu"]["songs"]) == (7, 30, 4), (a["seed"], a["generation"], a["bleu"]["songs"])
assert (b["seed"], b["generation"]["max_words"], b["bleu"]["songs"]) == (9, 20, 4), (b["seed"], b["generation"], b["bleu"]["songs"])
PY
  "$LM" preprocess --config job.ini "$SHARED/lyrics/nltk-4genre/country.txt" >/dev/null
  "$LM" preprocess --config job.ini --out p2 --vocab-size 600 "$SHARED/lyrics/nltk-4genre/country.txt" >/dev/null
  $PY -c "
import json
v = [json.load(open(d + '/manifest.json'))['settings']['vocab_size'] for d in ('p1', 'p2')]
assert v == [500, 600], v"
  # errors name the file and line, exit 2; a missing file too
  for cmd in generate eval preprocess; do
    printf '[%s]\nseed = 1\nbogus = 2\n' $cmd > bad.ini
    expect_rc 2 "$LM" $cmd --config bad.ini
    one_line_error "lyricmind $cmd: bad.ini:3: unknown key 'bogus'"
    expect_rc 2 "$LM" $cmd --config nosuch.ini
    one_line_error "lyricmind $cmd: nosuch.ini: cannot open job file"
  done
  ;;
*) fail "unknown case $CASE" ;;
esac
echo "PASS $CASE"
