#!/usr/bin/env bash
# Integration tests of 'lyricmind train' (ctest runs one CASE per test).
# Env: LM (the binary), DATA (small corpus made by the train_corpus fixture),
# OTHER (a corpus with another vocabulary), SHARED (the shared lyrics dir),
# MPIRUN (mpirun plus flags), PY (python3 with h5py), WORK (scratch dir).
set -euo pipefail
CASE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
CMP="$PY $HERE/compare.py"
export OPENBLAS_NUM_THREADS=1
rm -rf "$WORK/$CASE" && mkdir -p "$WORK/$CASE" && cd "$WORK/$CASE"

fail() { echo "FAIL: $*"; exit 1; }
# train NP RUN [flags...]: NP ranks with a global batch of 8, quiet.
train() {
  local np=$1 run=$2; shift 2
  $MPIRUN -np "$np" "$LM" train --data "$DATA" --run "$run" --batch-size $((8 / np)) \
    --eval-every 10 --eval-tokens 3000 --quiet "$@"
}
expect_rc() { # expect_rc CODE cmd...: runs cmd, checks its exit code, keeps stderr in err.txt
  local want=$1; shift
  set +e; "$@" >out.txt 2>err.txt; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat out.txt err.txt; fail "exit $rc, expected $want: $*"; }
}
one_line_error() { # the error names $1 and is one line
  grep -q -- "$1" err.txt || { cat err.txt; fail "error does not mention $1"; }
  [ "$(grep -c . err.txt)" = 1 ] || { cat err.txt; fail "error is not one line"; }
}

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
  # from other data (another vocabulary)
  expect_rc 1 "$LM" train --data "$OTHER" --run good --quiet --max-steps 20
  one_line_error vocab
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
*) fail "unknown case $CASE" ;;
esac
echo "PASS $CASE"
