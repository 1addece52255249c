package scenarios

import (
	"bytes"
	"os"
	"testing"
)

// Every file of the directory is embedded, byte for byte, and found with or without ".yaml".
func TestEmbedded(t *testing.T) {
	names := Names()
	for _, want := range []string{"full", "gate", "primitives", "quick"} {
		if _, ok := Lookup(want); !ok {
			t.Errorf("%s not embedded (have %v)", want, names)
		}
	}
	for _, n := range names {
		disk, err := os.ReadFile(n + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		emb, ok := Lookup(n + ".yaml")
		if !ok || !bytes.Equal(disk, emb) {
			t.Errorf("%s: embedded copy differs from the file", n)
		}
	}
	for _, bad := range []string{"", "nope", "../quick", "scenarios/quick"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found something", bad)
		}
	}
}
