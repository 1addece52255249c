package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// clusterSize is the number of members of the replicated backends (etcd3, wwly-raft): the
// smallest cluster that survives the loss of one member.
const clusterSize = 3

// errNoLeader is returned by a cluster's Leader when no live member says it leads.
var errNoLeader = errors.New("no leader")

// clusterInstance is a started replicated backend (etcd3, wwly-raft) whose members a failover
// measurement can find and kill.
type clusterInstance interface {
	Instance
	// Members is the number of members started.
	Members() int
	// Leader returns the index of the member leading now; errNoLeader when none does.
	Leader(ctx context.Context) (int, error)
	// Kill sends SIGKILL to member i.
	Kill(i int) error
}

// freePorts returns n distinct free loopback ports (see freePort for the race it leaves).
func freePorts(n int) ([]int, error) {
	seen := make(map[int]bool, n)
	ports := make([]int, 0, n)
	for attempts := 0; len(ports) < n; attempts++ {
		if attempts > 10*n {
			return nil, fmt.Errorf("bench: %d distinct free ports not found", n)
		}
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// stopAll stops every process, concurrently (each may take stopGrace), and joins their errors.
func stopAll(procs []*serverProc) error {
	errs := make([]error, len(procs))
	done := make(chan struct{})
	for i, p := range procs {
		go func() {
			errs[i] = p.Stop()
			done <- struct{}{}
		}()
	}
	for range procs {
		<-done
	}
	return errors.Join(errs...)
}

// mkdirAll makes dir private to this user.
func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o700) }
