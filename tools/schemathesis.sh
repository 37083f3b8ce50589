#!/usr/bin/env bash
# Runs schemathesis (an independent HTTP client, from PyPI) against a live `botrix serve`
# on 127.0.0.1 with schemas/openapi.yaml (the JSON API; the dashboard's HTML pages, tagged
# `dashboard`, are left to its own tests). Fails on any 5xx or any response that breaks
# the document (status code, content type, headers, body schema).
#
#   tools/schemathesis.sh [BOTRIX_BINARY] [MAX_EXAMPLES] [MAX_SECONDS]
#
# Installs schemathesis into .build/venv on first use. The server gets a fresh data file
# and is stopped when the run ends, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-.build/debug/botrix}"
examples="${2:-10}"
seconds="${3:-120}"
venv=.build/venv
version=4.32.5

if ! [ -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  echo "Installing schemathesis $version into $venv ..."
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT
source tools/lib/start-server.sh
start_botrix "$binary" "$work"
echo "schemathesis against 127.0.0.1:$port: $examples examples per operation, at most $seconds s"

# Seed some state so item routes have something to find.
for _ in 1 2 3; do
  curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/jobs" -H 'Content-Type: application/json' -d '{"count":2}'
done

"$venv/bin/schemathesis" run schemas/openapi.yaml \
  --url "http://127.0.0.1:$port" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" \
  --exclude-path /api/events/stream \
  --exclude-tag dashboard \
  --request-timeout 40 \
  --max-time "$seconds" \
  --seed 1 \
  --no-color
