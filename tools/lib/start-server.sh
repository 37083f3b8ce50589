# Sourced by tools/*.sh: starts `botrix serve` on 127.0.0.1 and a free port.
#   start_botrix BINARY WORKDIR   sets $server (pid) and $port; the data file is WORKDIR/botrix.mdb
# Its standard error (the access log) goes to WORKDIR/server.log: written to the file, or with
# SERVER_LOG_TO=pipe through a pipe to `cat`, as systemd or a container runtime takes it.
start_botrix() {
  local binary=$1 work=$2
  # Measurement and fuzzing tools are not the clients the rate limits are for: lift both, or
  # a benchmark measures 429s (wrk counts them as requests; its "Non-2xx" line shows them).
  local limits=(
    RATE_LIMIT_WRITES_PER_SECOND="${RATE_LIMIT_WRITES_PER_SECOND:-1000000}" RATE_LIMIT_BURST="${RATE_LIMIT_BURST:-1000000}"
    RATE_LIMIT_READS_PER_SECOND="${RATE_LIMIT_READS_PER_SECOND:-1000000}" RATE_LIMIT_READ_BURST="${RATE_LIMIT_READ_BURST:-1000000}"
  )
  if [ "${SERVER_LOG_TO:-file}" = pipe ]; then
    env "${limits[@]}" "$binary" serve --host 127.0.0.1 --port 0 --db "$work/botrix.mdb" 2> >(cat > "$work/server.log") &
  else
    env "${limits[@]}" "$binary" serve --host 127.0.0.1 --port 0 --db "$work/botrix.mdb" 2>"$work/server.log" &
  fi
  server=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/server.log" | head -1 | sed 's/.*://' || true)
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "the server did not start:" >&2
  cat "$work/server.log" >&2
  return 1
}

# seed_job_with_accounts BASE N   creates a job of 100, claims it as worker "bench" and records
# N accounts in it (so list pages are full); prints the job's id.
seed_job_with_accounts() {
  local base=$1 count=$2 job n
  job=$(curl -s -X POST "$base/api/jobs" -H 'Content-Type: application/json' -d '{"count":100}' | sed 's/.*"job_id":"\([^"]*\)".*/\1/')
  curl -s -o /dev/null -X POST "$base/api/queue/claim" -H 'Content-Type: application/json' -d '{"worker_id":"bench"}'
  for n in $(seq 1 "$count"); do
    curl -s -o /dev/null -X POST "$base/api/jobs/$job/accounts" -H 'Content-Type: application/json' \
      -d "{\"worker_id\":\"bench\",\"email\":\"user$n@example.com\",\"username\":\"user_$n\",\"password\":\"password-$n\",\"birthdate\":\"1990-01-01\",\"account_data\":{\"n\":$n}}"
  done
  echo "$job"
}
