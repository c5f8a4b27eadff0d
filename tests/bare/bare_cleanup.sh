#!/usr/bin/env bash
# bare_cleanup: bare-root.sh leaves no mount, process or working root behind
# when the job inside fails or when it is sent SIGTERM, and reports the
# failure; what a SIGKILLed run leaves, the next run removes. The job is a stand-in tests/bare/bare-smoke.sh in a small fake
# clone (not a git checkout), so each case costs seconds, not a build. It
# also checks what the real job relies on: /proc, /sys, /dev/pts and
# /dev/shm mounted, standard input empty, running as root.
# usage: bare_cleanup.sh BARE_ROOT_SH SHARED_DIR WORK_DIR
set -euo pipefail
bare=$1 shared=$2 work=$3
fail() { echo "bare_cleanup: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"

leftovers() {   # mounts or working roots of bare-root.sh still present
  findmnt -rn -o TARGET | grep '^/tmp/bare-root\.' || true
  ls -d /tmp/bare-root.?????? 2>/dev/null || true
}
fake_clone() {  # DIR BODY: a clone whose smoke job is BODY
  mkdir -p "$1/tests/bare"
  printf '#!/bin/bash\n%s\n' "$2" > "$1/tests/bare/bare-smoke.sh"
}
[ -z "$(leftovers)" ] || fail "leftovers before the test: $(leftovers)"

# 1. The job fails: bare-root.sh exits non-zero, saying so, and cleans up.
fake_clone "$work/fail" '
for m in /proc /sys /dev /dev/pts /dev/shm /var/cache/apt/archives; do
  mountpoint -q $m || { echo "fake smoke: $m is not mounted"; exit 9; }
done
[ "$(id -u)" = 0 ] || { echo "fake smoke: not root"; exit 9; }
if read -r line; then echo "fake smoke: standard input is not empty"; exit 9; fi
echo "fake smoke: environment ok"; exit 3'
rc=0
bash "$bare" "$work/fail" "$shared" > "$work/fail.log" 2>&1 || rc=$?
cat "$work/fail.log"
grep -q "fake smoke: environment ok" "$work/fail.log" || fail "the job did not see the expected environment"
[ $rc = 1 ] && grep -q "smoke job failed in the bare root (exit 3)" "$work/fail.log" \
  || fail "a failing job gave exit $rc without the failure line"
[ -z "$(leftovers)" ] || fail "left behind after a failure: $(leftovers)"

# gone PID: PID has ended within 5 s (a signalled process on a loaded
# machine may still be scheduled for a moment after the signal was sent).
gone() {
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# 2. SIGTERM while the job runs: exit 143 at once, the job's processes ended.
fake_clone "$work/term" 'echo "fake smoke: pid $$"; sleep 300'
bash "$bare" "$work/term" "$shared" > "$work/term.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  grep -q "fake smoke: pid" "$work/term.log" && break
  sleep 0.2
done
inner=$(awk '/fake smoke: pid/ { print $4 }' "$work/term.log")
[ -n "$inner" ] || { kill "$pid"; wait "$pid" || true; cat "$work/term.log"; fail "the job never started"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
cat "$work/term.log"
[ $rc = 143 ] || fail "SIGTERM gave exit $rc, expected 143"
gone "$inner" || fail "the job (pid $inner) still runs after SIGTERM"
[ -z "$(leftovers)" ] || fail "left behind after SIGTERM: $(leftovers)"

# 3. A run killed outright (SIGKILL: no trap runs) leaves its root and its
#    job running there; the next run ends the job and removes the root.
bash "$bare" "$work/term" "$shared" > "$work/kill.log" 2>&1 &
pid=$!
inner=""
for _ in $(seq 600); do
  inner=$(awk '/fake smoke: pid/ { print $4 }' "$work/kill.log")
  [ -z "$inner" ] || break
  sleep 0.2
done
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
[ -n "$inner" ] || { cat "$work/kill.log"; fail "the job never started"; }
left=$(leftovers)
[ -n "$left" ] || fail "a SIGKILLed run left nothing behind? (the next case would prove nothing)"
rc=0
bash "$bare" "$work/fail" "$shared" > "$work/after.log" 2>&1 || rc=$?
cat "$work/after.log"
grep -q "removing the stale working root" "$work/after.log" || fail "the next run did not remove the stale root"
[ -z "$(leftovers)" ] || fail "left behind after the next run: $(leftovers)"
gone "$inner" || fail "the killed run's job (pid $inner) still runs"
echo "bare cleanup ok"
