package bench_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// buildWwly builds ./cmd/wwly into a temp dir, or skips the test saying why (another package of
// the checkout may not build yet, or `serve` may not be implemented).
func buildWwly(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "wwly")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/wwly/wwly/cmd/wwly").CombinedOutput()
	if err != nil {
		t.Skipf("wwly binary does not build yet: %v\n%s", err, out)
	}
	return bin
}
