package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wwly/wwly/client"
)

// A client of a replicated cluster gets every member; Dial finds the leader. After a failover
// the session is resumed on the new leader, holds included.
func Example_cluster() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs := "10.0.0.1:1977,10.0.0.2:1977,10.0.0.3:1977"
	c, err := client.Dial(ctx, addrs)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := c.Mutex("jobs/42")
	if err := m.LockContext(ctx); err != nil {
		fmt.Println(err)
		return
	}
	<-c.Done() // the leader died
	r, err := client.Dial(ctx, addrs, client.WithResume(c.Session(), c.Secret()))
	if errors.Is(err, client.ErrNoSession) {
		fmt.Println("not resumed within the grace period: the hold is gone")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	_ = r.ReleaseToken(ctx, "jobs/42", m.Token())
}

// Cluster asks one member for its view, without opening a session.
func ExampleCluster() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := client.Cluster(ctx, "10.0.0.1:1977")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.ID, info.State, "term", info.Term, "leader", info.Leader)
}
