#!/usr/bin/env bash
# emu-slurm.sh: a SLURM cluster on the emulated hosts, one slurmd per host
# namespace. Runs INSIDE emu-cluster.sh --shell (it needs EMU_HOSTS,
# EMU_SUBNET), then runs CMD with SLURM_CONF pointing at that cluster:
#
#   emu-cluster.sh -k 2 --shell -- tests/cluster/emu-slurm.sh CMD [ARGS...]
#
# munged and slurmctld run in the head namespace (slurmctld on the head's
# address), each slurmd in its host namespace under a UTS namespace of its
# own whose host name is the node name (so slurmd finds its NodeName by
# gethostname: no --enable-multiple-slurmd build is needed). State, config
# and logs live in a mktemp directory in emu-cluster's; every daemon lives in one of
# emu-cluster's namespaces, so its teardown kills them all.
set -euo pipefail
: "${EMU_HOSTS:?run me under emu-cluster.sh --shell}"
log() { echo "emu-slurm: $*" >&2; }
# Under emu-cluster's own directory (TMPDIR), which its exit and `cleanup`
# remove; short enough for the munge socket path (108 bytes).
D=$(mktemp -d "${TMPDIR:-/tmp}/lmes.XXXXXX")
trap 'rc=$?; [ $rc = 0 ] || tail -n 8 "$D"/log/* >&2 2>/dev/null; rm -rf "$D"' EXIT
mkdir -p "$D"/{munge,state,spool,run,log}
chmod 755 "$D" "$D/munge"
read -r -a hosts <<<"$EMU_HOSTS"
net=${EMU_SUBNET%.0/24}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("'"$net.1"'", 0)); print(s.getsockname()[1])'; }
ctld_port=$(port)
node=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
{
  echo "# emu-slurm.sh: ${#hosts[@]} emulated hosts"
  echo "ClusterName=lmemu"
  echo "SlurmctldHost=$(hostname -s)($net.1)"
  echo "SlurmctldPort=$ctld_port"
  echo "SlurmdPort=6818"
  echo "SlurmUser=root"
  echo "SlurmdUser=root"
  echo "AuthType=auth/munge"
  echo "CredType=cred/munge"
  echo "AuthInfo=socket=$D/munge/munge.socket"
  echo "StateSaveLocation=$D/state"
  echo "SlurmdSpoolDir=$D/spool/%n"
  echo "SlurmctldPidFile=$D/run/slurmctld.pid"
  echo "SlurmdPidFile=$D/run/slurmd-%n.pid"
  echo "SlurmctldLogFile=$D/log/slurmctld.log"
  echo "SlurmdLogFile=$D/log/slurmd-%n.log"
  echo "ProctrackType=proctrack/linuxproc"
  echo "TaskPlugin=task/none"
  echo "SelectType=select/cons_tres"
  echo "SelectTypeParameters=CR_Core"
  echo "MpiDefault=pmix"
  echo "ReturnToService=2"
  echo "SchedulerParameters=sched_interval=2"
  echo "MailProg=/bin/true"
  echo "AccountingStorageType=accounting_storage/none"
  echo "JobAcctGatherType=jobacct_gather/none"
  echo "MinJobAge=600"
  echo "KillWait=5"
  i=0
  for h in "${hosts[@]}"; do
    echo "NodeName=$h NodeAddr=$net.$((10 + i)) $node State=UNKNOWN"
    i=$((i + 1))
  done
  echo "PartitionName=emu Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$D/slurm.conf"
export SLURM_CONF=$D/slurm.conf
mungekey --create --keyfile="$D/munge/munge.key" >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$D/munge/munge.key"
munged --force --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" \
  --pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/seed" </dev/null
slurmctld -f "$SLURM_CONF" -i </dev/null >>"$D/log/slurmctld.out" 2>&1
# Each slurmd reads its own copy of slurm.conf and an mpi.conf beside it:
# the hosts share one /tmp, where the pmix plugin would make the same
# per-step directory on every node.
for h in "${hosts[@]}"; do
  mkdir -p "$D/spool/$h" "$D/node-$h/pmix"
  cp "$SLURM_CONF" "$D/node-$h/slurm.conf"
  echo "PMIxCliTmpDirBase=$D/node-$h/pmix" >"$D/node-$h/mpi.conf"
  nsenter --mount=/proc/"$EMU_PID"/ns/mnt --net=/run/netns/"$h" unshare --uts sh -c "hostname $h && exec slurmd -f $D/node-$h/slurm.conf" </dev/null \
    >>"$D/log/slurmd-$h.out" 2>&1
done
end=$((SECONDS + 60))
until [ "$(sinfo -h -N -o %T 2>/dev/null | grep -c '^idle')" = "${#hosts[@]}" ]; do
  if [ $SECONDS -ge $end ]; then
    log "nodes not idle after 60 s:"; sinfo -N -l >&2 || true
    tail -n 5 "$D"/log/*.log >&2 || true
    exit 1
  fi
  sleep 0.5
done
log "up: $(sinfo -h -N -o '%N %T' | tr '\n' ' ')"
export EMU_SLURM_DIR=$D
set +e
"$@"
rc=$?
[ $rc = 0 ] || tail -n 15 "$D"/log/*.log >&2
exit $rc
