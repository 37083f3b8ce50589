#!/usr/bin/env bash
# The worker loop through the Swift client (botrix-worker-bench) against `botrix serve`
# (release build, fsync on every commit): jobs per second through claim → 1 account →
# complete with WORKERS workers, and the latency from creating a job to its claim, with
# long-poll claims and beside the same loop polling every 100 ms, each on a fresh server,
# in the same run. Prints every run, then medians and the ratios long-poll / poll.
#
#   tools/worker-bench.sh [BOTRIX_BINARY] [BENCH_BINARY] [RUNS] [WORKERS] [JOBS] [LATENCY_JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-.build/release/botrix}"
bench="${2:-.build/release/botrix-worker-bench}"
runs="${3:-3}"
workers="${4:-64}"
jobs="${5:-2000}"
latency_jobs="${6:-200}"

work=$(mktemp -d)
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source tools/lib/start-server.sh

results="$work/results.jsonl"
for run in $(seq 1 "$runs"); do
  for mode in long-poll poll; do
    mkdir -p "$work/$run-$mode"  # a fresh data file (and its keys) for every run
    start_botrix "$binary" "$work/$run-$mode"
    line=$(timeout 600 "$bench" "http://127.0.0.1:$port" "$mode" "$workers" "$jobs" "$latency_jobs")
    echo "run $run: $line"
    echo "$line" >> "$results"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(mode, key):
    return statistics.median(r[key] for r in rows if r["mode"] == mode)
print()
print("| loop (%d workers) | jobs/s | claim latency p50 | p99 |" % rows[0]["workers"])
print("| --- | --- | --- | --- |")
for mode in ("long-poll", "poll"):
    print("| %s | %.0f | %.1f ms | %.1f ms |" % (mode, med(mode, "jobs_per_second"), med(mode, "latency_p50_ms"), med(mode, "latency_p99_ms")))
print()
print("ratios long-poll / poll (medians): jobs/s %.2f, latency p50 %.3f, p99 %.3f" % (
    med("long-poll", "jobs_per_second") / med("poll", "jobs_per_second"),
    med("long-poll", "latency_p50_ms") / med("poll", "latency_p50_ms"),
    med("long-poll", "latency_p99_ms") / med("poll", "latency_p99_ms")))
PY
