package replica

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// ErrStore is wrapped by every error of OpenDisk.
var ErrStore = errors.New("replica: open stores")

// Files and limits of the on-disk stores in a data dir.
const (
	logFile       = "raft.db" // raft-boltdb: the log and the stable store (term, vote)
	snapshotDir   = "snapshots"
	keepSnapshots = 2
	maxPool       = 3 // TCP connections kept per peer by the transport
)

// Disk is the stores and transport of a networked Node: raft-boltdb (bbolt, one fsync per
// append) for the log and stable store, raft's FileSnapshotStore, and raft's TCP transport.
// Close releases them after the Node is closed.
type Disk struct {
	Stores
	bolt  *raftboltdb.BoltStore
	trans *raft.NetworkTransport
}

// OpenDisk opens (or creates) the stores in dir and listens for raft traffic on bind.
// advertise is the address peers dial (bind's when empty); it must not be unspecified.
func OpenDisk(dir, bind, advertise string, logOut io.Writer) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	bolt, err := raftboltdb.NewBoltStore(filepath.Join(dir, logFile))
	if err != nil {
		return nil, fmt.Errorf("%w: log store in %s: %w", ErrStore, dir, err)
	}
	snaps, err := raft.NewFileSnapshotStore(dir, keepSnapshots, logOut)
	if err != nil {
		_ = bolt.Close()
		return nil, fmt.Errorf("%w: snapshot store in %s: %w", ErrStore, dir, err)
	}
	var adv net.Addr // nil: the listener's own address (bind's port 0 resolved)
	if advertise != "" {
		if adv, err = net.ResolveTCPAddr("tcp", advertise); err != nil {
			_ = bolt.Close()
			return nil, fmt.Errorf("%w: raft address %q: %w", ErrStore, advertise, err)
		}
	}
	trans, err := raft.NewTCPTransport(bind, adv, maxPool, 10*time.Second, logOut)
	if err != nil {
		_ = bolt.Close()
		return nil, fmt.Errorf("%w: raft transport on %s: %w", ErrStore, bind, err)
	}
	return &Disk{Stores: Stores{Logs: bolt, Stable: bolt, Snapshots: snaps, Transport: trans},
		bolt: bolt, trans: trans}, nil
}

// Close closes the transport and the log store (call it after Node.Close).
func (d *Disk) Close() error {
	return errors.Join(d.trans.Close(), d.bolt.Close())
}

// Bootstrap makes servers the first configuration of a new cluster. On a node that already
// has state (a restart, or a peer bootstrapped first and replicated to it) it does nothing:
// every member may be started with the same --bootstrap flag, every time.
func Bootstrap(rc *raft.Config, st Stores, servers []raft.Server) error {
	has, err := raft.HasExistingState(st.Logs, st.Stable, st.Snapshots)
	if err != nil {
		return fmt.Errorf("replica: bootstrap: %w", err)
	}
	if has {
		return nil
	}
	err = raft.BootstrapCluster(rc, st.Logs, st.Stable, st.Snapshots, st.Transport,
		raft.Configuration{Servers: servers})
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("replica: bootstrap: %w", err)
	}
	return nil
}
