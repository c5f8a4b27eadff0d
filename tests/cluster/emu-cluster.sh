#!/usr/bin/env bash
# emu-cluster.sh: an emulated multi-host cluster on one Linux machine, for the
# tests and by hand. K "hosts" are network namespaces, each with one veth link
# (eth0, 169.254.S.(10+i)/24) to a bridge in a switch namespace of its own;
# mpirun runs in a "head" namespace on the same subnet (169.254.S.1) and
# starts one orted per host through an rsh agent that does
# `ip netns exec HOST /bin/sh -c ...`. MPI traffic is TCP only (btl self,tcp,
# no shared memory) on that subnet. An optional rate limit (tbf, both
# directions of every host link, receive side pinned to one CPU by RPS so
# that tbf does not reorder) makes each link a 1 or 10 Gbit/s Ethernet.
#
#   emu-cluster.sh [options] [--] PROGRAM [ARGS...]   mpirun -np N PROGRAM ARGS on the hosts
#   emu-cluster.sh [options] --shell [--] CMD [ARGS...]
#                  runs CMD in the head namespace with EMU_MPIRUN (the mpirun
#                  command line without -np), EMU_HOSTS (the host namespaces),
#                  EMU_HEAD, EMU_SUBNET, EMU_RATE and EMU_PID (this script's
#                  PID: its mount namespace has the host's /sys) in its environment
#   emu-cluster.sh check       exit 0 if this machine can run it, else 77 with the reason
#   emu-cluster.sh cleanup     removes what killed runs left: namespaces named
#                              lmemu<PID>-* whose creating PID is dead
#
# Options:
#   -k, --hosts K      emulated hosts (2..16, default 2)
#   -n, --np N         ranks (default K; mapped round robin over the hosts)
#   -r, --rate R       per-host link rate: none (default), 1gbit or 10gbit
#   -t, --timeout S    end the command (TERM, then KILL) after S seconds (default: none)
#   -h, --help         this text
#
# Exit code: the command's (124 on timeout), 2 for bad usage, 77 when this
# machine cannot run it (not root, or no `ip netns`), 1 if set-up failed.
#
# Invariants: nothing outside the namespaces this run creates is touched: no
# interface, address, route or qdisc of the host's own namespace (links are
# created inside the switch namespace and moved straight into a host
# namespace), no traffic leaves them. Names carry lmemu<PID> (this script's
# PID), so runs side by side never meet. On exit (also on failure, INT and
# TERM) every process left in these namespaces, all of them started by this
# run, is killed by PID and the namespaces are deleted, which removes their
# links, bridge and qdiscs with them.
set -euo pipefail
# Lower-case names for our variables: an upper-case one could be a caller's
# exported variable (WORK, MPIRUN...) and would leak our value to the command.

prefix=lmemu
run_id=$prefix$$
log() { echo "emu-cluster: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die_usage() { log "$*"; log "see $0 --help"; exit 2; }

# ns_pids NS: PIDs of the processes in namespace NS.
ns_pids() { ip netns pids "$1" 2>/dev/null || true; }

# remove_ns NS...: kills what runs in each namespace (only processes this
# tool's runs started: nothing else lives there), then deletes it.
remove_ns() {
  local ns pid pids
  for ns in "$@"; do
    for _ in 1 2 3; do
      pids=$(ns_pids "$ns")
      [ -n "$pids" ] || break
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
      sleep 0.2
    done
    ip netns delete "$ns" 2>/dev/null || true
  done
}

# cleanup: namespaces of runs whose creating process is gone.
cmd_cleanup() {
  local ns pid n=0
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns =~ ^${prefix}([0-9]+)-[a-z0-9]+$ ]] || continue
    pid=${BASH_REMATCH[1]}
    [ -d "/proc/$pid" ] && continue
    remove_ns "$ns"
    n=$((n + 1))
  done
  for d in "${TMPDIR:-/tmp}"/${prefix}[0-9]*.??????; do
    [[ $d =~ /${prefix}([0-9]+)\.[A-Za-z0-9]{6}$ ]] || continue
    [ -d "/proc/${BASH_REMATCH[1]}" ] || rm -rf "$d"
  done
  log "removed $n leftover namespace(s)"
}

can_run() {
  [ "$(id -u)" = 0 ] || { log "SKIP: needs root (network namespaces)"; return 1; }
  command -v ip >/dev/null && ip netns list >/dev/null 2>&1 ||
    { log "SKIP: 'ip netns' is not available"; return 1; }
  command -v mpirun >/dev/null || { log "SKIP: no mpirun"; return 1; }
}

nhosts=2 nranks="" rate=none timeout_s=0 shell_mode=0
case ${1:-} in
  cleanup) cmd_cleanup; exit 0 ;;
  check) can_run || exit 77; exit 0 ;;
esac
while [ $# -gt 0 ]; do
  case $1 in
    -k|--hosts) nhosts=${2:-}; shift 2 ;;
    -n|--np) nranks=${2:-}; shift 2 ;;
    -r|--rate) rate=${2:-}; shift 2 ;;
    -t|--timeout) timeout_s=${2:-}; shift 2 ;;
    --shell) shell_mode=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die_usage "unknown option '$1'" ;;
    *) break ;;
  esac
done
[[ $nhosts =~ ^[0-9]+$ ]] && [ "$nhosts" -ge 2 ] && [ "$nhosts" -le 16 ] || die_usage "--hosts must be 2..16, not '$nhosts'"
nranks=${nranks:-$nhosts}
[[ $nranks =~ ^[0-9]+$ ]] && [ "$nranks" -ge 1 ] || die_usage "--np must be a positive number, not '$nranks'"
[[ $timeout_s =~ ^[0-9]+$ ]] || die_usage "--timeout must be seconds, not '$timeout_s'"
case $rate in
  none) ;;
  1gbit) tbf="rate 1gbit burst 256kb limit 4mb" ;;
  10gbit) tbf="rate 10gbit burst 1mb limit 16mb" ;;
  *) die_usage "--rate must be none, 1gbit or 10gbit, not '$rate'" ;;
esac
[ $# -gt 0 ] || die_usage "no command given"
can_run || exit 77

# The subnet: a link-local /24 that only exists inside our namespaces.
sb=$(( $$ % 200 + 20 ))
subnet=169.254.$sb.0/24
head_ns=$run_id-head sw_ns=$run_id-sw
hosts=()
for i in $(seq 0 $((nhosts - 1))); do hosts+=("$run_id-h$i"); done
work_dir=$(mktemp -d "${TMPDIR:-/tmp}/$run_id.XXXXXX")
created=()

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  remove_ns "${created[@]}"
  rm -rf "$work_dir"
  exit $rc
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

new_ns() { ip netns add "$1"; created+=("$1"); ip -n "$1" link set lo up; }

# link NS ADDR PORT: veth from the bridge's port PORT to eth0 in NS.
link() {
  local ns=$1 addr=$2 port=$3
  ip -n "$sw_ns" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$sw_ns" link set "$port" master br0 up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  [ "$rate" = none ] && return 0
  # shellcheck disable=SC2086
  tc -n "$ns" qdisc add dev eth0 root tbf $tbf
  # shellcheck disable=SC2086
  tc -n "$sw_ns" qdisc add dev "$port" root tbf $tbf
  # Receive processing of each end on one CPU, else tbf's output is
  # reordered across per-CPU backlogs and TCP slows down.
  ip netns exec "$ns" sh -c 'echo 1 > /sys/class/net/eth0/queues/rx-0/rps_cpus'
  ip netns exec "$sw_ns" sh -c "echo 1 > /sys/class/net/$port/queues/rx-0/rps_cpus"
}

setup() {
  new_ns "$sw_ns"
  ip -n "$sw_ns" link add br0 type bridge
  ip -n "$sw_ns" link set br0 up
  new_ns "$head_ns"
  link "$head_ns" "169.254.$sb.1" phead
  local i
  for i in $(seq 0 $((nhosts - 1))); do
    new_ns "${hosts[$i]}"
    link "${hosts[$i]}" "169.254.$sb.$((10 + i))" "p$i"
    echo "${hosts[$i]} slots=1" >>"$work_dir/hostfile"
  done
  # The rsh agent: `agent HOST COMMAND...` runs COMMAND in namespace HOST.
  # Each host gets its own TMPDIR: they all share one host name, and Open
  # MPI names its session directories after it.
  cat >"$work_dir/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case \$host in $run_id-h*) ;; *) echo "emu-cluster agent: unknown host \$host" >&2; exit 1 ;; esac
mkdir -p "$work_dir/tmp-\$host"
exec ip netns exec "\$host" env TMPDIR="$work_dir/tmp-\$host" /bin/sh -c "\$*"
AGENT
  chmod 755 "$work_dir/agent"
}

setup
mpirun_cmd="mpirun --allow-run-as-root --oversubscribe --bind-to none --map-by node \
--hostfile $work_dir/hostfile --mca plm_rsh_agent $work_dir/agent --mca plm_rsh_no_tree_spawn 1 \
--mca pml ob1 --mca btl self,tcp --mca rtc ^hwloc \
--mca btl_tcp_if_include $subnet --mca oob_tcp_if_include $subnet"
export EMU_MPIRUN=$mpirun_cmd EMU_HOSTS="${hosts[*]}" EMU_HEAD=$head_ns EMU_SUBNET=$subnet EMU_RATE=$rate EMU_PID=$$
export TMPDIR=$work_dir
log "$nhosts hosts (${hosts[*]}), subnet $subnet, rate $rate"

if [ $shell_mode = 1 ]; then cmd=("$@"); else
  # shellcheck disable=SC2206
  cmd=($mpirun_cmd -np "$nranks" "$@")
fi
[ "$timeout_s" = 0 ] || cmd=(timeout -k 10 "$timeout_s" "${cmd[@]}")
set +e
ip netns exec "$head_ns" "${cmd[@]}" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 130' INT
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 143' TERM
wait $child
rc=$?
set -e
exit $rc
