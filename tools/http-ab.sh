#!/usr/bin/env bash
# tools/http-ab.sh BEFORE AFTER [ROUNDS]
# Interleaved A/B of two `botrix` binaries on the read routes: each round starts each binary
# on a fresh data file (one job with 50 accounts), then `wrk -t2 -c64 -d5s` twice on one job
# and twice on a page of ten accounts. Rounds alternate BEFORE and AFTER so the shared
# machine's drift falls on both; compare medians. Refuses runs that met errors.
# SERVER_LOG_TO=pipe sends the servers' access logs through a pipe (as systemd or a container
# runtime reads them) instead of into a file.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: tools/http-ab.sh BEFORE AFTER [ROUNDS]}
after=${2:?usage: tools/http-ab.sh BEFORE AFTER [ROUNDS]}
rounds=${3:-2}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
source tools/lib/start-server.sh

one() {
  local binary=$1 work
  work=$(mktemp -d)
  start_botrix "$binary" "$work"
  local base="http://127.0.0.1:$port" job out line=""
  job=$(seed_job_with_accounts "$base" 50)
  for path in "/api/jobs/$job" "/api/accounts?page=1&limit=10"; do
    for _ in 1 2; do
      out=$(wrk -t2 -c64 -d5s "$base$path")
      if echo "$out" | grep -qE "Non-2xx|Socket errors"; then
        echo "$binary: $path answered errors under load" >&2
        kill "$server"; rm -rf "$work"; exit 1
      fi
      line+=" $(echo "$out" | awk '/Requests\/sec/ {print $2}')"
    done
  done
  kill "$server" && wait "$server" 2>/dev/null || true
  rm -rf "$work"
  echo "$line"
}

echo "rps: job job page page (wrk -t2 -c64 -d5s each)"
for round in $(seq 1 "$rounds"); do
  echo "round $round before:$(one "$before")"
  echo "round $round after: $(one "$after")"
done
