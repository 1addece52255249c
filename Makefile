# wwly — the two set-up commands are `make bench` (the main job) and `make test` (the tests).
GO      ?= go
BIN     := bin/wwly
FUZZTIME ?= 20s

# Debian's interpreter sees the python3-* packages scripts/deps.sh installs.
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

.PHONY: build test cross test-python bench bench-quick bench-scale bench-primitives yardstick fuzz lint clean

# wwly itself, and beside it the worker processes `wwly bench` starts by the thousand: a lean one
# (wwly, flock, tcp-echo, futex-fifo, none; no Redis/etcd code), one that adds the Redis peers and
# one with every backend (etcd's gRPC client doubles a worker's start-up: 29 against 11.5 ms). The
# workers are static (CGO_ENABLED=0): no dynamic loader or libc start-up, 17 → 13 ms of CPU per
# process start here (docs/harness.md).
build:
	$(GO) build -o $(BIN) ./cmd/wwly
	CGO_ENABLED=0 $(GO) build -tags wwlylean -o bin/wwly-worker ./cmd/wwly-worker
	CGO_ENABLED=0 $(GO) build -tags wwlylean,wwlyredis -o bin/wwly-worker-redis ./cmd/wwly-worker
	CGO_ENABLED=0 $(GO) build -o bin/wwly-worker-net ./cmd/wwly-worker
	$(GO) build -o bin/futexfloor ./cmd/futexfloor

# go vet + the race-enabled test suite, integration tests with real processes included, after the
# cross-compile check.
test: cross
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...
	$(MAKE) test-python

# Proves portability by compiling only (no tests run): everything for macOS, the client and the
# CLI for Apple silicon, the client for Windows, and go vet (which type-checks the tests too) of
# the client on both.
cross:
	GOOS=darwin GOARCH=amd64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) build ./client/ ./cmd/wwly/
	GOOS=darwin GOARCH=arm64 $(GO) vet ./client/
	GOOS=windows GOARCH=amd64 $(GO) build ./client/
	GOOS=windows GOARCH=amd64 $(GO) vet ./client/

# The Python client's tests (python/tests) and examples against a real `wwly serve`.
test-python: build
	cd python && WWLY_BIN=$(CURDIR)/$(BIN) $(PYTHON) -m pytest -q -p no:cacheprovider tests

# Installs/starts what the harness needs (or says what it skips), runs the full scenario (every
# backend, W up to 1000, one hot lock and 64 names), then scale.yaml (wwly alone at W=2000), and
# renders both reports: 14 min 26 s on the 2-vCPU box (2026-11-29, README).
bench: build
	bash scripts/deps.sh
	./$(BIN) bench --scenario bench/scenarios/full.yaml --out results/full
	./$(BIN) report results/full
	./$(BIN) bench --scenario bench/scenarios/scale.yaml --out results/scale
	./$(BIN) report results/scale

# wwly alone at W=2000 (issue 7's scale goal), the second half of `make bench`.
bench-scale: build
	bash scripts/deps.sh
	./$(BIN) bench --scenario bench/scenarios/scale.yaml --out results/scale
	./$(BIN) report results/scale

bench-quick: build
	bash scripts/deps.sh
	./$(BIN) bench --scenario bench/scenarios/quick.yaml
	./$(BIN) report results/latest

# The harness's own overhead: its futex-fifo cells (bench/scenarios/yardstick.yaml) and the same
# lock with no harness (cmd/futexfloor), same W and window, alternated three times, with each
# round's ratio and the median (goal ≥ 0.8×; docs/harness.md).
# Issue 8's primitives (Event fan-out against a futex broadcast, Redis pub/sub and etcd watch;
# RWMutex 90% reads against the mutex; Semaphore(4)). Kept out of `make bench`, whose 15-minute
# budget the W=1000 fan-out rounds would break; bench/scenarios/primitives.yaml says what it runs.
bench-primitives: build
	bash scripts/deps.sh
	./$(BIN) bench --scenario bench/scenarios/primitives.yaml --out results/primitives
	./$(BIN) report results/primitives

yardstick: build
	./bin/futexfloor -wwly ./$(BIN) -rounds 3 -workers 8,64 -duration 3s -warmup 500ms -out results/yardstick

# Runs every fuzz target for FUZZTIME each (go test -fuzz takes one target at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; done

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin
