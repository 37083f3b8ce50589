#!/usr/bin/env bash
# HTTP benchmark: `botrix serve` (release build, fsync on every commit) against nginx
# serving the same JSON bytes as static files, both on 127.0.0.1, measured with wrk in
# the same run. Prints requests per second and p99 latency, medians of RUNS runs, and
# the ratio to nginx; then Redis (appendfsync always) as the durable-write peer, and issue
# 14's HTTP aims with a ✔/✘ each.
#
#   tools/http-bench.sh [BOTRIX_BINARY] [SECONDS_PER_RUN] [RUNS] [CONNECTIONS]
#
# Needs wrk, nginx and redis-server (Debian: apt-get install wrk nginx-light redis-server;
# `make bench` installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-.build/release/botrix}"
seconds="${2:-5}"
runs="${3:-3}"
connections="${4:-64}"
for tool in wrk nginx curl redis-server; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk nginx-light curl redis-server" >&2; exit 1; }
done

work=$(mktemp -d)
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  [ -n "${floor:-}" ] && kill "$floor" 2>/dev/null && wait "$floor" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

source tools/lib/start-server.sh
start_botrix "$binary" "$work"
base="http://127.0.0.1:$port"

# Seed: one job with 50 accounts, so the list page is full.
job=$(seed_job_with_accounts "$base" 50)
mkdir -p "$work/www/api/jobs" "$work/www/api"
# nginx's workers run as an unprivileged user: let them into mktemp's private folder, or
# every static answer is a 403 (which the error check below would refuse).
chmod 755 "$work"
curl -s "$base/api/jobs/$job" > "$work/www/api/jobs/$job"
curl -s "$base/api/accounts?page=1&limit=10" > "$work/www/api/accounts.json"

nginx_port=$((port + 1))
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location = /api/accounts { try_files /api/accounts.json =404; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
nginx_base="http://127.0.0.1:$nginx_port"

# The framework's ceiling: bare Hummingbird 2 serving the same files from memory (no
# middleware, no storage), so each read row also says how near Botrix is to its framework.
floor_binary="$(dirname "$binary")/botrix-bench"
[ -x "$floor_binary" ] || { echo "$floor_binary is missing: swift build -c release --product botrix-bench" >&2; exit 1; }
"$floor_binary" http-floor --root "$work/www" --port 0 > "$work/floor.log" 2>&1 &
floor=$!
floor_port=""
for _ in $(seq 1 200); do
  floor_port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/floor.log" | head -1 | sed 's/.*://' || true)
  [ -n "$floor_port" ] && break
  kill -0 "$floor" 2>/dev/null || break  # it exited: say so now, not after ten seconds
  sleep 0.05
done
[ -n "$floor_port" ] || { echo "http-floor did not start:" >&2; cat "$work/floor.log" >&2; exit 1; }
floor_base="http://127.0.0.1:$floor_port"
for path in "/api/jobs/$job" "/api/accounts?page=1&limit=10"; do
  cmp -s <(curl -s "$nginx_base$path") <(curl -s "$floor_base$path") ||
    { echo "http-floor and nginx do not serve the same bytes for $path" >&2; exit 1; }
done
sleep 0.3

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"count":1,"priority":"normal"}'
LUA

# measure URL [LUA] -> "rps p99_ms" (median of runs)
measure() {
  local url=$1 script=${2:-}
  local results=()
  for _ in $(seq 1 "$runs"); do
    local out
    if [ -n "$script" ]; then
      out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$script" "$url")
    else
      out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url")
    fi
    if echo "$out" | grep -qE "Non-2xx|Socket errors"; then
      # A figure of error answers (429s, 404s) is not the route's, and requests that timed
      # out drop out of the p99: refuse to print either.
      echo "$url answered errors under load:" >&2
      echo "$out" >&2
      exit 1
    fi
    local rps p99
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}')
    results+=("$rps $p99")
  done
  printf '%s\n' "${results[@]}" | sort -n -k1 | awk -v n="$runs" 'NR==int((n+1)/2) {print}'
}

echo "HTTP throughput: wrk -t2 -c$connections, ${seconds}s per run, median of $runs runs, fsync on every commit"
printf '%-34s %11s %8s %11s %8s %11s %8s %7s %7s\n' "case" "botrix rps" "p99 ms" "nginx rps" "p99 ms" "floor rps" "p99 ms" "/nginx" "/floor"
row() {
  local label=$1 ours=$2 theirs=$3 floor=${4:-}
  awk -v l="$label" -v o="$ours" -v t="$theirs" -v f="$floor" 'BEGIN {
    split(o,a," "); split(t,b," ")
    if (f == "") printf "%-34s %11.0f %8.2f %11.0f %8.2f %11s %8s %7.2f %7s\n", l, a[1], a[2], b[1], b[2], "-", "-", a[1]/b[1], "-"
    else { split(f,c," "); printf "%-34s %11.0f %8.2f %11.0f %8.2f %11.0f %8.2f %7.2f %7.2f\n", l, a[1], a[2], b[1], b[2], c[1], c[2], a[1]/b[1], a[1]/c[1] }
  }'
}
job_ours=$(measure "$base/api/jobs/$job")
job_nginx=$(measure "$nginx_base/api/jobs/$job")
job_floor=$(measure "$floor_base/api/jobs/$job")
row "GET /api/jobs/{id}" "$job_ours" "$job_nginx" "$job_floor"
page_ours=$(measure "$base/api/accounts?page=1&limit=10")
page_nginx=$(measure "$nginx_base/api/accounts?page=1&limit=10")
page_floor=$(measure "$floor_base/api/accounts?page=1&limit=10")
row "GET /api/accounts?page=1&limit=10" "$page_ours" "$page_nginx" "$page_floor"
post_ours=$(measure "$base/api/jobs" "$work/post.lua")
post_floor=$(measure "$floor_base/api/jobs" "$work/post.lua")
row "POST /api/jobs (durable write)" "$post_ours" "$job_nginx" "$post_floor"
echo "(floor: bare Hummingbird 2 serving the same bytes from memory, or reading a POST and storing nothing,"
echo " \`botrix-bench http-floor\`: the framework's own ceiling on this machine."
echo " The POST row's nginx column is the static GET of a job: the cost of a durable write against a static read.)"

# Issue 14's HTTP aims. The durable-write peer is Redis with appendfsync always, XADD from as
# many clients as wrk has connections (tools/redis-bench.sh), measured now, in this run.
redis_out=$(tools/redis-bench.sh "$connections" 50000 "$runs")
echo "$redis_out"
redis=$(echo "$redis_out" | awk '/^redis-xadd/ {print $3}')
echo
echo "aims (medians of $runs runs, one run of this script):"
awk -v j="$job_ours" -v jn="$job_nginx" -v p="$page_ours" -v pn="$page_nginx" -v w="$post_ours" -v r="$redis" \
  -v jf="$job_floor" -v pf="$page_floor" -v wf="$post_floor" 'BEGIN {
  split(j, a, " "); split(jn, b, " "); split(p, c, " "); split(pn, d, " "); split(w, e, " "); split(jf, f, " "); split(pf, g, " ")
  split(wf, h, " ")
  row("2  POST /api/jobs / Redis XADD (fsync always), p99 " e[2] " ms", e[1], r, 1.0)
  row("3a GET /api/jobs/{id} / nginx, same bytes", a[1], b[1], 0.5)
  row("3b GET a page of 10 accounts / nginx, same bytes", c[1], d[1], 0.4)
  printf "  the framework alone (bare Hummingbird 2, same bytes) / nginx: one job %.2f, a page %.2f\n", f[1] / b[1], g[1] / d[1]
  printf "  the framework alone, a POST that stores nothing / Redis XADD: %.2f\n", h[1] / r
}
function row(label, x, y, aim,   ratio) {
  ratio = x / y
  printf "  %-60s %9.0f / %9.0f = %5.2f  %s (aim >= %.1f)\n", label, x, y, ratio, (ratio >= aim ? "✔" : "✘"), aim
}'
