package wire

// Frames of replicated mode (docs/protocol.md section 11): the resume secret WELCOME may carry,
// REDIRECT from a follower, and RESUME of a session on a new leader.

import (
	"fmt"
	"math"
)

// Bounds of the replicated-mode fields.
const (
	MaxSecret = 64  // a session's resume secret: 1..MaxSecret bytes
	MaxAddr   = 255 // a REDIRECT address
)

const resumeFixed = 2 + 2 + 2 + 8 + 2 // version, auth length, client name length, session, secret length

// appendWelcomeSecret appends a WELCOME with the optional trailing secret (u16 length + bytes).
func appendWelcomeSecret(dst []byte, req uint64, version uint16, session uint64, heartbeat, timeout int64, secret []byte) []byte {
	if len(secret) > MaxSecret {
		return poison(dst)
	}
	dst = header(dst, Welcome, req, welcomeBody+2+len(secret))
	dst = be.AppendUint16(dst, version)
	dst = be.AppendUint64(dst, session)
	dst = be.AppendUint64(dst, uint64(heartbeat))
	dst = be.AppendUint64(dst, uint64(timeout))
	return appendBytes(dst, secret)
}

// AppendWelcomeSecret appends WELCOME(req, Version, session, heartbeat, timeout, secret): the
// WELCOME of a replicated server, whose secret lets the client RESUME the session on another
// member after a failover. secret must be 1..MaxSecret bytes.
func AppendWelcomeSecret(dst []byte, req, session uint64, heartbeat, timeout int64, secret []byte) []byte {
	return appendWelcomeSecret(dst, req, Version, session, heartbeat, timeout, secret)
}

// decodeWelcomeSecret reads WELCOME's optional secret: absent (a single-node server), or
// 1..MaxSecret bytes. An empty one is refused so that every WELCOME has one encoding.
func decodeWelcomeSecret(c *cursor, f *Frame) error {
	if !c.short && len(c.p) > 0 {
		f.Secret = c.bytes()
		if !c.short && (len(f.Secret) == 0 || len(f.Secret) > MaxSecret) {
			return fmt.Errorf("%w: WELCOME secret of %d bytes (want 1..%d)", ErrBadFrame, len(f.Secret), MaxSecret)
		}
	}
	return c.end(Welcome)
}

// AppendRedirect appends REDIRECT(req, addr): this server is not the leader; addr is the
// leader's client address, empty when none is known. The server closes the connection after it.
func AppendRedirect(dst []byte, req uint64, addr []byte) []byte {
	if len(addr) > MaxAddr {
		return poison(dst)
	}
	dst = header(dst, Redirect, req, 2+len(addr))
	return appendBytes(dst, addr)
}

func checkAddr(addr []byte) error {
	if len(addr) > MaxAddr {
		return fmt.Errorf("%w: REDIRECT address of %d bytes (max %d)", ErrBadFrame, len(addr), MaxAddr)
	}
	return nil
}

// AppendResume appends RESUME(req, Version, auth, clientName, session, secret): the first frame
// of a connection that takes over session (instead of HELLO).
func AppendResume(dst []byte, req uint64, auth, clientName []byte, session uint64, secret []byte) []byte {
	return appendResume(dst, &Frame{Req: req, Version: Version, Auth: auth, ClientName: clientName,
		Session: session, Secret: secret})
}

func appendResume(dst []byte, f *Frame) []byte {
	if len(f.Auth) > math.MaxUint16 || len(f.ClientName) > math.MaxUint16 || len(f.Secret) > MaxSecret {
		return poison(dst)
	}
	dst = header(dst, Resume, f.Req, resumeFixed+len(f.Auth)+len(f.ClientName)+len(f.Secret))
	dst = be.AppendUint16(dst, f.Version)
	dst = appendBytes(dst, f.Auth)
	dst = appendBytes(dst, f.ClientName)
	dst = be.AppendUint64(dst, f.Session)
	return appendBytes(dst, f.Secret)
}

func decodeResume(c *cursor, f *Frame) error {
	f.Version = c.u16()
	f.Auth = c.bytes()
	f.ClientName = c.bytes()
	f.Session = c.u64()
	f.Secret = c.bytes()
	if err := c.end(Resume); err != nil {
		return err
	}
	if len(f.Secret) > MaxSecret {
		return fmt.Errorf("%w: RESUME secret of %d bytes (max %d)", ErrBadFrame, len(f.Secret), MaxSecret)
	}
	return nil
}

// MaxMembers bounds the members of a CLUSTER_REPLY.
const MaxMembers = 64

// AppendCluster appends CLUSTER(req, auth): ask a member for its view of the cluster.
func AppendCluster(dst []byte, req uint64, auth []byte) []byte {
	if len(auth) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Cluster, req, 2+len(auth))
	return appendBytes(dst, auth)
}

// AppendClusterReply appends CLUSTER_REPLY(req, view, members).
func AppendClusterReply(dst []byte, req uint64, v *ClusterView, members []MemberInfo) []byte {
	n := 2 + len(v.ID) + 1 + 8 + 8 + 8 + 2 + len(v.Leader) + 2
	for _, m := range members {
		n += 6 + len(m.ID) + len(m.Raft) + len(m.Client)
	}
	if len(members) > MaxMembers || len(v.ID) > MaxAddr || len(v.Leader) > MaxAddr {
		return poison(dst)
	}
	for _, m := range members {
		if len(m.ID) > MaxAddr || len(m.Raft) > MaxAddr || len(m.Client) > MaxAddr {
			return poison(dst)
		}
	}
	dst = header(dst, ClusterReply, req, n)
	dst = appendBytes(dst, v.ID)
	dst = append(dst, v.State)
	dst = be.AppendUint64(dst, v.Term)
	dst = be.AppendUint64(dst, v.Commit)
	dst = be.AppendUint64(dst, v.Applied)
	dst = appendBytes(dst, v.Leader)
	dst = be.AppendUint16(dst, uint16(len(members)))
	for _, m := range members {
		dst = appendBytes(dst, m.ID)
		dst = appendBytes(dst, m.Raft)
		dst = appendBytes(dst, m.Client)
	}
	return dst
}

func decodeClusterReply(c *cursor, f *Frame) error {
	v := &f.View
	v.ID = c.bytes()
	v.State = c.u8()
	v.Term, v.Commit, v.Applied = c.u64(), c.u64(), c.u64()
	v.Leader = c.bytes()
	n := int(c.u16())
	if n > MaxMembers {
		return fmt.Errorf("%w: CLUSTER_REPLY of %d members (max %d)", ErrBadFrame, n, MaxMembers)
	}
	f.Members = nil
	for range n {
		if c.short {
			break
		}
		f.Members = append(f.Members, MemberInfo{ID: c.bytes(), Raft: c.bytes(), Client: c.bytes()})
	}
	if err := c.end(ClusterReply); err != nil {
		return err
	}
	for _, b := range [][]byte{v.ID, v.Leader} {
		if len(b) > MaxAddr {
			return fmt.Errorf("%w: CLUSTER_REPLY field of %d bytes (max %d)", ErrBadFrame, len(b), MaxAddr)
		}
	}
	for _, m := range f.Members {
		if len(m.ID) > MaxAddr || len(m.Raft) > MaxAddr || len(m.Client) > MaxAddr {
			return fmt.Errorf("%w: CLUSTER_REPLY member field over %d bytes", ErrBadFrame, MaxAddr)
		}
	}
	return nil
}
