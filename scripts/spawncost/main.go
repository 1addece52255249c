// Command spawncost measures what starting N processes costs on this box, apart from the harness:
// it starts N copies of each given binary from Go's os/exec (stdin a pipe, as `wwly bench` gives
// its workers; GOMAXPROCS=1, as the harness sets), one after another, prints how long the starts
// took, then kills and reaps them. docs/harness.md quotes it through scripts/spawn-cost.sh.
//
//	go run ./scripts/spawncost -n 2000 /path/to/empty bin/wwly-worker
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	n := flag.Int("n", 2000, "processes to start per binary")
	flag.Parse()
	if flag.NArg() == 0 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: spawncost [-n N] BINARY...")
		os.Exit(2)
	}
	for _, bin := range flag.Args() {
		took, err := spawn(bin, *n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "spawncost:", err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d started in %v\n", bin, *n, took.Round(time.Millisecond))
	}
}

// spawn starts n copies of bin and returns how long the starts took; every copy is killed and
// reaped before it returns.
func spawn(bin string, n int) (time.Duration, error) {
	cmds := make([]*exec.Cmd, 0, n)
	defer func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
		for _, c := range cmds {
			_ = c.Wait()
		}
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		c := exec.Command(bin)
		c.Env = append(os.Environ(), "GOMAXPROCS=1")
		if _, err := c.StdinPipe(); err != nil {
			return 0, fmt.Errorf("%s: stdin: %w", bin, err)
		}
		if err := c.Start(); err != nil {
			return 0, fmt.Errorf("start %s (copy %d): %w", bin, i, err)
		}
		cmds = append(cmds, c)
	}
	return time.Since(t0), nil
}
