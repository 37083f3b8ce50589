#!/usr/bin/env bash
# Issue 14's write aims, measured in one run beside their baselines and peer:
#   aim 1a  64 appenders x 1 event    >= 0.7 of raw C committing batches of 64
#           (the aim's baseline appends to one stream; a second row gives raw C the same
#           puts as the 64 appenders, whose 64 streams each take one index entry per commit)
#   aim 1b  64 appenders x 1 event    >= 1.0 of Redis XADD at 64 clients, appendfsync always
#   aim 5   batch 1000                >= 0.6 of raw C committing batches of 1000
# Botrix: `botrix-bench append` (release build); raw C: tools/lmdb-append-baseline.c (520-byte
# values: Botrix's stored record for a 400-byte event); Redis: tools/redis-bench.sh. All on
# fresh files in the same temporary folder's file system, durability full, medians of RUNS.
#
#   tools/peer-bench.sh BOTRIX_BENCH BASELINE [RUNS]          (default: 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: tools/peer-bench.sh BOTRIX_BENCH BASELINE [RUNS]" >&2; exit 2; }
bench=$1
baseline=$2
runs="${3:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Raw C in batches of 64 and of 1000 (the same puts as Botrix, one commit per batch).
c_rate() { # EVENTS BATCH [STREAMS] -> median events/s
  local n
  for n in $(seq 1 "$runs"); do
    rm -f "$work/c.mdb" "$work/c.mdb-lock"
    "$baseline" "$work/c.mdb" "$1" "$2" 520 full "${3:-1}" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p'
  done | median
}
# The same number of events as botrix-bench's cases (20,000 for 64 appenders, 100,000 for
# batch 1000): a longer run grows the indexes and makes each commit dearer.
c64=$(c_rate 20000 64)
c64s=$(c_rate 20000 64 64)
c1000=$(c_rate 100000 1000)

out=$("$bench" append --baseline "$baseline" --runs "$runs" --only appenders-64 --only batch-1000 --directory "$work" 2>/dev/null)
echo "$out"
botrix64=$(echo "$out" | awk '/^64 appenders/ {gsub(",", "", $6); print $6}')
botrix1000=$(echo "$out" | awk '/^batch 1000/ {gsub(",", "", $3); print $3}')
redis_out=$(tools/redis-bench.sh 64 50000 "$runs")
echo "$redis_out"
redis=$(echo "$redis_out" | awk '/^redis-xadd/ {print $3}')

echo
echo "aims (medians of $runs runs, one run of this script):"
awk -v b64="$botrix64" -v c64="$c64" -v c64s="$c64s" -v r="$redis" -v b1000="$botrix1000" -v c1000="$c1000" 'BEGIN {
  row("1a 64 appenders x 1 event / raw C batches of 64", b64, c64, 0.7)
  row("   the same, raw C with the same puts (64 streams)", b64, c64s, 0.7)
  row("1b 64 appenders x 1 event / Redis XADD c=64 (fsync always)", b64, r, 1.0)
  row("5  batch 1000 / raw C batches of 1000", b1000, c1000, 0.6)
}
function row(label, a, b, aim,   ratio) {
  ratio = a / b
  printf "  %-60s %9.0f / %9.0f = %5.2f  %s (aim >= %.1f)\n", label, a, b, ratio, (ratio >= aim ? "✔" : "✘"), aim
}'
