package loadgen

import (
	"os"
	"testing"
)

const sampleRollup = `55d0c0000000-7ffd6b5fe000 ---p 00000000 00:00 0                          [rollup]
Rss:                5120 kB
Pss:                1100 kB
Pss_Dirty:           800 kB
Shared_Clean:       4000 kB
`

func TestParseSmapsRollup(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Mem
		wantErr bool
	}{
		{name: "real", in: sampleRollup, want: Mem{RSS: 5120 * 1024, PSS: 1100 * 1024}},
		{name: "empty", in: "", wantErr: true},
		{name: "no pss", in: "Rss: 1 kB\n", wantErr: true},
		{name: "garbage number", in: "Rss: x kB\nPss: 1 kB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSmapsRollup([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadMemSelf(t *testing.T) {
	m, err := ReadMem(os.Getpid())
	if err != nil {
		t.Skipf("no smaps_rollup here: %v", err)
	}
	if m.RSS <= 0 || m.PSS <= 0 || m.PSS > m.RSS {
		t.Fatalf("implausible own memory %+v", m)
	}
}

func FuzzParseSmapsRollup(f *testing.F) {
	f.Add([]byte(sampleRollup))
	f.Add([]byte("Rss: 9999999999999999999 kB\nPss: 1 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSmapsRollup(b)
		if err == nil && (m.RSS < 0 || m.PSS < 0) {
			t.Fatalf("negative memory %+v", m)
		}
	})
}
