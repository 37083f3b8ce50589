# Botrix — the two set-up commands are `make run` and `make test`; both install
# Debian's liblmdb-dev first when it is missing.

SWIFT      ?= swift
DB_PATH    ?= data/botrix.mdb
BASELINE   := .build/lmdb-append-baseline
SCAN       := .build/lmdb-scan-baseline
SOURCES    := Package.swift Sources Tests

.PHONY: deps build run test bench fmt lint clean

## deps: install what Botrix builds and tests with (Debian packages) when missing:
## liblmdb-dev (LMDB), curl (the tests' independent HTTP client), python3-venv (schemathesis);
## with WITH_BROWSER=1 (make test sets it) also chromium and chromium-driver, for the
## dashboard's browser tests — `make run` does not need a browser.
deps:
	@missing=""; \
	dpkg -s liblmdb-dev >/dev/null 2>&1 || missing="$$missing liblmdb-dev pkg-config"; \
	command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ "$(WITH_BROWSER)" = 1 ]; then \
	  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || missing="$$missing chromium chromium-driver"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "missing Debian packages:$$missing; installing them needs root: run 'sudo apt-get install -y$$missing', then make again." >&2; \
	    exit 1; \
	  fi; \
	  echo "Installing$$missing ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## build: debug build of everything, tests included.
build: deps
	$(SWIFT) build --build-tests

## run: build and serve on :8080 with data in $(DB_PATH).
run: deps
	$(SWIFT) build --product botrix
	DB_PATH=$(DB_PATH) .build/debug/botrix serve

## test: build and run the whole test suite (the crash test needs the built executables),
## the Python client's tests against the built server, then schemathesis against a live
## server with schemas/openapi.yaml (bounded: 120 s), and the dashboard in headless Chromium
## (tools/browser-tests.sh; screenshots in .build/test-output/dashboard).
## The Swift client's live tests run in a process of their own: their worker heartbeats and
## calls need Swift's shared thread pool (one thread per core), which the other suites keep
## busy while they wait on child processes; sharing it made their timing a matter of luck.
test:
	$(MAKE) deps WITH_BROWSER=1
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip BotrixClientTests
	$(SWIFT) test --skip-build --filter BotrixClientTests
	BOTRIX_BINARY=.build/debug/botrix python3 -m unittest discover -s clients/python/tests
	tools/schemathesis.sh .build/debug/botrix 10 120
	tools/browser-tests.sh .build/debug/botrix

## bench: release build, the raw-LMDB C baselines, wrk, nginx and Redis (the durable-queue
## peer), then every benchmark with its ratio to the baseline measured in the same run.
bench: deps
	@command -v wrk >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 || { \
	  [ "$$(id -u)" -eq 0 ] || { echo "make bench needs wrk, nginx and redis: run 'sudo apt-get install -y wrk nginx-light redis-server'" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light redis-server; }
	mkdir -p .build
	cc -O2 -Wall -o $(BASELINE) tools/lmdb-append-baseline.c -llmdb
	cc -O2 -Wall -o $(SCAN) tools/lmdb-scan-baseline.c -llmdb
	$(SWIFT) build -c release --product botrix
	$(SWIFT) build -c release --product botrix-bench
	.build/release/botrix-bench append --baseline $(BASELINE) --runs 5
	tools/peer-bench.sh .build/release/botrix-bench $(BASELINE) 3
	.build/release/botrix-bench commands --baseline $(BASELINE) --runs 3
	.build/release/botrix-bench rebuild --baseline $(SCAN) --events 1000000 --runs 3
	tools/rebuild-pause.sh .build/release/botrix .build/release/botrix-bench 1000000 3
	tools/http-bench.sh .build/release/botrix 5 3 64
	tools/dashboard-bench.sh .build/release/botrix 7 8
	tools/memory-bench.sh .build/release/botrix 5 64
	$(SWIFT) build -c release --product botrix-worker-bench
	tools/worker-bench.sh .build/release/botrix .build/release/botrix-worker-bench 3 64 2000 200

## fmt: rewrite sources with swift format and the repo's .swift-format.
fmt:
	$(SWIFT) format --in-place --recursive $(SOURCES)

## lint: fail when sources are not swift format clean.
lint:
	$(SWIFT) format lint --strict --recursive $(SOURCES)

## clean: remove build products and local data.
clean:
	rm -rf .build data
