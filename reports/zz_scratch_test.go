package reports

import (
	"fmt"
	"os"
	"testing"
)

func TestScratchRender(t *testing.T) {
	dir := "/tmp/scratchrun"
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	o := defaultSynth(1)
	writeSynthRun(t, dir, o)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	colors := d.backendRank()
	g := d.Groups()
	p, _ := spectrumPlot(g[2], colors, false)
	if err := p.Save(plotW, plotH, dir+"/spec.png"); err != nil {
		t.Fatal(err)
	}
	for i, m := range sweepMetrics {
		p, _ := sweepPlot(seriesOf(g)[0], m, colors)
		p.Save(plotW, plotH, fmt.Sprintf("%s/sweep%d.png", dir, i))
	}
	p, _ = timelinePlot(g[1], colors, false)
	p.Save(plotW, plotH, dir+"/time.png")
}
