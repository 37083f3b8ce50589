#!/usr/bin/env bash
# Browser tests of the operator dashboard (/ui): Tests/Browser/test_dashboard.py drives
# Debian's headless Chromium with selenium against live `botrix serve` processes (each
# with a fresh data file), and saves a screenshot of every page.
#
#   tools/browser-tests.sh [BOTRIX_BINARY]
#
# Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: apt-get install chromium
# chromium-driver; `make deps` installs them). Installs selenium into .build/venv-browser
# on first use. Screenshots go to $DASHBOARD_TEST_OUTPUT (default .build/test-output/dashboard).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-.build/debug/botrix}"
venv=.build/venv-browser
version=4.51.0

missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/chromedriver ] || missing="$missing chromium-driver"
if [ -n "$missing" ]; then
  echo "browser tests need Debian's headless Chromium and its driver: run 'apt-get install -y$missing' (or make deps)" >&2
  exit 1
fi
[ -x "$binary" ] || { echo "the server binary $binary is missing or not executable: build it first" >&2; exit 1; }

if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$version')" 2>/dev/null; then
  echo "Installing selenium $version into $venv ..."
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "selenium==$version"
fi

export BOTRIX_BINARY
BOTRIX_BINARY=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
export DASHBOARD_TEST_OUTPUT="${DASHBOARD_TEST_OUTPUT:-$PWD/.build/test-output/dashboard}"
mkdir -p "$DASHBOARD_TEST_OUTPUT"
echo "browser tests: $(/usr/bin/chromium --version 2>/dev/null), selenium $version, server $BOTRIX_BINARY"
# Bounded twice: every wait in the tests has a timeout, and the run as a whole has this one.
if ! timeout 300 "$venv/bin/python" -m unittest discover -s Tests/Browser -v; then
  echo "BROWSER TESTS FAILED (screenshots and server logs: $DASHBOARD_TEST_OUTPUT)" >&2
  exit 1
fi
echo "browser tests passed; screenshots in $DASHBOARD_TEST_OUTPUT"
