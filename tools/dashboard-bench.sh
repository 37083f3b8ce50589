#!/usr/bin/env bash
# What open dashboard pages cost the API: wrk -t2 -c64 GET /api/jobs/{id} against
# `botrix serve` (open mode, fresh data file, 127.0.0.1) with no dashboard page open, then
# with PAGES overview pages open (each a `curl -sN` holding GET /ui/live, and, as the page's script does, a fetch of /ui/?fragment=1 at most once a second
# when its stream said the head moved), alternating, ROUNDS rounds. In both runs a writer creates one job every ~20 ms,
# so the live feeds have something to send. Prints every run, the medians and the ratio
# with/without pages (the aim: at least 0.9).
#
#   tools/dashboard-bench.sh BOTRIX_BINARY [ROUNDS] [SECONDS]      (defaults: 3 rounds, 10 s)
#
# Use a release build. Needs wrk and curl (Debian: apt-get install -y wrk curl).
# Everything it starts is bounded in time and count, and stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: tools/dashboard-bench.sh BOTRIX_BINARY [ROUNDS] [SECONDS]" >&2
  exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
rounds="${2:-3}"
seconds="${3:-10}"
pages=20
connections=64
writer_pause=0.02 # between two POST /api/jobs of the writer
aim=0.9
for tool in wrk curl awk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk curl" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "$binary is missing or not executable: build it (swift build -c release --product botrix)" >&2; exit 1; }
case "$rounds$seconds" in *[!0-9]*) echo "ROUNDS and SECONDS are whole numbers" >&2; exit 2 ;; esac

work=$(mktemp -d)
server=""
writer=""
streams=()
stop_streams() {
  local pid
  for pid in "${streams[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${streams[@]}"; do wait "$pid" 2>/dev/null || true; done
  streams=()
}
stop_writer() {
  [ -n "$writer" ] || return 0
  touch "$work/stop-writer"                  # the loop ends after its current request (curl -m 2)
  for _ in $(seq 1 50); do kill -0 "$writer" 2>/dev/null || break; sleep 0.1; done
  kill "$writer" 2>/dev/null || true
  wait "$writer" 2>/dev/null || true
  writer=""
}
cleanup() {
  stop_streams
  stop_writer
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Open mode (no key in a fresh data file); the API's read and write limits and the stream
# limit are lifted: wrk and 20 pages from one address are the load, not abuse.
export SERVER_ENV=development
export RATE_LIMIT_READS_PER_SECOND=1000000 RATE_LIMIT_READ_BURST=1000000
export RATE_LIMIT_WRITES_PER_SECOND=1000000 RATE_LIMIT_BURST=1000000
export MAX_STREAMS_PER_KEY=$((pages * 4)) # open mode: every page counts against the one owner "open"
source tools/lib/start-server.sh
pushd "$work" >/dev/null # no stray .env is read
start_botrix "$binary" "$work"
popd >/dev/null
base="http://127.0.0.1:$port"

job=$(curl -s -m 5 -X POST "$base/api/jobs" -H 'Content-Type: application/json' -d '{"count":1}' |
  sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p')
[ -n "$job" ] || { echo "could not create the job to read" >&2; cat "$work/server.log" >&2; exit 1; }

# start_writer RUN: one POST /api/jobs every ~20 ms until stop_writer, at most SECONDS+20 s
# and (SECONDS+20)*50 requests; each answer's status goes to $work/writes.RUN.
start_writer() {
  local out="$work/writes.$1" limit=$((seconds + 20))
  rm -f "$work/stop-writer"
  : >"$out"
  (
    SECONDS=0
    for ((i = 0; i < limit * 50; i++)); do
      [ -e "$work/stop-writer" ] && break
      ((SECONDS < limit)) || break
      curl -s -o /dev/null -m 2 -w '%{http_code}\n' -X POST "$base/api/jobs" \
        -H 'Content-Type: application/json' -d '{"count":1}' >>"$out" || true
      sleep "$writer_pause"
    done
  ) &
  writer=$!
}

# open_streams RUN: PAGES pages (GET /ui/, then each holding GET /ui/live).
open_streams() {
  local n jar status
  for n in $(seq 1 "$pages"); do
    jar="$work/jar.$1.$n"
    # Open mode keeps no session: each page is its own cookie-less browser (the jar stays empty).
    status=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" "$base/ui/")
    if [ "$status" != 200 ]; then
      echo "GET /ui/ answered $status: is the dashboard built in, and the server open?" >&2
      exit 1
    fi
    curl -sN -m $((seconds + 40)) -b "$jar" -H 'Accept: text/event-stream' \
      -D "$work/head.$1.$n" -o "$work/stream.$1.$n" "$base/ui/live" 2>/dev/null &
    streams+=($!)
  done
  # Every stream must be open (200, text/event-stream) and have sent something: at most 10 s.
  local ready=0
  for _ in $(seq 1 100); do
    ready=0
    for n in $(seq 1 "$pages"); do
      [ -s "$work/stream.$1.$n" ] && ready=$((ready + 1))
    done
    [ "$ready" -eq "$pages" ] && break
    sleep 0.1
  done
  for n in $(seq 1 "$pages"); do
    if ! grep -qi '^HTTP/1.1 200' "$work/head.$1.$n" 2>/dev/null || ! grep -qi 'content-type: text/event-stream' "$work/head.$1.$n"; then
      echo "stream $n of run $1 is not an open event stream; its answer:" >&2
      cat "$work/head.$1.$n" "$work/stream.$1.$n" >&2 2>/dev/null || true
      exit 1
    fi
  done
  [ "$ready" -eq "$pages" ] || { echo "only $ready of $pages streams sent anything within 10 s" >&2; exit 1; }
  # What each page's script does when its stream says the head moved: fetch the live region
  # again, at most once a second. One loop for all pages; it counts its fetches.
  (
    local sizes=() size n
    : >"$work/fragments.$1"
    local args
    for ((tick = 0; tick < seconds + 40; tick++)); do
      # One curl a tick for every page due (--next gives each its own cookie): the client's
      # process starts are not what is measured.
      args=()
      for n in $(seq 1 "$pages"); do
        size=$(stat -c %s "$work/stream.$1.$n" 2>/dev/null || echo 0)
        if [ "$size" != "${sizes[$n]:-}" ]; then
          sizes[$n]=$size
          [ ${#args[@]} -eq 0 ] || args+=(--next)
          args+=(-s -o /dev/null -m 2 -w '%{http_code}\n' -b "$work/jar.$1.$n" "$base/ui/?fragment=1")
        fi
      done
      [ ${#args[@]} -eq 0 ] || curl "${args[@]}" >>"$work/fragments.$1" || true
      sleep 1
    done
  ) &
  streams+=($!)
}

stream_bytes() { # RUN -> the bytes of each stream, one a line
  local n
  for n in $(seq 1 "$pages"); do wc -c <"$work/stream.$1.$n"; done
}

# measure LABEL RUN -> prints a line; appends "rps" to $work/LABEL.rps
measure() {
  local label=$1 run=$2 out rps p99 non2xx
  out=$(timeout $((seconds + 30)) wrk -t2 -c"$connections" -d"${seconds}s" --latency "$base/api/jobs/$job")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}')
  non2xx=$(echo "$out" | awk '/Non-2xx or 3xx responses/ {print $NF}')
  non2xx=${non2xx:-0}
  echo "$rps" >>"$work/$label.rps"
  [ "$non2xx" -eq 0 ] || echo "$non2xx" >>"$work/non2xx"
  echo "$out" | grep -i 'socket errors' >&2 || true
  printf 'round %s %-8s %10.0f req/s  p99 %7.2f ms  non-2xx %s' "$run" "$label" "$rps" "${p99:-0}" "$non2xx"
}

echo "GET /api/jobs/{id} with wrk -t2 -c$connections -d${seconds}s, without and with $pages dashboard pages (GET /ui/live) open,"
echo "$rounds rounds, a writer creating a job every ~20 ms during every run; server: $binary"
for run in $(seq 1 "$rounds"); do
  # (a) no page open
  start_writer "a$run"
  sleep 0.5
  line=$(measure without "$run")
  stop_writer
  echo "$line  writes $(grep -c '^201$' "$work/writes.a$run" || true)"

  # (b) PAGES pages open
  start_writer "b$run"
  open_streams "$run"
  before=$(stream_bytes "$run")
  line=$(measure with "$run")
  after=$(stream_bytes "$run")
  alive=0
  for pid in "${streams[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
  grown=$(paste <(echo "$before") <(echo "$after") | awk '$2 > $1 {n++} END {print n+0}')
  received=$(paste <(echo "$before") <(echo "$after") | awk '{s += $2 - $1} END {print s+0}')
  stop_writer
  stop_streams
  fragments=$(grep -c '^200$' "$work/fragments.$run" || true)
  echo "$line  writes $(grep -c '^201$' "$work/writes.b$run" || true)  streams open $((alive - 1))/$pages, sending $grown/$pages, $received bytes, $fragments live-region fetches"
  if [ "$((alive - 1))" -ne "$pages" ] || [ "$grown" -ne "$pages" ]; then
    echo "✘ the $pages streams were not all open and sending during run $run: the measurement does not count" >&2
    exit 1
  fi
done

median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
without=$(median "$work/without.rps")
with=$(median "$work/with.rps")
echo
awk -v a="$without" -v b="$with" -v aim="$aim" -v pages="$pages" -v bad="$([ -s "$work/non2xx" ] && echo 1 || echo 0)" 'BEGIN {
  r = b / a
  printf "median without pages: %.0f req/s\nmedian with %d pages:  %.0f req/s\n", a, pages, b
  if (bad) { printf "ratio with/without:   %.3f  ✘ (some answers were not 2xx: the figures do not count)\n", r; exit }
  printf "ratio with/without:   %.3f  %s (aim: at least %.2f)\n", r, (r >= aim ? "✔" : "✘"), aim
}'
