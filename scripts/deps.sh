#!/usr/bin/env bash
# deps.sh: installs the Debian packages a make target needs, if missing.
# Usage: scripts/deps.sh test|demo|bench|fuzz
set -eu
need=(gcc make cmake python3-dev python3-pytest python3-pip python3-venv)
case "${1:-test}" in
  test) need+=(clang curl iproute2 nftables valgrind libclang-rt-14-dev) ;;
  demo) need+=(curl) ;;
  bench) need+=(python3-matplotlib valgrind strace) ;;
  fuzz) need+=(clang libclang-rt-14-dev) ;;
esac
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
