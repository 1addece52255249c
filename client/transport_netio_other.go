//go:build !linux

package client

// Elsewhere netTransport's Read and Write are the net.Conn's own (transport_netio_linux.go says
// what Linux does instead).

func (t netTransport) Read(p []byte) (int, error)  { return t.TCPConn.Read(p) }
func (t netTransport) Write(p []byte) (int, error) { return t.TCPConn.Write(p) }
