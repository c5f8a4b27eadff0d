#!/usr/bin/env bash
# bare-root: proves the setup on a bare machine. Builds (once, then cached) a
# minimal Debian 12 bookworm root with debootstrap from the mirror this
# machine's apt sources name, copies the clone and the shared data into a
# fresh copy of it and runs tests/bare/bare-smoke.sh there as root with no
# standard input (install-deps, build, preprocess + 2-rank train + generate).
# Mounts and the working root are always removed, also on failure or signal.
#
# usage: tests/bare/bare-root.sh [SRC_DIR [SHARED_DIR]]
#   SRC_DIR     the clone (default: this script's); its git-tracked and
#               untracked-not-ignored files are copied, never build/
#   SHARED_DIR  the shared data (default: SRC_DIR/../shared)
# Environment: LM_BARE_CACHE (default /var/cache/lyricmind-bare): the base
# root tarball, downloaded .debs and apt lists, reused by later runs;
# LM_BARE_MIRROR: a mirror URL instead of the one in the apt sources.
# Needs root (debootstrap, chroot, mount). See docs/layout.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/../..}" && pwd)
shared=$(cd "${2:-$src/../shared}" && pwd)
cache=${LM_BARE_CACHE:-/var/cache/lyricmind-bare}
SUITE=bookworm
say() { echo "bare-root: $*"; }
die() { echo "bare-root: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mount)"
[ -d "$shared/data/lyrics" ] || die "$shared/data/lyrics: no shared lyrics data"

# The first enabled 'deb' source for $SUITE in the one-line (*.list) and
# deb822 (*.sources) formats: prints its URI, or nothing.
LIST_AWK='$1 == "deb" { i = 2
    if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
    if ($(i + 1) == suite) { print $i; exit } }'
SOURCES_AWK='BEGIN { RS = ""; FS = "\n" } {
    types = ""; uris = ""; suites = ""; enabled = "yes"
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^#/ || $i !~ /:/) continue
      k = tolower(substr($i, 1, index($i, ":") - 1)); v = " " substr($i, index($i, ":") + 1) " "
      if (k == "types") types = v; else if (k == "uris") uris = v
      else if (k == "suites") suites = v; else if (k == "enabled") enabled = v
    }
    if (types ~ / deb / && suites ~ (" " suite " ") && enabled !~ /no/) {
      split(uris, u, " "); print u[1]; exit } }'
host_mirror() {
  local f m
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    case $f in *.sources) m=$(awk -v suite=$SUITE "$SOURCES_AWK" "$f") ;;
               *) m=$(awk -v suite=$SUITE "$LIST_AWK" "$f") ;; esac
    [ -z "$m" ] || { echo "$m"; return 0; }
  done
}

need_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  say "installing debootstrap on this machine"
  local log; log=$(mktemp /tmp/bare-root-apt.XXXXXX)
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends debootstrap; } </dev/null >"$log" 2>&1 \
    || { cat "$log" >&2; rm -f "$log"; die "cannot install debootstrap"; }
  rm -f "$log"
}

# The cached base root ($tar): debootstrap once into a temporary directory,
# tar it, rename the tarball into place (a killed run never leaves half a
# base). A lock keeps two runs from building it at once.
base_root() {
  local tmp mirror
  tar=$cache/$SUITE-$(dpkg --print-architecture)-minbase-v1.tar
  exec 9>"$cache/lock"
  flock 9
  sweep_stale
  [ -s "$tar" ] && return 0
  mirror=${LM_BARE_MIRROR:-$(host_mirror)}
  [ -n "$mirror" ] || die "no enabled 'deb' source for $SUITE in /etc/apt/sources.list{,.d}; set LM_BARE_MIRROR"
  need_debootstrap
  mkdir -p "$cache/debootstrap-debs"
  tmp=$(mktemp -d "$cache/base.XXXXXX")
  building=$tmp
  say "building the base root: debootstrap --variant=minbase $SUITE from the host's mirror"
  if ! debootstrap --variant=minbase --cache-dir="$cache/debootstrap-debs" \
        "$SUITE" "$tmp" "$mirror" </dev/null >"$cache/debootstrap.log" 2>&1; then
    cat "$cache/debootstrap.log" >&2; die "debootstrap failed"
  fi
  rm -f "$tmp"/var/cache/apt/archives/*.deb
  tar -C "$tmp" -cf "$tar.tmp.$$" . && mv "$tar.tmp.$$" "$tar"
  unmount_remove "$tmp"
  building=""
}

work="" building=""
# Kills every process whose root directory is below DIR (what a killed run's
# job, or a daemon it started, still runs there).
kill_inside() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case $r in "$1"/*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
  done
  sleep 0.5
}
# Unmounts everything below DIR, deepest first, then removes DIR; refuses to
# remove a tree that still has a mount in it.
unmount_remove() {
  local dir=$1 m
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  kill_inside "$dir"
  for m in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  if findmnt -rn -o TARGET | grep -qF "$dir/"; then
    echo "bare-root: mounts left under $dir; not removing it" >&2; return 1
  fi
  rm -rf --one-file-system "$dir"
}
# Working roots of runs killed outright (SIGKILL, e.g. a ctest timeout):
# called under the lock, which a live run holds to its end, so every one
# left is stale.
sweep_stale() {
  local d
  for d in /tmp/bare-root.??????; do
    [ -d "$d" ] || continue
    say "removing the stale working root $d"
    unmount_remove "$d"
  done
}
child=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e   # clean up all of it, whatever fails on the way
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM -- "-$child" 2>/dev/null; sleep 2; kill -KILL -- "-$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  unmount_remove "$work" || rc=1
  unmount_remove "$building" || rc=1
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The working root: a fresh copy of the base (on a tmpfs), with the kernel
# file systems, the host's DNS settings and the .deb/apt-list caches bound in.
make_root() {
  local root=$1 tar=$2
  mkdir -p "$root" "$cache/archives/partial" "$cache/lists/partial"
  # In memory when possible: dpkg's fsyncs cost nothing and removal is an unmount.
  mount -t tmpfs -o size=6g,mode=755 tmpfs "$root" 2>/dev/null \
    || say "no tmpfs for the working root; using the disk under $root"
  tar -C "$root" -xf "$tar"
  chmod 755 "$root"   # the tarball's top is debootstrap's mktemp directory (0700)
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"   # start no services
  chmod 755 "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  mount -t sysfs -o ro sysfs "$root/sys" 2>/dev/null || mount --bind -o ro /sys "$root/sys"
  mount --bind /dev "$root/dev"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
  mount --bind "$cache/archives" "$root/var/cache/apt/archives"
  mount --bind "$cache/lists" "$root/var/lib/apt/lists"
}

# The clone's files (git-tracked and untracked-not-ignored; build/ never) and
# the shared data, laid out as on the host: /src/lyricmind beside /src/shared.
copy_in() {
  local root=$1
  mkdir -p "$root/src/lyricmind" "$root/src/shared"
  if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$src" ]; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard \
       | tar --null --ignore-failed-read -T - -cf -) | tar -C "$root/src/lyricmind" -xf -
  else
    tar -C "$src" --exclude=./build --exclude=./.git -cf - . | tar -C "$root/src/lyricmind" -xf -
  fi
  rm -rf "$root/src/lyricmind/build"
  cp -a "$shared/." "$root/src/shared/"
}

# The whole run in one function, so that bash has parsed all of this file
# before it starts, and exits on the line that calls it (an edit to the file
# during a run cannot break it).
main() {
  start=$(date +%s)
  mkdir -p "$cache"
  base_root
  say "base root $tar ($(( $(date +%s) - start )) s)"
  work=$(mktemp -d /tmp/bare-root.XXXXXX)
  make_root "$work/root" "$tar"
  copy_in "$work/root"
  say "working root ready ($(( $(date +%s) - start )) s); running tests/bare/bare-smoke.sh inside"
  # In its own session (so cleanup can end all of it), in the background (so
  # a signal to this script is handled at once, not after the job ends), and
  # without the lock's descriptor (a job outliving a killed run must not
  # hold the lock, or the next run could never sweep it).
  setsid chroot "$work/root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c 'cd /src/lyricmind && exec bash tests/bare/bare-smoke.sh /src/shared' </dev/null 9>&- &
  child=$!
  wait "$child" || die "the smoke job failed in the bare root (exit $?)"
  child=""
  say "ok in $(( $(date +%s) - start )) s"
}
main "$@"; exit
