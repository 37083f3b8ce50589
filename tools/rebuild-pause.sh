#!/usr/bin/env bash
# What a server's writers wait for while `botrix rebuild` runs beside it.
#   tools/rebuild-pause.sh BOTRIX BOTRIX_BENCH [EVENTS] [ROUNDS]
# Writes a synthetic log of EVENTS (default 1,000,000) with `botrix-bench synthetic`, builds
# its projections offline, serves it on 127.0.0.1, and runs one client that POSTs jobs one
# at a time (2 ms apart) while ROUNDS (default 3) online rebuilds run beside the server,
# 2 s apart. Prints the POST latencies while a rebuild ran and while none did.
set -euo pipefail
botrix=${1:?usage: tools/rebuild-pause.sh BOTRIX BOTRIX_BENCH [EVENTS] [ROUNDS]}
bench=${2:?usage: tools/rebuild-pause.sh BOTRIX BOTRIX_BENCH [EVENTS] [ROUNDS]}
events=${3:-1000000}
rounds=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/start-server.sh
source "$here/lib/start-server.sh"
work=$(mktemp -d)
server=""
writer=""
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bench" synthetic --events "$events" --path "$work/botrix.mdb" >/dev/null
"$botrix" rebuild --db "$work/botrix.mdb" >/dev/null 2>&1
start_botrix "$botrix" "$work"

python3 - "$port" "$work" <<'PY' &
import http.client, json, os, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
samples, started = [], time.time()
# Bounded: stops when told, after 200,000 requests, or after 15 minutes.
while not os.path.exists(work + "/stop") and len(samples) < 200_000 and time.time() - started < 900:
    begun = time.time()
    connection.request("POST", "/api/jobs", body='{"count":1}', headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    answer.read()
    if answer.status != 201:
        sys.exit(f"POST answered {answer.status}")
    samples.append((begun, time.time() - begun))
    time.sleep(0.002)
json.dump(samples, open(work + "/posts.json", "w"))
PY
writer=$!

: >"$work/windows"
for round in $(seq 1 "$rounds"); do
  sleep 2
  from=$(date +%s.%N)
  "$botrix" rebuild --db "$work/botrix.mdb" 2>/dev/null | sed "s/^/round $round: /"
  echo "$from $(date +%s.%N)" >>"$work/windows"
done
sleep 2
touch "$work/stop"
wait "$writer"
writer=""

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
posts = json.load(open(work + "/posts.json"))
windows = [tuple(map(float, line.split())) for line in open(work + "/windows")]
def during(begun, took):
    return any(begun < to and begun + took > frm for frm, to in windows)
def line(name, values):
    values = sorted(values)
    if not values:
        return f"{name}: no requests"
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000
    return f"{name}: {len(values)} POSTs, p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {values[-1] * 1000:.1f} ms"
print(line("during the rebuilds", [t for b, t in posts if during(b, t)]))
print(line("with no rebuild", [t for b, t in posts if not during(b, t)]))
PY
