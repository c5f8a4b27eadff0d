#!/usr/bin/env bash
# End-to-end cases of slurm/ on the local cluster (ctest runs one CASE per
# test; the slurm_cluster fixture has started the cluster in $SLURM_DIR).
# Env: LM (the lyricmind binary), SLURM_DIR, REPO (source tree), WORK
# (scratch shared by the cases), SHARED (the shared data dir).
#
# Every job a case submits is cancelled when the case exits, pass or fail;
# every wait is bounded.
set -euo pipefail
CASE=$1
. "$SLURM_DIR/env"
# Marks everything this case starts (jobs included) as the cluster's, so that
# local-cluster.sh stop can sweep leftovers if a case is killed.
export LM_SLURM_CLUSTER=$SLURM_DIR
export LYRICMIND=$LM OPENBLAS_NUM_THREADS=1
# Open MPI names its shared-memory segments and session directories after
# the job id, which srun derives from SLURM's job and step ids; those restart
# at 1 in every test cluster, so two clusters on one machine (two build
# trees) would map each other's segments (seen: a segfault in btl/vader).
# The jobs inherit these from sbatch and keep theirs inside the cluster's dir.
mkdir -p "$SLURM_DIR/shm" "$SLURM_DIR/ompi"
export OMPI_MCA_btl_vader_backing_directory=$SLURM_DIR/shm OMPI_MCA_orte_tmpdir_base=$SLURM_DIR/ompi
SUBMIT=$REPO/slurm/submit
CORPUS=$WORK/corpus
REF=$WORK/reference-checksum.txt
D=$WORK/$CASE
rm -rf "$D" && mkdir -p "$D" && cd "$D"
# Same world size and flags for the reference and the preempted runs.
STEPS=1000  # long enough that the signal lands mid-run even on an idle machine
TRAIN=(--batch-size 4 --max-steps "$STEPS" --eval-every 100 --eval-tokens 2000 --quiet)
JOBOPTS=(--tasks-per-node 2 --cpus-per-task 1 --time 10 --output "$D/%x-%j.out")

jobs_submitted=()
on_exit() {
  local rc=$?
  [ ${#jobs_submitted[@]} -eq 0 ] || timeout 20 scancel "${jobs_submitted[@]}" 2>/dev/null || true
  if [ $rc != 0 ]; then
    echo "---- job logs"; tail -n 40 "$D"/*.out 2>/dev/null || true
    echo "---- slurmctld.log"; tail -n 20 "$SLURM_DIR/log/slurmctld.log" 2>/dev/null || true
  fi
}
trap on_exit EXIT
fail() { echo "FAIL: $*"; exit 1; }

# submit ARGS...: slurm/submit, remembering the job id (printed on stdout).
submit() {
  local id
  id=$(timeout 60 "$SUBMIT" "$@") || fail "submit $* failed"
  jobs_submitted+=("$id")
  echo "$id"
}
# field JOB NAME: one field of `scontrol show job` (kept for MinJobAge).
field() { timeout 20 scontrol show job -o "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
finished_state() {
  case $(field "$1" JobState) in
    COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) return 0 ;;
    *) return 1 ;;
  esac
}
# wait_end JOB SECS: until the job has ended for good (not merely requeued).
wait_end() {
  local end=$((SECONDS + $2))
  until finished_state "$1"; do
    [ $SECONDS -lt $end ] || fail "job $1 still $(field "$1" JobState) after $2 s"
    sleep 1
  done
}
# wait_step JOB RUN K SECS: until RUN/metrics.jsonl has a train step >= K.
wait_step() {
  local end=$((SECONDS + $4)) last
  while :; do
    last=$(grep -o '"type":"train","step":[0-9]*' "$2/metrics.jsonl" 2>/dev/null | tail -1 | grep -o '[0-9]*$' || true)
    [ -z "$last" ] || [ "$last" -lt "$3" ] || return 0
    ! finished_state "$1" || fail "job $1 ended ($(field "$1" JobState)) before step $3"
    [ $SECONDS -lt $end ] || fail "job $1 did not reach step $3 in $4 s"
    sleep 0.2
  done
}
checksum() { # checksum CKPT: the parameter checksum of a valid checkpoint
  local out
  out=$("$LM" inspect "$1") || fail "lyricmind inspect $1 failed"
  grep -q 'checksum_ok: yes' <<<"$out" || fail "$1: checksum not ok"
  sed -n 's/^ *checksum: //p' <<<"$out"
}
has() { grep -q -- "$2" "$1" || fail "$1 lacks $2"; }
final_ckpt() { printf '%s/ckpt-%09d.h5' "$1" "$STEPS"; }

case $CASE in
templates)
  # The scripts parse, the cluster accepts their #SBATCH lines, the submit
  # helper maps its flags, and impossible or misplaced requests fail at once.
  for f in train.sbatch preprocess.sbatch eval.sbatch submit; do bash -n "$REPO/slurm/$f"; done
  for f in train preprocess eval; do
    timeout 60 sbatch --test-only "$REPO/slurm/$f.sbatch" >out.txt 2>&1 || { cat out.txt; fail "$f.sbatch rejected"; }
    has out.txt "to start at"
  done
  "$SUBMIT" --dry-run --nodes 2 --tasks-per-node 4 --cpus-per-task 8 --time 12:00:00 --partition p \
    --signal-seconds 120 --after 11 --after 12 --launcher mpirun --lyricmind "$LM" \
    train -- --data c --run r >out.txt
  for want in --nodes=2 --ntasks-per-node=4 --cpus-per-task=8 --time=12:00:00 --partition=p \
              --signal=B:USR1@120 --dependency=afterok:11:12 LM_LAUNCHER=mpirun "LYRICMIND=$LM" \
              "slurm/train.sbatch --data c --run r"; do
    has out.txt "$want"
  done
  set +e
  "$SUBMIT" --bogus train >out.txt 2>&1; rc1=$?
  "$SUBMIT" train --data c >out.txt 2>&1; rc2=$?
  # More ranks than the node has CPUs: EnforcePartLimits rejects it now.
  timeout 60 "$SUBMIT" --tasks-per-node 64 train -- --data c --run r >out.txt 2>&1; rc3=$?
  env -u SLURM_JOB_ID bash "$REPO/slurm/train.sbatch" --data c --run r >out.txt 2>&1; rc4=$?
  set -e
  [ $rc1 = 2 ] && [ $rc2 = 2 ] || fail "submit accepted bad arguments ($rc1, $rc2)"
  [ $rc3 != 0 ] || fail "an oversized job was accepted"
  [ $rc4 != 0 ] || fail "train.sbatch ran outside a job"
  ;;
train)
  # preprocess.sbatch -> train.sbatch chained with afterok; sbatch --wait
  # returns the training job's exit code. Leaves the corpus and the reference
  # final checksum for the other cases.
  rm -f "$REF"
  pp=$(submit --cpus-per-task 1 --time 10 --output "$D/%x-%j.out" preprocess -- \
        --force --vocab-size 2000 --out "$CORPUS" "$SHARED/lyrics/nltk-4genre/country.txt")
  set +e
  timeout 400 "$SUBMIT" --wait --after "$pp" "${JOBOPTS[@]}" train -- \
    --data "$CORPUS" --run "$D/run" "${TRAIN[@]}" >id.txt
  rc=$?
  set -e
  tr=$(head -1 id.txt); jobs_submitted+=("$tr")
  [ $rc = 0 ] || fail "train job $tr: sbatch --wait returned $rc"
  [ "$(field "$pp" JobState)" = COMPLETED ] || fail "preprocess job $pp: $(field "$pp" JobState)"
  [ -f "$CORPUS/vocab.h5" ] || fail "no corpus"
  [ "$(field "$tr" JobState)" = COMPLETED ] && [ "$(field "$tr" Restarts)" = 0 ] ||
    fail "train job $tr: $(field "$tr" JobState), restarts $(field "$tr" Restarts)"
  has "$D/lyricmind-train-$tr.out" "2 task(s)"
  has "$D/lyricmind-train-$tr.out" "lyricmind exited 0; not requeueing"
  n=$(grep -c '"type":"train"' run/metrics.jsonl)
  [ "$n" = $STEPS ] || fail "$n train steps logged, expected $STEPS"
  [ "$(grep -c '"type":"eval"' run/metrics.jsonl)" -ge 3 ] || fail "fewer than 3 evaluations"
  has run/metrics.jsonl '"type":"finished","step":'$STEPS
  ! grep -q '"type":"resume"' run/metrics.jsonl || fail "a fresh run resumed"
  checksum "$(final_ckpt run)" >"$REF"
  [ -s "$REF" ] || fail "no reference checksum"
  ;;
preempt_srun|preempt_mpirun)
  # USR1 to the batch shell mid-run: the trap forwards it to the launcher,
  # the ranks checkpoint and exit 75, the script requeues the job, the second
  # start (SLURM_RESTART_COUNT=1) resumes and ends with the parameters of the
  # uninterrupted slurm_train run, bit for bit.
  [ -s "$REF" ] || fail "no reference from slurm_train"
  launcher=${CASE#preempt_}
  id=$(submit --launcher "$launcher" "${JOBOPTS[@]}" train -- --data "$CORPUS" --run "$D/run" "${TRAIN[@]}")
  # A job chained with afterok must wait for the final completion, not the
  # requeued first start: when it runs, the run has finished.
  dep=$(timeout 60 sbatch --parsable --dependency=afterok:"$id" -n1 --time 5 --output "$D/dep-%j.out" \
        --wrap "grep -c '\"type\":\"finished\"' '$D/run/metrics.jsonl' >'$D/dep.txt'")
  jobs_submitted+=("$dep")
  wait_step "$id" run 10 240
  timeout 20 scancel --batch --signal=USR1 "$id"
  wait_end "$id" 400
  log=$D/lyricmind-train-$id.out
  [ "$(field "$id" JobState)" = COMPLETED ] || fail "job $id ended $(field "$id" JobState)"
  [ "$(field "$id" ExitCode)" = 0:0 ] || fail "job $id exit code $(field "$id" ExitCode)"
  [ "$(field "$id" Restarts)" = 1 ] || fail "job $id restarted $(field "$id" Restarts) times"
  wait_end "$dep" 120
  [ "$(cat dep.txt 2>/dev/null)" = 1 ] || fail "the afterok job ran before the requeued job finished"
  has "$log" "restart 0]: got SIGUSR1"
  has "$log" "restart 0]: checkpointed after SIGUSR1; requeueing"
  has "$log" "restart 1]: starting"
  has "$log" "restart 1]: lyricmind exited 0; not requeueing"
  grep -q '"type":"finished"' run/metrics.jsonl || fail "run did not finish"
  k=$(grep -o '"type":"stopped","step":[0-9]*' run/metrics.jsonl | grep -o '[0-9]*$') ||
    fail "no signal stop in metrics (finished before the signal?)"
  [ "$k" -ge 10 ] && [ "$k" -lt $STEPS ] || fail "stopped at step $k"
  has run/metrics.jsonl '"type":"checkpoint","step":'"$k"
  has run/metrics.jsonl '"type":"resume","step":'"$k"
  got=$(checksum "$(final_ckpt run)")
  [ "$got" = "$(cat "$REF")" ] || fail "final parameters differ: $got vs $(cat "$REF") (stopped at $k)"
  echo "stopped at step $k, requeued once, final checksum $got matches"
  ;;
time_limit)
  # The template's --signal=B:USR1@S path: with a 1-minute limit and S=50,
  # SLURM itself signals the batch shell; the job checkpoints, requeues and
  # resumes (a run of "forever" steps, cancelled after its first restart).
  id=$(submit --tasks-per-node 2 --time 1 --signal-seconds 50 --output "$D/%x-%j.out" train -- \
        --data "$CORPUS" --run "$D/run" --batch-size 4 --epochs 100000 --max-steps 100000000 --eval-every 100000 --quiet)
  log=$D/lyricmind-train-$id.out
  end=$((SECONDS + 240))
  until grep -q "restart 1]: starting" "$log" 2>/dev/null; do
    ! finished_state "$id" || fail "job $id ended ($(field "$id" JobState)) without a restart"
    [ $SECONDS -lt $end ] || fail "job $id was not requeued within 240 s"
    sleep 1
  done
  has "$log" "restart 0]: got SIGUSR1"
  has "$log" "restart 0]: checkpointed after SIGUSR1; requeueing"
  k=$(grep -o '"type":"stopped","step":[0-9]*' run/metrics.jsonl | grep -o '[0-9]*$') ||
    fail "no checkpoint before the time limit"
  end=$((SECONDS + 60))
  until grep -q '"type":"resume","step":'"$k" run/metrics.jsonl; do
    [ $SECONDS -lt $end ] || fail "the restarted job did not resume from step $k"
    sleep 0.5
  done
  ;;
array)
  # One array submission, two tasks: %a in the arguments gives each task its
  # own run directory and seed; sbatch --wait waits for both.
  set +e
  timeout 300 "$SUBMIT" --wait --sbatch --array=0-1 --tasks-per-node 2 --time 10 \
    --output "$D/%x-%A_%a.out" train -- --data "$CORPUS" --run "$D/run-%a" --seed 1%a \
    --batch-size 4 --max-steps 20 --eval-every 10 --eval-tokens 1000 --quiet >id.txt
  rc=$?
  set -e
  jobs_submitted+=("$(head -1 id.txt)")
  [ $rc = 0 ] || fail "array job: sbatch --wait returned $rc"
  for t in 0 1; do
    [ -f run-$t/ckpt-000000020.h5 ] || fail "array task $t wrote no final checkpoint"
    grep -q -- "--run $D/run-$t --seed 1$t " "$D"/lyricmind-train-*_$t.out || fail "task $t got other arguments"
  done
  [ "$(checksum run-0/ckpt-000000020.h5)" != "$(checksum run-1/ckpt-000000020.h5)" ] ||
    fail "both array tasks trained the same model"
  ;;
no_requeue)
  # Failures and SIGTERM end the job with lyricmind's code; nothing requeues.
  set +e
  timeout 120 "$SUBMIT" --wait "${JOBOPTS[@]}" train -- --data "$CORPUS" --run "$D/bad" --no-such-flag >id.txt
  rc=$?
  set -e
  bad=$(head -1 id.txt); jobs_submitted+=("$bad")
  [ $rc = 2 ] || fail "bad flags: sbatch --wait returned $rc, expected 2"
  wait_end "$bad" 60  # sbatch --wait can return while the job is still COMPLETING
  [ "$(field "$bad" JobState)" = FAILED ] && [ "$(field "$bad" Restarts)" = 0 ] ||
    fail "bad-flags job $bad: $(field "$bad" JobState), restarts $(field "$bad" Restarts)"
  has "$D/lyricmind-train-$bad.out" "lyricmind exited 2; not requeueing"
  # scancel: SLURM sends SIGTERM to the batch shell and the ranks; the run
  # checkpoints and exits 75, and the cancelled job stays cancelled.
  id=$(submit "${JOBOPTS[@]}" train -- --data "$CORPUS" --run "$D/run" "${TRAIN[@]}")
  wait_step "$id" run 5 240
  timeout 20 scancel "$id"
  log=$D/lyricmind-train-$id.out
  end=$((SECONDS + 60))
  until grep -q "not requeueing" "$log" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "the batch script of job $id did not finish within 60 s"
    sleep 0.5
  done
  has "$log" "lyricmind exited 75 after SIGTERM; not requeueing"
  wait_end "$id" 60
  [ "$(field "$id" JobState)" = CANCELLED ] && [ "$(field "$id" Restarts)" = 0 ] ||
    fail "job $id: $(field "$id" JobState), restarts $(field "$id" Restarts)"
  k=$(grep -o '"type":"stopped","step":[0-9]*' run/metrics.jsonl | grep -o '[0-9]*$') ||
    fail "no checkpoint at the cancel"
  checksum "$(printf 'run/ckpt-%09d.h5' "$k")" >/dev/null
  ;;
*) fail "unknown case $CASE" ;;
esac
echo "PASS slurm_$CASE"
