# Botrix — the two set-up commands are `make run` and `make test`; both install
# Debian's liblmdb-dev first when it is missing.

SWIFT      ?= swift
DB_PATH    ?= data/botrix.mdb
BASELINE   := .build/lmdb-append-baseline
SCAN       := .build/lmdb-scan-baseline
SOURCES    := Package.swift Sources Tests

.PHONY: deps build run test bench fmt lint clean

## deps: install the C libraries Botrix links (liblmdb-dev) when missing.
deps:
	@if ! dpkg -s liblmdb-dev >/dev/null 2>&1; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "liblmdb-dev is missing and installing it needs root: run 'sudo apt-get install -y liblmdb-dev pkg-config', then make again." >&2; \
	    exit 1; \
	  fi; \
	  echo "Installing liblmdb-dev (LMDB headers and library)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblmdb-dev pkg-config; \
	fi

## build: debug build of everything, tests included.
build: deps
	$(SWIFT) build --build-tests

## run: build and serve on :8080 with data in $(DB_PATH).
run: deps
	$(SWIFT) build --product botrix
	DB_PATH=$(DB_PATH) .build/debug/botrix serve

## test: build and run the whole test suite (the crash test needs the built executables).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: release build, the raw-LMDB C baseline, then every benchmark with its ratio.
bench: deps
	mkdir -p .build
	cc -O2 -Wall -o $(BASELINE) tools/lmdb-append-baseline.c -llmdb
	cc -O2 -Wall -o $(SCAN) tools/lmdb-scan-baseline.c -llmdb
	$(SWIFT) build -c release --product botrix
	.build/release/botrix bench append --baseline $(BASELINE) --runs 5
	.build/release/botrix bench commands --baseline $(BASELINE) --runs 3
	.build/release/botrix bench rebuild --baseline $(SCAN) --events 1000000 --runs 3

## fmt: rewrite sources with swift format and the repo's .swift-format.
fmt:
	$(SWIFT) format --in-place --recursive $(SOURCES)

## lint: fail when sources are not swift format clean.
lint:
	$(SWIFT) format lint --strict --recursive $(SOURCES)

## clean: remove build products and local data.
clean:
	rm -rf .build data
