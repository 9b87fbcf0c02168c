#!/usr/bin/env bash
# deps.sh: installs the Debian packages a make target needs, if missing.
# Usage: scripts/deps.sh test|demo|bench|fuzz
# Each list is what that target runs, checked on a bare Debian 12 root
# (scripts/fresh-check.sh): nothing may come from whatever a developer's
# machine happens to have.
set -eu
# Every target builds the C core and the CPython module; netbase gives
# /etc/services and /etc/protocols, which getaddrinfo(host, "http") reads;
# libssl-dev is the default TLS engine (OpenSSL 3), libmbedtls-dev the
# other one make test builds.
need=(gcc make cmake git pkg-config python3 python3-dev netbase libssl-dev)
case "${1:-test}" in
  # make test: format check, gcc and clang builds, C and Python tests (the
  # packaging test's venv, network namespaces with nftables, curl and
  # strace as peers and probes, mosquitto as the MQTT broker of the
  # tests/apps clients), ASan/UBSan, libFuzzer, valgrind, the TLS tests
  # on mbedTLS, the core for a Cortex-M (newlib, lwIP's headers).
  test) need+=(clang clang-format libclang-rt-14-dev python3-pytest
    python3-pip python3-setuptools python3-wheel python3-venv
    iproute2 nftables curl strace valgrind procps mosquitto openssl
    libmbedtls-dev gcc-arm-none-eabi libnewlib-arm-none-eabi
    liblwip-dev) ;;
  demo) need+=(curl) ;;
  bench) need+=(clang python3-matplotlib python3-uvloop valgrind strace
    linux-perf openssl libmbedtls-dev) ;;
  fuzz) need+=(clang libclang-rt-14-dev) ;;
  *)
    echo "usage: $0 test|demo|bench|fuzz" >&2
    exit 2
    ;;
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
# Another apt (an unattended upgrade, a parallel job) may hold dpkg's lock
# for a while: wait for it rather than fail.
lock=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${lock[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${lock[@]}" install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
