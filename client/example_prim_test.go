package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/wwly/wwly/client"
)

// Like example_test.go, these talk to a server at client.DefaultAddr: compiled, not run.

func ExampleRLock() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	me := c.RLock("config").NewOwner() // one owner per goroutine
	if err := me.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	if err := me.Lock(ctx); err != nil { // re-entry: granted at once
		log.Fatal(err)
	}
	fmt.Println("depth 2 under token", me.Token())
	_ = me.Unlock(ctx)
	_ = me.Unlock(ctx)
}

func ExampleSemaphore() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	gpus := c.Semaphore("gpus", 4) // at most 4 jobs use the GPUs, across every process
	if err := gpus.Acquire(ctx, 2); err != nil {
		log.Fatal(err)
	}
	defer gpus.Release(2)
	fmt.Println("running on 2 GPUs")
}

func ExampleRWMutex() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	rw := c.RWMutex("catalog")
	rw.RLock() // shared with every other reader, in any process
	fmt.Println("reading the catalog")
	rw.RUnlock()

	tok, err := rw.LockContext(ctx) // exclusive; the token fences stale writers
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rewriting the catalog under token", tok)
	rw.Unlock()
}

func ExampleEvent() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ready, err := c.OpenEvent(ctx, "warehouse-loaded")
	if err != nil {
		log.Fatal(err)
	}
	defer ready.Close(ctx)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := ready.Wait(wctx); err != nil { // another process calls ready.Set
		log.Fatal(err)
	}
	fmt.Println("the warehouse is loaded")
}

func ExampleCond() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	m := c.Mutex("queue")
	nonEmpty := c.Cond("queue-nonempty", m)
	m.Lock()
	for queueIsEmpty() {
		if err := nonEmpty.Wait(ctx); err != nil { // releases m while waiting
			log.Fatal(err)
		}
	}
	fmt.Println("took an item")
	m.Unlock()
}

func queueIsEmpty() bool { return false }

func ExampleBarrier() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	start := c.Barrier("load-test-start", 8) // 8 processes start together
	i, err := start.Wait(ctx)
	if errors.Is(err, client.ErrBroken) {
		log.Fatal("a party gave up")
	}
	fmt.Println("arrived as party", i)
}

func ExampleWithDeadlockDetection() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.DefaultAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	accounts := c.RLock("accounts", client.WithDeadlockDetection())
	if _, err := accounts.Acquire(ctx, 1); errors.Is(err, client.ErrDeadlock) {
		fmt.Println("would deadlock:", err) // the message names the cycle
	}
}
