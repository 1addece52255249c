package replica

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

// BenchmarkCluster: W clients acquire and release through the leader of an in-process 3-node
// cluster (raft's in-memory transport and stores: no fsync, no network, so this measures the
// engine, the FSM, raft's pipeline and the group commit, not a disk). One op is an acquire
// plus its release. On one name the handoffs are a chain (release committed, then the grant
// reaches the next client, then its release), so an entry rarely carries more than one
// command; on a name per client the commands of concurrent clients share entries.
func BenchmarkCluster(b *testing.B) {
	for _, bc := range []struct {
		w      int
		shared bool
	}{{1, true}, {64, true}, {64, false}} {
		w := bc.w
		b.Run(fmt.Sprintf("W=%d/one-name=%v", w, bc.shared), func(b *testing.B) {
			c := newCluster(b, 3, func(rc *raft.Config) { // raft's default timeouts: a loaded box must not lose the leader
				def := raft.DefaultConfig()
				rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = def.HeartbeatTimeout, def.ElectionTimeout, def.LeaderLeaseTimeout
			})
			li, err := c.leader(5 * time.Second)
			if err != nil {
				b.Fatal(err)
			}
			nd := c.nodes[li]
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sess := make([]engine.SessionID, w)
			for i := range sess {
				if sess[i], err = nd.OpenSession(ctx, nil); err != nil {
					b.Fatal(err)
				}
			}
			before := nd.Stats()
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			for i := range w {
				name := []byte("one")
				if !bc.shared {
					name = fmt.Appendf(nil, "name-%d", i)
				}
				wg.Go(func() {
					for req := uint64(0); left.Add(-1) >= 0; req += 2 {
						ev, err := nd.Do(ctx, Command{Op: OpAcquire, Session: sess[i], Req: req, Name: name, Wait: -1})
						if err != nil || ev.Kind != engine.Granted {
							b.Errorf("acquire: %v %v", ev, err)
							cancel() // the others stop too
							return
						}
						if ev, err = nd.Do(ctx, Command{Op: OpRelease, Session: sess[i], Req: req + 1, Name: name, Token: ev.Token}); err != nil || ev.Kind != engine.Done {
							b.Errorf("release: %v %v", ev, err)
							cancel()
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := nd.Stats()
			if e := st.Entries - before.Entries; e > 0 {
				b.ReportMetric(float64(st.Commands-before.Commands)/float64(e), "cmds/entry")
			}
		})
	}
}
