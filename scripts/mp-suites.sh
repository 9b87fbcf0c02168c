#!/usr/bin/env bash
# mp-suites.sh: MicroPython's own socket, select, ssl, tls and asyncio tests
# (extmod, net_hosted, multi_net), run with the port's socket module and with
# ours; lists every test whose result differs.
#
# Usage: scripts/mp-suites.sh MICROPYTHON_SRC STOCK_BINARY OUR_BINARY
#   MICROPYTHON_SRC  a MicroPython checkout (its tests/ are run from there)
#   STOCK_BINARY     its unix port, built as it comes
#   OUR_BINARY       the same port built with our module (micropython/README.md)
# Exits 1 if a test passes with the port's module and not with ours, unless
# it is a departure the README's table of differences lists (DOCUMENTED).
set -euo pipefail
[ $# -eq 3 ] || {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
src=$(realpath "$1")
for b in "$2" "$3"; do
  [ -x "$b" ] || {
    echo "mp-suites: not an executable: $b" >&2
    exit 2
  }
done
[ -f "$src/tests/run-tests.py" ] || {
  echo "mp-suites: no tests/run-tests.py in $src" >&2
  exit 2
}
# Departures on purpose, each a row of the README's "How it differs".
DOCUMENTED=(multi_net/asyncio_tcp_client_rst.py)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
py=/usr/bin/python3

# Prints "pass NAME" / "FAIL NAME" / "skip NAME" lines, one per test.
run_suites() {
  local bin=$1 tag=$2
  (cd "$src/tests" &&
    MICROPY_MICROPYTHON=$bin timeout 900 $py run-tests.py -r "$out/r-$tag" \
      -d extmod net_hosted -i 'socket|select|ssl|tls|asyncio|net' 2>&1 || true
    MICROPY_MICROPYTHON=$bin timeout 900 $py run-multitests.py -t unix -t unix \
      multi_net/*.py 2>&1 || true) |
    sed -nE -e 's/^(pass|FAIL|skip) +([^ ]+).*/\1 \2/p' \
      -e 's/^([^ ]+) on [^ ]+: (pass|FAIL|skip)$/\2 \1/p' | sort -k2
}

run_suites "$(realpath "$2")" stock >"$out/stock"
run_suites "$(realpath "$3")" ours >"$out/ours"
for tag in stock ours; do
  echo "mp-suites: $tag: $(grep -c '^pass' "$out/$tag") passed," \
    "$(grep -c '^FAIL' "$out/$tag") failed, $(grep -c '^skip' "$out/$tag") skipped"
done

bad=0
while read -r name; do
  verdict="NOT DOCUMENTED"
  for d in "${DOCUMENTED[@]}"; do [ "$d" = "$name" ] && verdict="documented"; done
  [ "$verdict" = documented ] || bad=1
  echo "mp-suites: passes with the port's module only: $name ($verdict)"
done < <(join -1 2 -2 2 -o 0,1.1,2.1 "$out/stock" "$out/ours" |
  awk '$2 == "pass" && $3 != "pass" { print $1 }')
join -1 2 -2 2 -o 0,1.1,2.1 "$out/stock" "$out/ours" |
  awk '$2 != "pass" && $3 == "pass" { print "mp-suites: passes with ours only: " $1 }'
exit $bad
