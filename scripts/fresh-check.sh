#!/usr/bin/env bash
# fresh-check.sh: the README's two commands on a bare Debian 12, as a new
# user would run them.
#
# Usage (as root): scripts/fresh-check.sh [demo] [test]   (default: both)
#
# Creates a minimal Debian 12 root with debootstrap (--variant=minbase plus
# git, make and ca-certificates: what a user needs to clone the project),
# clones the current commit into it, and runs `make demo` and/or `make test`
# there under chroot, with /proc, /sys, /dev and a tmpfs /run mounted and
# an /etc/hosts as every installed Debian has. Everything is unmounted and
# removed afterwards, whatever happened. Uncommitted changes are not seen:
# the check is of the commit, as CI's clone would be.
#
# The Debian mirror is the one this machine's apt already uses (override:
# FRESH_MIRROR=http://...); FRESH_KEEP=1 keeps the root for a post-mortem.
# Each command's output is also kept in build-fresh/make-<command>.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(demo test)
for s in "${steps[@]}"; do
  case $s in demo | test) ;; *)
    echo "usage: $0 [demo] [test]" >&2
    exit 2
    ;;
  esac
done
[ "$(id -u)" -eq 0 ] || {
  echo "fresh-check: needs root (debootstrap, chroot, mount)" >&2
  exit 2
}

say() { printf 'fresh-check: %s\n' "$*"; }
stamp() { date +%s; }

# The mirror apt uses for bookworm's main component, read from apt itself so
# that any sources format (one-line or deb822) and any local mirror work.
mirror=${FRESH_MIRROR:-$(apt-cache policy 2>/dev/null |
  awk '$3 == "bookworm/main" { print $2; exit }')}
[ -n "$mirror" ] || {
  echo "fresh-check: no bookworm mirror in apt's sources; set FRESH_MIRROR" >&2
  exit 2
}
command -v debootstrap >/dev/null || {
  say "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

commit=$(git -C "$top" rev-parse HEAD)
git -C "$top" diff --quiet HEAD -- 2>/dev/null ||
  say "note: uncommitted changes are not part of the check"

# The logs outlive the root, for a post-mortem.
logs=$top/build-fresh
mkdir -p "$logs"
root=$(mktemp -d "${TMPDIR:-/var/tmp}/usocket-fresh.XXXXXX")
chmod 755 "$root" # it becomes /, which every user must be able to walk

# Whatever a command left running inside the root (nothing, normally)
# would hold its mounts busy, and its output open: end those processes,
# found by their root.
end_root_procs() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
      kill -KILL "${p#/proc/}" 2>/dev/null
  done
  return 0
}

cleanup() {
  local rc=$?
  set +e
  end_root_procs
  # Deepest mounts first; a lazy unmount for any that stays busy.
  mounts_under() { findmnt -rn -o TARGET | grep -E "^$root(/|\$)"; }
  mounts_under | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -f "$root.out"
  if mounts_under >/dev/null; then
    say "still mounted under $root; not removing it"
  elif [ "${FRESH_KEEP:-}" = 1 ]; then
    say "kept $root"
  else
    rm -rf --one-file-system "$root"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(stamp)
say "debootstrap bookworm from $mirror into $root"
debootstrap --variant=minbase --include=git,make,ca-certificates \
  bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -n 20 "$root.debootstrap.log"
  rm -f "$root.debootstrap.log"
  exit 1
}
rm -f "$root.debootstrap.log"
t1=$(stamp)
say "root ready in $((t1 - t0)) s"

# The root is a mount point of its own, as / is on a real system: `ip
# netns` (the tests' network namespaces) remounts / and fails otherwise.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
# What an installed Debian has and debootstrap leaves out: the loopback
# names, and name resolution (here, for apt to reach the mirror).
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
  >"$root/etc/hosts"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# A proxy this machine's apt needs, the fresh one needs too.
for f in /etc/apt/apt.conf.d/*; do
  grep -qi 'proxy' "$f" 2>/dev/null && cp "$f" "$root/etc/apt/apt.conf.d/"
done

git clone -q --no-local "$top" "$root/root/usocket"
git -C "$root/root/usocket" checkout -q "$commit"
say "cloned $commit"

# The whole check ends within FRESH_LIMIT seconds (default 4800, inside
# CI's 90 minutes): a command still running then is stopped, with a
# message, rather than left to run into CI's own limit unexplained.
limit=${FRESH_LIMIT:-4800}
for s in "${steps[@]}"; do
  ts=$(stamp)
  left=$((limit - (ts - t0)))
  [ "$left" -gt 0 ] || {
    say "no time left for make $s (FRESH_LIMIT=$limit s)"
    exit 1
  }
  say "make $s (at most $left s)"
  # The output goes to tee through a named pipe, not a shell pipeline:
  # the command's own status comes back when it ends, even if something
  # it started still holds the output open; that is then ended, and tee
  # sees the end of its input. No input: under timeout the command is not
  # in the terminal's foreground, and a read from it would stop the check.
  fifo=$root.out
  rm -f "$fifo"
  mkfifo "$fifo"
  tee "$logs/make-$s.log" <"$fifo" &
  tee_pid=$!
  rc=0
  timeout -k 30 "$left" chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
    LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd /root/usocket && make $s" <"/dev/null" >"$fifo" 2>&1 ||
    rc=$?
  end_root_procs
  wait "$tee_pid" || true
  rm -f "$fifo"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    say "make $s STOPPED: still running after $left s"
    exit 1
  elif [ "$rc" -ne 0 ]; then
    say "make $s FAILED (exit $rc) after $(($(stamp) - ts)) s"
    exit 1
  fi
  say "make $s: exit 0 in $(($(stamp) - ts)) s"
done
say "all passed in $(($(stamp) - t0)) s"
