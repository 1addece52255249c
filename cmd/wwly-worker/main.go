// Command wwly-worker is one load-generating worker process of `wwly bench`, without the rest of
// the wwly command: no CLI framework, no server, no report code. A run starts thousands of
// them, so every MiB and millisecond of start-up counts W times.
//
// It is built three times (see the Makefile):
//
//	CGO_ENABLED=0 go build -tags wwlylean           -o bin/wwly-worker       ./cmd/wwly-worker  # wwly, wwly-tls, flock, tcp-echo, futex-fifo, none
//	CGO_ENABLED=0 go build -tags wwlylean,wwlyredis -o bin/wwly-worker-redis ./cmd/wwly-worker  # the above and the Redis peers
//	CGO_ENABLED=0 go build                          -o bin/wwly-worker-net   ./cmd/wwly-worker  # every backend, etcd included
//
// `wwly bench` runs the leanest one beside its own binary that drives the backend
// (bench.InLeanWorker, bench.InRedisWorker), and falls back to its hidden `wwly worker`. The protocol is loadgen.RunWorker's: JSON lines on
// stdin and stdout; a person never runs it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/loadgen"
)

func main() {
	if err := loadgen.RunWorker(context.Background(), os.Stdin, os.Stdout, bench.Lookup); err != nil {
		// RunWorker has already reported the error on stdout for the coordinator; stderr is for
		// a person reading the cell's failure.
		fmt.Fprintln(os.Stderr, "wwly-worker:", err)
		os.Exit(1)
	}
}
