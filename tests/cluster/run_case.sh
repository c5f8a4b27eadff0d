#!/usr/bin/env bash
# Cases of the emulated multi-host cluster (ctest runs one CASE per test).
# Env: LM (the lyricmind binary), DATA (small corpus made by the
# cluster_corpus fixture), MPIRUN (one-host mpirun plus flags), PY (python3
# with h5py), WORK (scratch dir). Exit 77 (ctest: skipped) only when this
# machine cannot emulate hosts (not root, or no `ip netns`).
#
#   train_2host   2 hosts x 1 rank over TCP == 2 ranks on one host, bitwise,
#                 with --overlap auto (on: 2 hosts) and off
#   kill_resume   SIGKILL to the rank on one host ends the job on all hosts
#                 within KILL_WAIT s; the run resumes from its last checkpoint
#                 and ends with the parameters of an uninterrupted run
#   script        emu-cluster.sh itself: exit codes, usage errors, teardown
#                 after a failing command, cleanup after a SIGKILLed run
#   slurm_2node   slurm/train.sbatch --nodes 2 on a SLURM cluster of 2 emulated
#                 hosts (emu-slurm.sh), srun and mpirun: one-host parameters
#   bench         lyricmind bench allreduce on 2 emulated hosts: fitted model lines
set -euo pipefail
CASE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
EMU=$HERE/emu-cluster.sh
CMP="$PY $HERE/../train/compare.py"
KILL_WAIT=30
export OPENBLAS_NUM_THREADS=1
fail() { echo "FAIL: $*"; exit 1; }
SLURM_FLAGS=(--data "$DATA" --batch-size 4 --max-steps 20 --eval-every 10 --eval-tokens 2000 --quiet)

# The inner half of kill_resume runs inside the emulated cluster (--shell).
if [ "$CASE" = kill_resume_inner ]; then
  cd "$WORK/kill_resume"
  # shellcheck disable=SC2206
  MPI=($EMU_MPIRUN -np 2)
  FLAGS=(--data "$DATA" --batch-size 4 --eval-every 10 --eval-tokens 2000 --checkpoint-every 5 --quiet)
  "${MPI[@]}" "$LM" train --run r "${FLAGS[@]}" --epochs 100000 --max-steps 100000000 >killed.out 2>&1 &
  mp=$!
  end=$((SECONDS + 240))
  until grep -q '"type":"checkpoint","step":10' r/metrics.jsonl 2>/dev/null; do
    kill -0 $mp 2>/dev/null || { cat killed.out; fail "training ended before its second checkpoint"; }
    [ $SECONDS -lt $end ] || { kill -KILL $mp; fail "no checkpoint at step 10 within 240 s"; }
    sleep 0.2
  done
  read -r -a hosts <<<"$EMU_HOSTS"
  # The rank on the last host, found among that namespace's processes.
  victim=""
  for pid in $(ip netns pids "${hosts[1]}"); do
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = lyricmind ] && victim=$pid
  done
  [ -n "$victim" ] || { kill -KILL $mp; fail "no lyricmind process in ${hosts[1]}"; }
  kill -KILL "$victim"
  t0=$SECONDS
  while kill -0 $mp 2>/dev/null && [ $((SECONDS - t0)) -lt $KILL_WAIT ]; do sleep 0.2; done
  kill -0 $mp 2>/dev/null && { kill -KILL $mp; fail "mpirun still running ${KILL_WAIT}s after a rank was killed"; }
  set +e; wait $mp; rc=$?; set -e
  [ $rc != 0 ] || fail "mpirun exited 0 after a rank was killed"
  echo "mpirun exited $rc $((SECONDS - t0)) s after SIGKILL to rank pid $victim on ${hosts[1]}"
  sleep 1
  for h in "${hosts[@]}"; do
    for pid in $(ip netns pids "$h"); do
      [ "$(cat /proc/"$pid"/comm 2>/dev/null)" != lyricmind ] || fail "lyricmind pid $pid left on $h"
    done
  done
  k=$(grep -o '"type":"checkpoint","step":[0-9]*' r/metrics.jsonl | tail -1 | grep -o '[0-9]*$')
  total=$((k + 10))
  "${MPI[@]}" "$LM" train --run r "${FLAGS[@]}" --epochs 100000 --max-steps $total >resume.out 2>&1 ||
    { cat resume.out; fail "the resumed run failed"; }
  grep -q '"type":"resume","step":'"$k" r/metrics.jsonl || fail "did not resume from step $k"
  grep -q '"type":"finished","step":'"$total" r/metrics.jsonl || fail "resumed run did not finish at $total"
  # The same steps uninterrupted (one host, shared memory: with 2 ranks the
  # sums are bitwise the same whatever the transport).
  "${MPI[@]}" "$LM" train --run ref "${FLAGS[@]}" --epochs 100000 --max-steps $total >ref.out 2>&1 ||
    { cat ref.out; fail "reference run failed"; }
  $CMP params "$(printf 'ref/ckpt-%09d.h5' $total)" "$(printf 'r/ckpt-%09d.h5' $total)" --atol 0
  echo "killed after step >= 10, resumed from $k, final parameters equal to an uninterrupted run"
  exit 0
fi

# The inner half of slurm_2node: inside emu-slurm.sh (SLURM_CONF is set).
if [ "$CASE" = slurm_2node_inner ]; then
  cd "$WORK/slurm_2node"
  export LYRICMIND=$LM
  for launcher in srun mpirun; do
    set +e
    LM_LAUNCHER=$launcher timeout 300 sbatch --wait --nodes 2 --ntasks-per-node 1 --time 5 \
      --output "$PWD/$launcher-%j.out" "$HERE/../../slurm/train.sbatch" --run "$PWD/$launcher" "${SLURM_FLAGS[@]}" >/dev/null
    rc=$?
    set -e
    [ $rc = 0 ] || { cat "$launcher"-*.out; fail "train.sbatch --nodes 2 with $launcher: sbatch --wait returned $rc"; }
    grep -q "2 task(s)" "$launcher"-*.out || { cat "$launcher"-*.out; fail "$launcher: not 2 tasks"; }
    # The job's first step ran on the hosts (their slurmd launched its
    # tasks): srun's ranks on both; mpirun's orted on the second (mpirun
    # starts the ranks of its own node, the first, itself).
    job=$(ls "$launcher"-*.out | sed 's/.*-\([0-9]*\)\.out$/\1/')
    on=$EMU_HOSTS
    [ $launcher = srun ] || on=${EMU_HOSTS#* }
    for h in $on; do
      grep -q "launch task StepId=$job\.0 " "$EMU_SLURM_DIR/log/slurmd-$h.log" || fail "$launcher: job $job ran nothing on $h"
    done
    $CMP params one/ckpt-000000020.h5 "$launcher/ckpt-000000020.h5" --atol 0
    echo "train.sbatch --nodes 2 ($launcher): parameters equal to 2 ranks on one host"
  done
  exit 0
fi

"$EMU" check || exit 77
rm -rf "${WORK:?}/$CASE" && mkdir -p "$WORK/$CASE" && cd "$WORK/$CASE"
# emu RC-NAME ARGS...: emu-cluster.sh with a time limit; 77 is a failure now.
emu() { timeout -k 10 500 "$EMU" -t 400 "$@"; }

case $CASE in
train_2host)
  FLAGS=(--data "$DATA" --batch-size 4 --dropout 0.3 --max-steps 30 --eval-every 10 --eval-tokens 3000
         --checkpoint-every 10 --quiet)
  $MPIRUN -np 2 "$LM" train --run one "${FLAGS[@]}" >one.out 2>&1 || { cat one.out; fail "one-host run"; }
  # 2 hosts: --overlap auto (on across hosts: rows sent by the ring engine
  # during the backward, over TCP) and off, both bitwise the one-host run.
  emu -k 2 -- "$LM" train --run two "${FLAGS[@]}" >two.out 2>&1 || { cat two.out; fail "2-host run"; }
  emu -k 2 -- "$LM" train --run twooff "${FLAGS[@]}" --overlap off >twooff.out 2>&1 ||
    { cat twooff.out; fail "2-host run, --overlap off"; }
  for r in two twooff; do
    $CMP losses one $r --rtol 0
    for s in 10 20 30; do
      $CMP params "$(printf 'one/ckpt-%09d.h5' $s)" "$(printf '%s/ckpt-%09d.h5' $r $s)" --atol 0
    done
  done
  emu -k 2 -- "$LM" train --run auto --data "$DATA" --batch-size 4 --max-steps 1 --eval-tokens 2000 >auto.out 2>&1 ||
    { cat auto.out; fail "2-host run, not quiet"; }
  grep -q '^gradient exchange: 2 hosts, overlap on (--overlap auto)' auto.out || { cat auto.out; fail "auto not on across hosts"; }
  # (the one-host run above took the shared-memory exchange, the 2-host ones
  # MPI: bitwise alike.) Shared memory across hosts is refused in one line.
  set +e
  emu -k 2 -- "$LM" train --run refused --data "$DATA" --batch-size 4 --max-steps 1 --quiet --exchange shared \
    >refused.out 2>&1; rc=$?
  set -e
  [ $rc = 1 ] && [ "$(grep -c '^lyricmind train:' refused.out)" = 1 ] &&
    grep -q -- '--exchange shared needs every rank on one host; the ranks run on 2 hosts' refused.out ||
    { cat refused.out; fail "--exchange shared across hosts: exit $rc, not one error line"; }
  [ ! -e refused ] || fail "a refused exchange left its run directory"
  ;;
kill_resume)
  emu -k 2 --shell -- "$0" kill_resume_inner || fail "kill_resume failed (see above)"
  ;;
script)
  mine() { ip netns list | awk '{print $1}' | grep "^lmemu$1-" || true; }
  set +e
  "$EMU" -k 2 --shell -- sh -c 'echo "$EMU_HOSTS" >hosts.txt; exit 3'; rc=$?
  "$EMU" -k 1 -- true 2>err1.txt; rc1=$?
  "$EMU" --rate 5gbit -- true 2>err2.txt; rc2=$?
  set -e
  [ $rc = 3 ] || fail "the command's exit code 3 came back as $rc"
  [ "$(wc -w <hosts.txt)" = 2 ] || fail "EMU_HOSTS: $(cat hosts.txt)"
  for h in $(cat hosts.txt); do ! ip netns list | grep -qw "$h" || fail "$h left after a failing command"; done
  [ $rc1 = 2 ] && grep -q -- --hosts err1.txt || fail "--hosts 1 accepted ($rc1)"
  [ $rc2 = 2 ] && grep -q -- --rate err2.txt || fail "--rate 5gbit accepted ($rc2)"
  # A run killed hard leaves its namespaces; cleanup removes them (and only
  # those of dead runs: a live one is kept).
  "$EMU" -k 2 -r 1gbit --shell -- sleep 100 2>/dev/null & dead=$!
  "$EMU" -k 2 --shell -- sleep 100 2>/dev/null & live=$!
  for _ in $(seq 100); do [ "$(mine $dead | wc -l)" = 4 ] && [ "$(mine $live | wc -l)" = 4 ] && break; sleep 0.1; done
  [ "$(mine $dead | wc -l)" = 4 ] || fail "run $dead did not make 4 namespaces: $(mine $dead)"
  kill -KILL $dead; wait $dead 2>/dev/null || true
  "$EMU" cleanup
  [ -z "$(mine $dead)" ] || fail "cleanup left $(mine $dead)"
  [ "$(mine $live | wc -l)" = 4 ] || fail "cleanup removed namespaces of the live run $live"
  kill -TERM $live; wait $live 2>/dev/null || true
  [ -z "$(mine $live)" ] || fail "SIGTERM left $(mine $live)"
  ;;
slurm_2node)
  # slurm/train.sbatch on 2 SLURM nodes (one slurmd per emulated host):
  # srun --mpi=pmix and mpirun both end with the one-host parameters.
  command -v slurmd >/dev/null && command -v munged >/dev/null ||
    { echo "SKIP: slurmd or munged not installed (tests/slurm/local-cluster.sh installs them)"; exit 77; }
  $MPIRUN -np 2 "$LM" train --run one "${SLURM_FLAGS[@]}" >one.out 2>&1 || { cat one.out; fail "one-host run"; }
  emu -k 2 --shell -- "$HERE/emu-slurm.sh" "$0" slurm_2node_inner || fail "slurm_2node failed (see above)"
  ;;
bench)
  emu -k 2 -- "$LM" bench allreduce --vocab 20000 --reps 5 --sizes 5 >out.txt 2>err.txt ||
    { cat out.txt err.txt; fail "bench allreduce failed"; }
  cat out.txt
  $PY "$HERE/check_bench.py" out.txt 2 || fail "bench output"
  ;;
*) fail "unknown case $CASE" ;;
esac
echo "PASS cluster_$CASE"
