package bench

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestEtcd3Cluster(t *testing.T) {
	cl := startCluster(t, etcd3Backend{}, StartOptions{Dir: scratchDir(t)})
	testLeaderKill(t, cl)
}

// TestFailoverTimeEtcd3 runs one failover trial on etcd3: safety is asserted, the time from
// the kill to the next grant is logged (a figure, not a pass mark).
func TestFailoverTimeEtcd3(t *testing.T) {
	if _, err := lookBinary("etcd"); err != nil {
		t.Skip(err)
	}
	testFailoverTime(t, FailoverOptions{Backend: "etcd3", Trials: 1, Start: StartOptions{Dir: scratchDir(t)}})
}

func testFailoverTime(t *testing.T, o FailoverOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trials, err := MeasureFailover(ctx, o, func(i int, tr FailoverTrial) { t.Logf("%s trial %d: %v", o.Backend, i+1, tr) })
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != o.Trials {
		t.Fatalf("%d trials; want %d", len(trials), o.Trials)
	}
	for _, tr := range trials {
		if tr.Gap <= 0 || tr.Grants < 2 {
			t.Errorf("trial %v: no grant measured on both sides of the kill", tr)
		}
	}
	med, most := FailoverSummary(trials)
	t.Logf("%s: kill -9 of the leader to the next grant: median %v, max %v (loaded box)", o.Backend, med, most)
}

func TestCheckGrants(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	g := func(from, to int, token uint64) grant { return grant{at: at(from), released: at(to), token: token} }
	tests := []struct {
		name   string
		grants []grant
		unsafe bool
	}{
		{"empty", nil, false},
		{"one held", []grant{{at: at(1), token: 1}}, false},
		{"in turn", []grant{g(1, 2, 1), g(2, 3, 2), g(5, 6, 9)}, false},
		{"recorded out of order", []grant{g(5, 6, 9), g(1, 2, 1)}, false},
		{"overlap", []grant{g(1, 3, 1), g(2, 4, 2)}, true},
		{"never released", []grant{{at: at(1), token: 1}, g(2, 4, 2)}, true},
		{"token repeats", []grant{g(1, 2, 3), g(2, 3, 3)}, true},
		{"token falls", []grant{g(1, 2, 3), g(2, 3, 2)}, true},
		{"same hold after a failed unlock", []grant{{at: at(1), released: at(2), token: 3, unlockFailed: true}, {at: at(2), released: at(3), token: 3}}, false},
		{"same token, other client", []grant{{at: at(1), released: at(2), token: 3, unlockFailed: true}, {at: at(2), released: at(3), token: 3, client: 1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkGrants(tt.grants)
			if got := errors.Is(err, ErrFailoverUnsafe); got != tt.unsafe {
				t.Errorf("checkGrants = %v; unsafe want %v", err, tt.unsafe)
			}
		})
	}
}

func TestFailoverSummary(t *testing.T) {
	ms := func(gaps ...int) []FailoverTrial {
		var ts []FailoverTrial
		for _, g := range gaps {
			ts = append(ts, FailoverTrial{Gap: time.Duration(g) * time.Millisecond})
		}
		return ts
	}
	tests := []struct {
		trials      []FailoverTrial
		median, max time.Duration
	}{
		{nil, 0, 0},
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{ms(900, 100, 300), 300 * time.Millisecond, 900 * time.Millisecond},
		{ms(400, 100, 200, 300), 250 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		med, most := FailoverSummary(tt.trials)
		if med != tt.median || most != tt.max {
			t.Errorf("FailoverSummary(%v) = %v, %v; want %v, %v", tt.trials, med, most, tt.median, tt.max)
		}
	}
}

func TestMeasureFailoverNotCluster(t *testing.T) {
	_, err := MeasureFailover(context.Background(), FailoverOptions{Backend: "none", Trials: 1, Start: StartOptions{Dir: t.TempDir()}}, nil)
	if !errors.Is(err, ErrNotCluster) {
		t.Errorf("MeasureFailover(none) = %v; want ErrNotCluster", err)
	}
	// The etcd backend is a one-member etcd cluster: nobody to fail over to.
	if _, err := lookBinary("etcd"); err != nil {
		t.Fatalf("etcd is not installed (scripts/deps.sh installs it): %v", err)
	}
	_, err = MeasureFailover(context.Background(), FailoverOptions{Backend: "etcd", Trials: 1, Start: StartOptions{Dir: t.TempDir()}}, nil)
	if !errors.Is(err, ErrNotCluster) {
		t.Errorf("MeasureFailover(etcd) = %v; want ErrNotCluster", err)
	}
}
