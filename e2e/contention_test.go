package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
)

var contention = flag.String("e2e.contention", "", "comma-separated worker counts for TestContention (e.g. 8,32); empty skips it")

// roleCycler locks and unlocks WWLY_E2E_NAME in a loop for WWLY_E2E_FOR, on the I/O mode
// WWLY_E2E_IOMODE, and prints "CYCLES <n>".
func roleCycler() error {
	mode := client.IONetConn
	if os.Getenv("WWLY_E2E_IOMODE") == client.IOBlockingFD.String() {
		mode = client.IOBlockingFD
	}
	d, err := time.ParseDuration(os.Getenv("WWLY_E2E_FOR"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, os.Getenv("WWLY_ADDR"), client.WithIOMode(mode))
	if err != nil {
		return err
	}
	defer c.Close()
	m := c.Mutex(os.Getenv("WWLY_E2E_NAME"))
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		if err := m.LockContext(context.Background()); err != nil {
			return err
		}
		m.Unlock()
	}
	fmt.Printf("CYCLES %d\n", n)
	return nil
}

// TestContention compares the client's I/O modes on one hot lock shared by W worker processes
// (opt-in: -e2e.contention=8,32; it measures, it asserts nothing).
func TestContention(t *testing.T) {
	if *contention == "" {
		t.Skip("opt-in: -e2e.contention=8,32")
	}
	srv := &serverProc{}
	startServerProc(t, srv)
	const d = 2 * time.Second
	for _, ws := range strings.Split(*contention, ",") {
		w, err := strconv.Atoi(ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []client.IOMode{client.IONetConn, client.IOBlockingFD} {
			ps := make([]*proc, w)
			for i := range ps {
				ps[i] = start(t, selfCmd("cycler", "WWLY_ADDR="+srv.addr, "WWLY_E2E_NAME=hot",
					"WWLY_E2E_FOR="+d.String(), "WWLY_E2E_IOMODE="+mode.String()))
			}
			total := 0
			for _, p := range ps {
				line := p.stdout.waitLine(t, "CYCLES", 30*time.Second)
				n, _ := strconv.Atoi(strings.Fields(line)[1])
				total += n
				p.wait(t, 10*time.Second)
			}
			t.Logf("W=%d %-10s %8.0f cycles/s", w, mode, float64(total)/d.Seconds())
		}
	}
}
