package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wwly/wwly/wire"
)

// A server's read path: decode every complete frame in the bytes received so far, keep the
// rest for the next read.
func ExampleDecode() {
	in := wire.AppendAcquire(nil, 7, []byte("jobs/42"), -1, 0)
	in = wire.AppendPing(in, 8)
	in = append(in, 0, 0) // the start of a frame still in flight

	lim := wire.DefaultLimits()
	var f wire.Frame
	for {
		n, err := wire.Decode(in, lim, &f)
		if err != nil {
			fmt.Println("close connection:", err)
			return
		}
		if n == 0 {
			break // need more bytes
		}
		fmt.Printf("%v req=%d name=%q\n", f.Type, f.Req, f.Name)
		in = in[n:]
	}
	fmt.Println("kept", len(in), "bytes")
	// Output:
	// ACQUIRE req=7 name="jobs/42"
	// PING req=8 name=""
	// kept 2 bytes
}

// A client's read path: a Reader over the connection hands out one frame at a time.
func ExampleReader() {
	var conn bytes.Buffer // stands in for a net.Conn
	conn.Write(wire.AppendWelcome(nil, 1, 42, 1e9, 5e9))
	conn.Write(wire.AppendGranted(nil, 7, 1001))
	conn.Write(wire.AppendError(nil, 8, wire.CodeTimeout, "waited 10ms"))

	r := wire.NewReader(&conn, wire.DefaultLimits())
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fmt.Println("broken stream:", err)
			return
		}
		switch f.Type {
		case wire.Welcome:
			fmt.Printf("session %d, heartbeat %dns\n", f.Session, f.Heartbeat)
		case wire.Granted:
			fmt.Printf("req %d granted, token %d\n", f.Req, f.Token)
		case wire.Error:
			fmt.Printf("req %d failed: %v\n", f.Req, wire.CodeError{Code: f.Code, Msg: string(f.Msg)})
		}
	}
	// Output:
	// session 42, heartbeat 1000000000ns
	// req 7 granted, token 1001
	// req 8 failed: wwly: timeout: waited 10ms
}

// Pipelining a release with the next acquire: one write, one round trip per cycle.
func ExampleAppendRelease() {
	name := []byte("jobs/42")
	buf := wire.AppendRelease(nil, 9, name, 1001)
	buf = wire.AppendAcquire(buf, 10, name, -1, 0)
	fmt.Println(len(buf), "bytes in one write")
	// Output: 68 bytes in one write
}

// A client asks for 2 permits of a Semaphore of value 4 with an OP frame.
func ExampleAppendOp() {
	buf := wire.AppendOp(nil, 20, &wire.Frame{Prim: wire.PrimSemaphore, Action: wire.ActAcquire, N: 2, Param: 4,
		Wait: int64(5 * time.Second), Name: []byte("gpus")})
	var f wire.Frame
	n, err := wire.Decode(buf, wire.DefaultLimits(), &f)
	fmt.Println(n == len(buf), err, f.Type, f.Prim, f.Action, f.N, f.Param, string(f.Name))
	// Output: true <nil> OP SEMAPHORE ACQUIRE 2 4 gpus
}
