package reports_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/wwly/wwly/reports"
)

// Render a committed sample run (made by the package's seeded synthetic generator) the way
// `wwly report DIR` does.
func ExampleRender() {
	dir, err := os.MkdirTemp("", "wwly-report-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS("testdata/run")); err != nil {
		log.Fatal(err)
	}

	data, err := reports.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range data.Groups() {
		fmt.Printf("%s: %d cells\n", g.Key, len(g.Cells))
	}
	paths, err := reports.Render(dir, data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(paths.Markdown), filepath.Base(paths.HTML), len(paths.Hgrms), "hgrm files")
	// Output:
	// workers=1 locks=1 hold=0s closed: 5 cells
	// workers=8 locks=1 hold=0s closed: 5 cells
	// workers=64 locks=1 hold=0s closed: 5 cells
	// report.md report.html 12 hgrm files
}
