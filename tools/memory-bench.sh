#!/usr/bin/env bash
# Issue 14, aim 6: does `botrix serve` stop growing under steady load? wrk keeps CONNECTIONS
# connections busy for MINUTES minutes with a mix of reads and durable writes (per three
# requests: GET one job, GET a page of ten accounts, POST a job), and the server's resident
# memory is sampled every minute: all of it (VmRSS), and its two parts — RssAnon, the
# process's own memory (heap, stacks: where a leak or an unbounded cache shows), and
# RssFile, pages of the memory-mapped LMDB file that the kernel keeps cached (it grows with
# the data the POSTs add and is given back under memory pressure). The aim, judged on
# RssAnon: the last sample within 1.2x of the first minute's; VmRSS is printed beside it.
#
#   tools/memory-bench.sh [BOTRIX_BINARY] [MINUTES] [CONNECTIONS]   (defaults: release, 5, 64)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-.build/release/botrix}"
minutes="${2:-5}"
connections="${3:-64}"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk curl" >&2; exit 1; }
done
[ "$minutes" -ge 2 ] || { echo "MINUTES must be at least 2 (the first minute is the reference)" >&2; exit 2; }
work=$(mktemp -d)
load=""
cleanup() {
  [ -n "$load" ] && kill "$load" 2>/dev/null
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source tools/lib/start-server.sh
start_botrix "$binary" "$work"
base="http://127.0.0.1:$port"

job=$(seed_job_with_accounts "$base" 20)
cat > "$work/mixed.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  if n % 3 == 0 then
    return wrk.format("POST", "/api/jobs", {["Content-Type"] = "application/json"}, '{"count":1}')
  elseif n % 3 == 1 then
    return wrk.format("GET", "/api/jobs/$job")
  end
  return wrk.format("GET", "/api/accounts?page=1&limit=10")
end
LUA
rss() { awk -v f="$1" '$1 == f":" {print $2}' "/proc/$server/status"; }
echo "memory under mixed load: wrk -t2 -c$connections for $minutes minutes (GET job, GET page, POST job)"
echo "before load: VmRSS $(rss VmRSS) KiB, RssAnon $(rss RssAnon) KiB"
wrk -t2 -c"$connections" -d"$((minutes * 60 + 5))s" -s "$work/mixed.lua" "$base" > "$work/wrk.txt" &
load=$!
samples=()
totals=()
for minute in $(seq 1 "$minutes"); do
  sleep 60
  # The access log writes a line per request (hundreds of MB over the run): drop what was
  # written so far; the file keeps its offset and stays sparse.
  : > "$work/server.log"
  samples+=("$(rss RssAnon)")
  totals+=("$(rss VmRSS)")
  echo "after minute $minute: VmRSS ${totals[-1]} KiB, RssAnon ${samples[-1]} KiB, RssFile $(rss RssFile) KiB, data file $(du -k "$work/botrix.mdb" | cut -f1) KiB"
done
wait "$load" || true
load=""
grep -E "Requests/sec|requests in" "$work/wrk.txt" || true
if grep -qE "Non-2xx|Socket errors" "$work/wrk.txt"; then
  # Memory under a load of error answers is not the figure this script is for.
  echo "the load met errors:" >&2
  cat "$work/wrk.txt" >&2
  exit 1
fi
awk -v first="${samples[0]}" -v last="${samples[-1]}" -v tfirst="${totals[0]}" -v tlast="${totals[-1]}" 'BEGIN {
  ratio = last / first
  printf "aim 6: RssAnon after the last minute / after the first = %d / %d KiB = %.3f  %s (aim <= 1.2)\n", last, first, ratio, (ratio <= 1.2 ? "✔" : "✘")
  printf "       VmRSS (with the mapped file) = %d / %d KiB = %.3f\n", tlast, tfirst, tlast / tfirst
}'
