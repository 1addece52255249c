package loadgen

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{in: `{"type":"ready"}`},
		{in: `{"type":"final","ops":5,"total_ops":7}`},
		{in: `{"type":"final","ops":5,"total_ops":7,"intervals":[{"k":0,"ops":2,"b":[10,2]},{"k":3,"ops":3,"b":[300,1,8000,2]}]}`},
		{in: `{"type":"final","ops":8,"total_ops":7}`, wantErr: true},
		{in: `{"type":"interval","k":2,"ops":5}`, wantErr: true}, // workers no longer talk in the window
		{in: `{"type":"final","ops":2,"total_ops":2,"intervals":[{"k":-1,"ops":2,"b":[10,2]}]}`, wantErr: true},
		{in: `{"type":"final","ops":2,"total_ops":2,"intervals":[{"k":0,"ops":2,"b":[10]}]}`, wantErr: true},
		{in: `{"type":"final","ops":2,"total_ops":2,"intervals":[{"k":0,"ops":2,"b":[8192,2]}]}`, wantErr: true},
		{in: `{"type":"final","ops":2,"total_ops":2,"intervals":[{"k":0,"ops":2,"b":[10,1]}]}`, wantErr: true},
		{in: `{"type":"final","ops":3,"total_ops":3,"intervals":[{"k":0,"ops":2,"b":[10,2]}]}`, wantErr: true},
		{in: `{"type":"final","ops":2,"total_ops":2,"intervals":[{"k":1,"ops":1,"b":[10,1]},{"k":1,"ops":1,"b":[10,1]}]}`, wantErr: true},
		{in: `{"type":"final","ops":2,"total_ops":2,"acquire":[40,1,41,1],"cycle":[40,2]}`},
		{in: `{"type":"final","ops":1,"total_ops":1,"acquire":[40]}`, wantErr: true},               // half a pair
		{in: `{"type":"final","ops":1,"total_ops":1,"hold_release":[40,0]}`, wantErr: true},        // empty bucket sent
		{in: `{"type":"final","ops":1,"total_ops":1,"cycle":[41,1,40,1]}`, wantErr: true},          // indexes not rising
		{in: `{"type":"final","ops":1,"total_ops":1,"acquire":[99999999,1]}`, wantErr: true},       // index out of range
		{in: `{"type":"final","ops":1,"total_ops":1,"acquire_uncorrected":[-1,1]}`, wantErr: true}, // negative index
		{in: `{"type":"error"}`, wantErr: true},
		{in: `{"type":"error","err":"x"}`},
		{in: `{"type":"hello"}`, wantErr: true},
		{in: `not json`, wantErr: true},
	}
	for _, tt := range tests {
		_, err := DecodeMessage([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("DecodeMessage(%s) err = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrProtocol) {
			t.Errorf("DecodeMessage(%s) err = %v, want it to wrap ErrProtocol", tt.in, err)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	good := WorkerConfig{Backend: "flock", Names: []string{"a"}, Shm: "/tmp/x", Timing: Timing{Duration: 1}}
	b, _ := json.Marshal(good)
	if _, err := DecodeConfig(b); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*WorkerConfig){
		func(c *WorkerConfig) { c.Backend = "" },
		func(c *WorkerConfig) { c.Names = nil },
		func(c *WorkerConfig) { c.Shm = "" },
		func(c *WorkerConfig) { c.Duration = 0 },
		func(c *WorkerConfig) { c.Rate = -1 },
	} {
		c := good
		mut(&c)
		b, _ := json.Marshal(c)
		if _, err := DecodeConfig(b); err == nil {
			t.Errorf("bad config %+v accepted", c)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{`{"type":"ready"}`, `{"type":"final","ops":1,"total_ops":1,"acquire":[40,1]}`, `{"type":"final","ops":1,"total_ops":1,"acquire":[40]}`,
		`{"type":"final","ops":1,"total_ops":1,"intervals":[{"k":0,"ops":1,"b":[5,1]}]}`,
		`{"type":"error","err":"e"}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if m.Ops < 0 || m.TotalOps < 0 {
			t.Fatalf("accepted negative counts: %+v", m)
		}
		for _, iv := range m.Intervals {
			iv.AddTo(NewHistogram()) // an accepted interval must merge without a panic
		}
		for _, c := range []Counts{m.Acquire, m.AcquireUncorrected, m.HoldRelease, m.Cycle} {
			var s CountsSum
			if err := s.Add(c); err != nil {
				t.Fatalf("accepted a final whose counts do not merge: %v", err)
			}
		}
	})
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(`{"backend":"flock","names":["a"],"shm":"/x","duration_ns":1}`))
	f.Add([]byte(`{"backend":"","names":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeConfig(b)
		if err == nil && (c.Backend == "" || len(c.Names) == 0 || c.Duration <= 0) {
			t.Fatalf("accepted invalid config %+v", c)
		}
	})
}
