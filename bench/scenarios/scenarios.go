// Package scenarios embeds the `wwly bench` scenario files of this directory in the binary, so
// `wwly bench|tune|gate --scenario quick` work from any directory, not only from a checkout.
// loadgen.LoadScenario resolves a --scenario argument: a file when one exists at that path,
// else one of these by name.
package scenarios

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names lists the embedded scenarios ("full", "gate", "quick", ...), sorted. The slice is the
// caller's.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".") // the embedded root always reads
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Lookup returns the YAML of the embedded scenario name ("quick" or "quick.yaml").
func Lookup(name string) ([]byte, bool) {
	name = strings.TrimSuffix(name, ".yaml")
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, false
	}
	b, err := files.ReadFile(name + ".yaml")
	return b, err == nil
}
