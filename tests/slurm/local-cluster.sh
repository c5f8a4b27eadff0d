#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for the tests (and for trying
# the batch scripts by hand): munged, slurmctld and slurmd started directly as
# background daemons (no systemd), all state, config and logs under one
# directory, all traffic on 127.0.0.1.
#
#   tests/slurm/local-cluster.sh start  [DIR]   install if missing, configure, start, wait until idle
#   tests/slurm/local-cluster.sh stop   [DIR]   cancel jobs, stop the daemons by their pid files
#   tests/slurm/local-cluster.sh status [DIR]   exit 0 when the node answers and is usable
#   tests/slurm/local-cluster.sh env    [DIR]   print the export line for the client commands
#
# DIR defaults to $LM_SLURM_DIR, else /tmp/lyricmind-slurm. Keep it short: the
# munge socket lives in it (unix socket paths are limited to 108 bytes).
# After start, `. DIR/env` points sbatch, squeue, scontrol... at this cluster.
#
# Invariants: only processes this script started are ever signalled: the
# three daemons by the pid files in DIR/run (checked against /proc/PID/exe),
# and leftovers of jobs by the marker LM_SLURM_CLUSTER=DIR in their
# environment, which the daemons and their children inherit (and the jobs
# of a submitter that exports it, as the tests do). A
# watchdog stops the cluster after $LM_SLURM_LIFETIME seconds (default 1800)
# in case the caller dies between start and stop. Every wait is bounded.
set -euo pipefail

CMD=${1:-}
DIR=${2:-${LM_SLURM_DIR:-/tmp/lyricmind-slurm}}
LIFETIME=${LM_SLURM_LIFETIME:-1800}
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
PKGS=(munge slurmctld slurmd slurm-client)

log() { echo "local-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 0.5 s until it succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { log "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.5
  done
}

install_packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "installing ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || die "installing packages needs root (apt-get install ${missing[*]})"
  # The packages' maintainer scripts would start the system-wide daemons;
  # a policy-rc.d that denies service starts (Debian's mechanism for this;
  # container images ship one) keeps them off. Only added when absent.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && added=1
  fi
  local rc=0
  { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >"${TMPDIR:-/tmp}/lyricmind-slurm-apt.log" 2>&1 || rc=$?
  [ $added = 0 ] || rm -f $policy
  [ $rc = 0 ] || { tail -20 "${TMPDIR:-/tmp}/lyricmind-slurm-apt.log" >&2; die "apt-get failed ($rc)"; }
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config() {
  local host node ctld_port slurmd_port
  host=$(hostname -s)
  # The node's real shape, as slurmd will detect it (else it gets drained).
  node=$(slurmd -C | head -1)
  [[ $node == NodeName=* ]] || die "slurmd -C printed no NodeName line: $node"
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  cat >"$DIR/slurm.conf" <<EOF
# Written by tests/slurm/local-cluster.sh: a one-node test cluster on loopback.
ClusterName=lyricmind
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Our own munged; a short credential life lets a requeued job restart in
# seconds instead of about two minutes.
AuthInfo=socket=$DIR/munge/munge.socket,cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
# Reject requests the node cannot satisfy instead of pending forever.
EnforcePartLimits=ALL
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MailProg=/bin/true
# No accounting daemon: finished jobs stay visible to scontrol for an hour,
# and a line per job goes to the jobcomp file.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
MinJobAge=3600
KillWait=10
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  # slurmstepd's PMIx directories default to /tmp/spmix_appdir_UID_JOB.STEP:
  # job ids restart at 1 in every test cluster, so two clusters (build trees)
  # or a leftover of an earlier one collide there and the step fails to
  # launch ("File exists"). Keep them inside this cluster's directory.
  echo "PMIxCliTmpDirBase=$DIR/pmix" >"$DIR/mpi.conf"
}

# is_exe PID NAME: PID runs /usr/sbin/NAME (Debian links some of them to *-wlm).
is_exe() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [ "${exe% (deleted)}" = "$(readlink -f "/usr/sbin/$2")" ]
}

# pid_of NAME: the live pid in DIR/run/NAME.pid whose executable is
# /usr/sbin/NAME (so that a recycled pid is never signalled), else nothing.
pid_of() {
  local f=$DIR/run/$1.pid pid
  [ -s "$f" ] || return 0
  pid=$(tr -dc 0-9 <"$f")
  [ -n "$pid" ] || return 0
  is_exe "$pid" "$1" && echo "$pid"
  return 0
}

# stop_pid PID: TERM, up to 15 s to exit, then KILL.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  log "pid $pid ignored SIGTERM for 15 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# ancestors: this shell and every process above it (never signalled).
ancestors() {
  local p=$BASHPID
  while [ -n "$p" ] && [ "$p" != 0 ]; do
    echo "$p"
    p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || true)
  done
  echo $$
}

# leftover_pids: processes of this cluster, never our ancestors: those whose
# environment carries LM_SLURM_CLUSTER=DIR (the daemons' children and what
# the tests submit), and slurmstepd processes (they clear their environment)
# that hold this cluster's slurmd log open.
leftover_pids() {
  local p keep
  keep=" $(ancestors | tr '\n' ' ') ${LM_SLURM_WATCHDOG:-} "
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $keep == *" $p "* ]] && continue
    if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "LM_SLURM_CLUSTER=$DIR"; then
      echo "$p"
      continue
    fi
    is_exe "$p" slurmstepd || continue
    find "/proc/$p/fd" -lname "$DIR/log/*" 2>/dev/null | grep -q . && echo "$p"
  done
  return 0
}

node_idle() {
  [ "$(sinfo -h -N -o %T 2>/dev/null | head -1)" = idle ]
}

cmd_env() {
  echo "export SLURM_CONF=$DIR/slurm.conf"
}

cmd_stop() {
  [ -d "$DIR" ] || return 0
  export SLURM_CONF=$DIR/slurm.conf
  unset LM_SLURM_CLUSTER           # our own helpers must not look like leftovers
  local pid
  # The watchdog first, unless it is what is calling us.
  pid=$( [ -s "$DIR/run/watchdog.pid" ] && cat "$DIR/run/watchdog.pid" || true)
  if [ -n "$pid" ] && [ "$pid" != "${LM_SLURM_WATCHDOG:-}" ] &&
     tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "LM_SLURM_WATCHDOG_OF=$DIR"; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/run/watchdog.pid"
  # Jobs first, so that their steps end while slurmd can still clean up.
  if [ -n "$(pid_of slurmctld)" ]; then
    timeout 20 scancel --quiet 2>/dev/null || true
    local end=$((SECONDS + 20))
    while [ -n "$(timeout 10 squeue -h -t RUNNING,COMPLETING -o %i 2>/dev/null)" ] && [ $SECONDS -lt $end ]; do
      sleep 0.5
    done
  fi
  # A step's slurmstepd may outlive its job by KillWait seconds.
  wait_for 30 "job steps to end" bash -c "! find '$DIR/spool' -maxdepth 1 -type s | grep -q ." || true
  for d in slurmd slurmctld munged; do
    pid=$(pid_of $d)
    [ -z "$pid" ] || stop_pid "$pid"
  done
  # Anything the cluster started that outlived its daemons (slurmstepd, job processes).
  for pid in $(leftover_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  log "stopped ($DIR)"
}

cmd_status() {
  export SLURM_CONF=$DIR/slurm.conf
  local d
  for d in munged slurmctld slurmd; do
    [ -n "$(pid_of $d)" ] || { echo "$d: not running"; return 1; }
  done
  timeout 20 sinfo -N -o '%N %T %c' || return 1
}

cmd_start() {
  install_packages
  # Reuse only a directory this script made (or an empty one): it is wiped.
  if [ -d "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
    grep -qs '^# Written by tests/slurm/local-cluster.sh' "$DIR/slurm.conf" ||
      die "$DIR exists and is not a local-cluster directory; choose another DIR"
    cmd_stop
    rm -rf "$DIR"
  fi
  mkdir -p "$DIR"/{munge,state,spool,run,log,pmix}
  chmod 755 "$DIR" "$DIR/munge"     # munged insists on a 0755 socket directory
  # Stop whatever was started if any later step fails.
  trap 'rc=$?; if [ $rc != 0 ]; then log "start failed; logs in $DIR/log"; tail -n 20 "$DIR"/log/*.log >&2 || true; cmd_stop; fi' EXIT
  export SLURM_CONF=$DIR/slurm.conf LM_SLURM_CLUSTER=$DIR
  write_config

  mungekey --create --keyfile="$DIR/munge/munge.key" >/dev/null 2>&1 ||
    { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none; }
  chmod 600 "$DIR/munge/munge.key"
  munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge/munged.seed" </dev/null >>"$DIR/log/munged.log" 2>&1
  wait_for 20 munged test -S "$DIR/munge/munge.socket"

  slurmctld -f "$SLURM_CONF" -i </dev/null >>"$DIR/log/slurmctld.out" 2>&1
  wait_for 30 slurmctld timeout 10 scontrol ping
  slurmd -f "$SLURM_CONF" </dev/null >>"$DIR/log/slurmd.out" 2>&1
  if ! wait_for 60 "the node to be idle" node_idle; then
    sinfo -N -l >&2 || true
    exit 1
  fi

  # The watchdog: stops the cluster if nobody does within LIFETIME seconds.
  # Its output goes to a file so that it holds no caller's pipe open.
  LM_SLURM_WATCHDOG_OF=$DIR setsid bash -c \
    'sleep "$1"; LM_SLURM_WATCHDOG=$$ "$2" stop "$3"' watchdog "$LIFETIME" "$SELF" "$DIR" \
    </dev/null >>"$DIR/log/watchdog.log" 2>&1 &
  echo $! >"$DIR/run/watchdog.pid"
  cmd_env >"$DIR/env"
  trap - EXIT
  log "up: $(sinfo -h -N -o '%N %T cpus=%c') (. $DIR/env to use it)"
}

case $CMD in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|status|env [DIR]" >&2; exit 2 ;;
esac
