#!/usr/bin/env bash
# The durable-queue peer of Botrix's write benchmarks: Redis (Debian's redis-server) with its
# append-only file fsynced on every write (`appendfsync always`), XADD of one 400-byte field
# from CLIENTS concurrent clients (redis-benchmark, written in C). Each run gets a fresh
# server on a free loopback port with a temporary folder, stopped at the end.
#
#   tools/redis-bench.sh [CLIENTS] [REQUESTS] [RUNS]      (defaults: 64 clients, 50000, 3 runs)
#
# Prints one line a run and, last, `redis-xadd CLIENTS: MEDIAN ops/s (median of RUNS)`,
# which tools/peer-bench.sh reads. Needs redis-server and redis-benchmark
# (apt-get install -y redis-server; `make bench` installs it).
set -euo pipefail
clients="${1:-64}"
requests="${2:-50000}"
runs="${3:-3}"
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y redis-server" >&2; exit 1; }
done
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
value=$(head -c 400 /dev/zero | tr '\0' 'x')
rates=()
for run in $(seq 1 "$runs"); do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -rf "$work/data" && mkdir -p "$work/data"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$work/data" --save "" \
    --appendonly yes --appendfsync always --daemonize no --logfile "$work/redis.log" &
  server=$!
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
  line=$(timeout 300 redis-benchmark -p "$port" -c "$clients" -n "$requests" -q XADD bench '*' f "$value" | tr '\r' '\n' | grep 'requests per second' | tail -1)
  rate=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p')
  [ -n "$rate" ] || { echo "no rate in redis-benchmark's output: $line" >&2; exit 1; }
  echo "run $run: XADD with $clients clients, appendfsync always: $rate ops/s ($(echo "$line" | sed -n 's/.*\(p50=[^ ]*\).*/\1/p'))"
  rates+=("$rate")
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "redis-xadd $clients: $median ops/s (median of $runs)"
