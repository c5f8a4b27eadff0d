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
  printf 'epochs = 2\nbatchsize = 3\n' > job.ini
  expect_rc 2 "$LM" train --data "$DATA" --run r --config job.ini
  one_line_error 'job.ini:2'
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
  expect_rc 1 "$LM" train --data "$OTHER" --run fresh --resume good/ckpt-000000002.h5 --quiet
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
*) fail "unknown case $CASE" ;;
esac
echo "PASS $CASE"
