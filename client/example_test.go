package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/wwly/wwly/client"
)

// These examples talk to a server at client.DefaultAddr (start one with `wwly serve`), so they
// are compiled but not run by go test.

func Example() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr, client.WithClientName("example"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	m := c.Mutex("inventory")
	m.Lock()
	fmt.Println("holding inventory with fencing token", m.Token())
	m.Unlock()
}

func ExampleMutex_TryLock() {
	c, err := client.Dial(context.Background(), client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	m := c.Mutex("nightly-report")
	if !m.TryLock() {
		fmt.Println("another process is writing the report")
		return
	}
	defer m.Unlock()
	fmt.Println("writing the report")
}

func ExampleMutex_LockContext() {
	c, err := client.Dial(context.Background(), client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m := c.Mutex("deploy")
	switch err := m.LockContext(ctx); {
	case errors.Is(err, client.ErrTimeout):
		fmt.Println("deploy is busy; try later")
		return
	case err != nil:
		log.Fatal(err)
	}
	defer m.Unlock()
	fmt.Println("deploying")
}

func ExampleWithTTL() {
	c, err := client.Dial(context.Background(), client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// The lease is renewed every 10s while held; if this process stalls for 30s, or its
	// connection dies, the server hands the lock on and Lost() is closed.
	m := c.Mutex("leader", client.WithTTL(30*time.Second))
	m.Lock()
	defer m.Unlock()
	work := time.NewTicker(time.Second)
	defer work.Stop()
	for range 5 {
		select {
		case <-m.Lost():
			fmt.Println("lost leadership; stopping, token", m.Token(), "is stale")
			return
		case <-work.C:
			fmt.Println("leading with token", m.Token())
		}
	}
}
