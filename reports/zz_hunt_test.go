package reports

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestHuntHang(t *testing.T) {
	dir := t.TempDir()
	o := defaultSynth(11)
	o.Backends, o.Workers = []string{"wwly"}, []int{1}
	writeSynthRun(t, dir, o)
	valid, _ := os.ReadFile(filepath.Join(dir, "wwly-w1-l1-r1.hlog"))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), valid...)
		for k := 0; k < 1+rng.IntN(4); k++ {
			switch rng.IntN(3) {
			case 0:
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			case 1:
				p := rng.IntN(len(b))
				b = append(b[:p], b[min(len(b), p+rng.IntN(20)):]...)
			case 2:
				p := rng.IntN(len(b))
				b = append(b[:p], append([]byte{"0123456789.,#\n"[rng.IntN(14)]}, b[p:]...)...)
			}
			if len(b) == 0 {
				b = []byte("x")
			}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			h, _, err := ReadHlog(bytes.NewReader(b))
			if err == nil && h != nil {
				var out bytes.Buffer
				WriteHgrm(&out, h, Micros)
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			os.WriteFile("/tmp/hang_input.hlog", b, 0o644)
			t.Fatalf("hang at %d:\n%s", i, buf[:n])
		}
	}
}
