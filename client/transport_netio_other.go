//go:build !linux

package client

// Elsewhere netTransport's Read and Write are the net.Conn's own (transport_netio_linux.go says
// what Linux does instead).

// netIO is empty here: only Linux's raw path keeps per-transport state.
type netIO struct{}

func newNetIO() netIO { return netIO{} }

func (t netTransport) Read(p []byte) (int, error)  { return t.TCPConn.Read(p) }
func (t netTransport) Write(p []byte) (int, error) { return t.TCPConn.Write(p) }
