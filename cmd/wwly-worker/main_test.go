package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The lean worker must not link the network peers' clients (nor the CLI or the server): that is
// what makes it cheap to start by the thousand. The full build must still have them.
func TestLeanWorkerDeps(t *testing.T) {
	deps := func(tags ...string) string {
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	lean := deps("-tags", "wwlylean")
	for _, banned := range []string{"github.com/redis/", "go.etcd.io/", "google.golang.org/grpc", "github.com/spf13/cobra",
		"github.com/panjf2000/gnet", "gonum.org/", "github.com/wwly/wwly/server"} {
		if strings.Contains(lean, banned) {
			t.Errorf("the lean worker links %s", banned)
		}
	}
	if full := deps(); !strings.Contains(full, "go.etcd.io/etcd/client/v3") {
		t.Error("the full worker lacks the etcd client")
	}
}
