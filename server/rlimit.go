package server

// fdReserve is how many descriptors stay free for everything that is not a client connection:
// listeners, epoll and eventfd of each loop, the epoch file, log files, the Go runtime.
const fdReserve = 64

// connCap is the most client connections that can be open without risking EMFILE in accept(2).
// gnet treats any accept error other than EAGAIN/EINTR/ECONNRESET/ECONNABORTED as fatal and
// shuts the whole engine down, so the server must never let the process run out of descriptors:
// each loop accepts one socket at a time and closes it in OnOpen when over the cap, so at most
// cap + loops client sockets exist at any moment.
func connCap(noFile uint64, loops int) int {
	reserve := uint64(fdReserve + 4*loops)
	if noFile <= reserve {
		return 0
	}
	c := noFile - reserve
	if c > 1<<30 {
		c = 1 << 30
	}
	return int(c)
}
