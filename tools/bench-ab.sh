#!/usr/bin/env bash
# Before/after comparison of two botrix-bench builds, interleaved so that both see the same
# minutes of a noisy machine: ROUNDS times, each side runs the append cases (batch 1, batch
# 1000, 64 appenders), the domain commands and a rebuild of EVENTS events once. Prints each
# case's median per side and the ratio after/before.
#
# KINDS (default "append commands rebuild") picks the series; SYNC (default full) the
# append series' durability — nosync takes the fsync's noise out of a CPU-path change.
#
#   make bench            # once: builds .build/lmdb-*-baseline
#   tools/bench-ab.sh BEFORE/botrix-bench AFTER/botrix-bench [ROUNDS] [EVENTS]
#   KINDS=append SYNC=nosync tools/bench-ab.sh BEFORE AFTER 7
set -euo pipefail
before=${1:?usage: tools/bench-ab.sh BEFORE AFTER [ROUNDS] [EVENTS]}
after=${2:?usage: tools/bench-ab.sh BEFORE AFTER [ROUNDS] [EVENTS]}
rounds=${3:-3}
events=${4:-300000}
kinds=" ${KINDS:-append commands rebuild} "
sync=${SYNC:-full}
root=$(cd "$(dirname "$0")/.." && pwd)
append_baseline=$root/.build/lmdb-append-baseline
scan_baseline=$root/.build/lmdb-scan-baseline
for tool in "$append_baseline" "$scan_baseline"; do
  [ -x "$tool" ] || { echo "missing $tool: run make bench once (it compiles tools/*.c)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  for side in before after; do
    binary=$before; [ "$side" = after ] && binary=$after
    echo "round $round/$rounds: $side" >&2
    touch "$out/append-$side.txt" "$out/commands-$side.txt" "$out/rebuild-$side.txt"
    [[ $kinds == *" append "* ]] && "$binary" append --baseline "$append_baseline" --runs 1 --sync "$sync" \
      --only batch-1 --only batch-1000 --only appenders-64 >> "$out/append-$side.txt"
    [[ $kinds == *" commands "* ]] && "$binary" commands --baseline "$append_baseline" --runs 1 >> "$out/commands-$side.txt"
    [[ $kinds == *" rebuild "* ]] && "$binary" rebuild --baseline "$scan_baseline" --events "$events" --runs 1 \
      >> "$out/rebuild-$side.txt" 2>/dev/null
  done
done
python3 - "$out" <<'PY'
import re, statistics, sys
folder = sys.argv[1]
cases = {
    "append": r"^(batch \d+|\d+ appenders? x 1 event)\s+([\d,]+)",
    "commands": r"^(create-job x\d+|record-account x\d+)\s+([\d,]+)",
    "rebuild": r"^(botrix rebuild \(all\))(?:, online)?\s+([\d,]+)",
}
def rates(path, pattern):
    found = {}
    for line in open(path):
        match = re.match(pattern, line)
        if match:
            found.setdefault(match.group(1).strip(), []).append(float(match.group(2).replace(",", "")))
    return found
print(f"{'case':34} {'before':>10} {'after':>10} {'after/before':>13}")
for kind, pattern in cases.items():
    before = rates(f"{folder}/{kind}-before.txt", pattern)
    after = rates(f"{folder}/{kind}-after.txt", pattern)
    for case, values in before.items():
        b, a = statistics.median(values), statistics.median(after.get(case, [0]))
        print(f"{kind + ' ' + case:34} {b:>10,.0f} {a:>10,.0f} {a / b:>13.3f}")
PY
