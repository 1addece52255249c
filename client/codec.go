package client

import "github.com/wwly/wwly/wire"

// Thin adapters over wire's appenders, in the argument shapes the client has at hand.

func appendHello(b []byte, req uint64, auth []byte, clientName string) []byte {
	return wire.AppendHello(b, req, auth, []byte(clientName))
}

func appendAcquire(b []byte, req uint64, name []byte, wait, ttl int64) []byte {
	return wire.AppendAcquire(b, req, name, wait, ttl)
}

func appendRelease(b []byte, req uint64, name []byte, token uint64) []byte {
	return wire.AppendRelease(b, req, name, token)
}

func appendCancel(b []byte, req, target uint64) []byte { return wire.AppendCancel(b, req, target) }

func appendRenew(b []byte, req uint64, name []byte, token uint64, ttl int64) []byte {
	return wire.AppendRenew(b, req, name, token, ttl)
}

func appendStatus(b []byte, req uint64, names []string) []byte {
	bs := make([][]byte, len(names))
	for i, n := range names {
		bs[i] = []byte(n)
	}
	return wire.AppendStatus(b, req, bs)
}

func appendSessions(b []byte, req uint64, ids []uint64) []byte {
	return wire.AppendSessions(b, req, ids)
}

// appendOp appends OP(req) from the OP fields of f.
func appendOp(b []byte, req uint64, f *wire.Frame) []byte { return wire.AppendOp(b, req, f) }

// appendEmpty appends a frame without a body (PING, PONG).
func appendEmpty(b []byte, t wire.Type, req uint64) []byte {
	if t == wire.Pong {
		return wire.AppendPong(b, req)
	}
	return wire.AppendPing(b, req)
}
