#!/usr/bin/env bash
# What starting N processes costs on this box, apart from the harness (docs/harness.md): N copies
# of an empty Go program and of the lean worker, started from Go's os/exec one after another.
# Usage: scripts/spawn-cost.sh [N] (default 2000); run `make build` first.
set -euo pipefail
n=${1:-2000}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/empty"
printf 'package main\n\nfunc main() {}\n' > "$tmp/empty/main.go"
printf 'module empty\n\ngo 1.21\n' > "$tmp/empty/go.mod"
(cd "$tmp/empty" && CGO_ENABLED=0 go build -o "$tmp/empty-go" .)
go run ./scripts/spawncost -n "$n" "$tmp/empty-go" "$PWD/bin/wwly-worker"
