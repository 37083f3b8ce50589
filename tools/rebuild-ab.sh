#!/usr/bin/env bash
# tools/rebuild-ab.sh BEFORE AFTER BENCH [EVENTS] [ROUNDS] [PAUSE]
# Interleaved A/B of two `botrix` binaries on an online rebuild: writes one synthetic log of
# EVENTS events (default 1,000,000) with `BENCH synthetic` (a botrix-bench binary), then runs
# `botrix rebuild --db FILE` with BEFORE and AFTER alternately, ROUNDS times each (default
# 4), PAUSE seconds before each run (default 0; 5 lets the machine take back the memory of
# the last run's scratch files, as before an operator's rebuild). Prints each run's seconds
# until the exchange (from the rebuild's summary), its user and system CPU (with GNU time),
# and the medians. Paths without spaces.
set -euo pipefail
before=${1:?usage: tools/rebuild-ab.sh BEFORE AFTER BENCH [EVENTS] [ROUNDS] [PAUSE]}
after=${2:?usage: tools/rebuild-ab.sh BEFORE AFTER BENCH [EVENTS] [ROUNDS] [PAUSE]}
bench=${3:?usage: tools/rebuild-ab.sh BEFORE AFTER BENCH [EVENTS] [ROUNDS] [PAUSE]}
events=${4:-1000000}
rounds=${5:-4}
pause=${6:-0}
(( rounds >= 1 && rounds <= 20 )) || { echo "ROUNDS must be 1...20" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bench" synthetic --events "$events" --path "$work/log.mdb" >/dev/null
results="$work/results"
for _ in $(seq "$rounds"); do
  for binary in "$before" "$after"; do
    sleep "$pause"
    # GNU time (Debian's `time` package) adds the CPU the run used; without it, no CPU column.
    status=0
    if [ -x /usr/bin/time ]; then
      summary=$( { /usr/bin/time -f "cpu %U %S" "$binary" rebuild --db "$work/log.mdb" 2>&1; } | tail -2) || status=$?
    else
      summary=$("$binary" rebuild --db "$work/log.mdb" 2>&1 | tail -1) || status=$?
    fi
    seconds=$(echo "$summary" | sed -nE 's/.*replayed in ([0-9.]+) s.*/\1/p')
    cpu=$(echo "$summary" | awk '/^cpu / {print $2, $3}')
    if [ "$status" -ne 0 ] || [ -z "$seconds" ]; then
      echo "$binary rebuild failed (status $status): $summary" >&2
      exit 1
    fi
    echo "$binary $seconds $cpu" | tee -a "$results"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for binary in "$before" "$after"; do
  s=$(awk -v b="$binary" '$1 == b {print $2}' "$results" | median)
  u=$(awk -v b="$binary" '$1 == b && NF >= 3 {print $3}' "$results" | median)
  echo "median $binary: $s s until the exchange${u:+, user CPU $u s}"
done
