// Package wire is wwly's binary protocol: length-prefixed, versioned frames.
// docs/protocol.md is the normative description; this package is one implementation of it.
//
// Layout of every frame (integers big-endian):
//
//	u32 length   bytes after this field (type + req + body), 9 ≤ length ≤ Limits.MaxFrame
//	u8  type
//	u64 req      request id chosen by the client; replies carry the request's id; pushes carry 0
//	...          body, by type (see the Frame fields)
//
// Decoding is pure: Decode looks at a byte slice and either needs more bytes, returns one frame,
// or returns an error that ends the connection. Decoded slices alias the input buffer.
package wire

import "errors"

// Version is the protocol version spoken in HELLO/WELCOME. Version 2 added OP, ACQUIRED, the
// kind fields of STATUS_REPLY and the codes from TOO_MANY_HOLDS on; a server speaking 2
// answers a HELLO of version 1 with ERROR(VERSION).
const Version = 2

// HeaderSize is the size of length + type + req.
const HeaderSize = 4 + 1 + 8

// Type is a frame type.
type Type uint8

const (
	Hello       Type = 0x01 // C→S Version, Auth, ClientName
	Welcome     Type = 0x02 // S→C Version, Session, Heartbeat (interval ns), Timeout (heartbeat timeout ns)
	Acquire     Type = 0x03 // C→S Name, Wait (ns; 0 try, <0 forever), TTL (ns; 0 no lease)
	Granted     Type = 0x04 // S→C Token (req = the acquire's id)
	Release     Type = 0x05 // C→S Name, Token
	OK          Type = 0x06 // S→C reply to Release, Renew, Cancel
	Cancel      Type = 0x07 // C→S Target (the acquire's id)
	Renew       Type = 0x08 // C→S Name, Token, TTL
	Lost        Type = 0x09 // S→C push: Target (the acquire's id), Name, Token, Code
	Status      Type = 0x0A // C→S Names (none = all live locks, up to a server bound)
	StatusReply Type = 0x0B // S→C Locks
	Ping        Type = 0x0C // either way
	Pong        Type = 0x0D // either way
	Error       Type = 0x0E // S→C Code, Msg; req 0 = about the connection, which the server then closes
	Op          Type = 0x0F // C→S Prim, Action, Flags, N, Param, Owner, Token, Wait, Name, Lock (version 2)
	Acquired    Type = 0x10 // S→C Token, Value, Code: an OP ACQUIRE succeeded (version 2)
	// Sessions and SessionsReply came later in version 2: a server that predates them closes
	// the connection with ERROR(BAD_FRAME), so only ask after checking the server is new enough
	// (`wwly status --sessions` says so plainly).
	Sessions      Type = 0x11 // C→S IDs (none = every session, up to a server bound)
	SessionsReply Type = 0x12 // S→C Sessions
	// Redirect and Resume belong to replicated mode (docs/protocol.md section 11).
	Redirect Type = 0x13 // S→C Addr: not the leader; the leader's client address ("" = none known). Then closes.
	Resume   Type = 0x14 // C→S Version, Auth, ClientName, Session, Secret: take over a session after a failover
	Cluster  Type = 0x15 // C→S Auth: any member describes the cluster, before or after HELLO
	// ClusterReply answers CLUSTER: Member (this member's view: id, state, term, indexes, leader) and Members.
	ClusterReply Type = 0x16

	// LastType is the highest frame type of this version.
	LastType = ClusterReply
)

// Code is an error code in ERROR and LOST frames.
type Code uint16

const (
	CodeBadFrame        Code = 1  // malformed frame; connection closed
	CodeFrameTooLarge   Code = 2  // frame over the limit; connection closed
	CodeVersion         Code = 3  // unsupported protocol version; connection closed
	CodeAuth            Code = 4  // missing or wrong auth token, or request before HELLO; connection closed
	CodeNotHeld         Code = 5  // release/renew of a lock not held under that token
	CodeTimeout         Code = 6  // acquire wait timed out
	CodeQueueFull       Code = 7  // too many waiters on that name
	CodeCancelled       Code = 8  // acquire cancelled
	CodeTooManyRequests Code = 9  // outstanding-request bound exceeded
	CodeNameLength      Code = 10 // empty or over-long name
	CodeShutdown        Code = 11 // server is shutting down; connection closed
	CodeTooManyConns    Code = 12 // connection bound reached; connection closed
	CodeDuplicate       Code = 13 // request id already waiting
	CodeLeaseExpired    Code = 14 // LOST reason: lease ran out
	CodeSlowConsumer    Code = 15 // outbound buffer bound exceeded; connection closed
	CodeInternal        Code = 16
	CodeTooManyHolds    Code = 17 // the session holds or awaits as many locks as the server allows
	CodeWrongKind       Code = 18 // the name is in use as another kind, or with other parameters
	CodeNotOwner        Code = 19 // RLock released (or Condition used) by someone not holding the lock
	CodeOverRelease     Code = 20 // BoundedSemaphore released past its bound
	CodeBroken          Code = 21 // Barrier broken
	CodeDeadlock        Code = 22 // the acquire would close a wait-for cycle; Msg names it
	CodeInvalid         Code = 23 // an OP argument out of range (unknown kind or action, 0 permits, ...)
	CodeNoSession       Code = 24 // RESUME of a session that is closed or unknown, or a wrong secret; connection closed
	CodeUnavailable     Code = 25 // replicated mode: leadership lost or no quorum; the outcome may be unknown; connection closed

	// LastCode is the highest code this build knows; codes above it come from a newer peer.
	LastCode = CodeUnavailable
)

// Limits bound what a decoder accepts.
type Limits struct {
	MaxFrame int // largest length field accepted
	MaxName  int // longest lock name
	MaxNames int // most names in one STATUS
}

// DefaultLimits returns fresh default limits.
func DefaultLimits() Limits { return Limits{MaxFrame: 64 << 10, MaxName: 256, MaxNames: 1024} }

// LockInfo is one entry of a STATUS reply.
type LockInfo struct {
	Name       []byte
	Holder     uint64 // session id; 0 = free
	Token      uint64
	Waiters    uint32
	OldestWait int64 // ns
	LeaseLeft  int64 // ns; 0 = no lease
	Kind       Prim  // version 2; 0 is read as PrimMutex
	Holders    uint32
	Value      int64 // Semaphore: permits free
}

// SessionInfo is one entry of a SESSIONS reply: who a session is.
type SessionInfo struct {
	Session uint64
	Client  []byte // the HELLO's client field, cut to MaxClient bytes by the server
	Remote  []byte // the peer address the server sees, e.g. "10.0.0.7:51234"
	Locks   uint32 // locks held plus acquires waiting, summed over the server's engine shards
}

// MaxClient is how many bytes of a HELLO's client field a server keeps for SESSIONS.
const MaxClient = 256

// Frame is the decoded form of any frame; only the fields of its Type are meaningful.
// Byte slices alias the buffer the frame was decoded from.
type Frame struct {
	Type       Type
	Req        uint64
	Version    uint16
	Auth       []byte
	ClientName []byte
	Session    uint64
	Heartbeat  int64
	Timeout    int64
	Name       []byte
	Wait       int64
	TTL        int64
	Token      uint64
	Target     uint64
	Code       Code
	Msg        []byte
	Names      [][]byte
	Locks      []LockInfo
	IDs        []uint64      // SESSIONS
	Sessions   []SessionInfo // SESSIONS_REPLY

	// OP and ACQUIRED (version 2).
	Prim   Prim
	Action Action
	Flags  Flags
	N      uint32 // Semaphore permits; NOTIFY count
	Param  uint32 // Semaphore value; Barrier parties
	Owner  uint64 // RLock / deadlock owner within the session
	Lock   []byte // Condition: its lock's name
	Value  int64  // ACQUIRED: Barrier arrival index

	// Replicated mode.
	Secret []byte // WELCOME (optional, 1..MaxSecret bytes) and RESUME: the session's resume secret
	Addr   []byte // REDIRECT: the leader's client address, empty when no leader is known
	// CLUSTER_REPLY.
	View    ClusterView
	Members []MemberInfo
}

// ClusterView is one member's view of its raft cluster (CLUSTER_REPLY).
type ClusterView struct {
	ID      []byte // this member's raft id
	State   uint8  // RaftFollower, RaftCandidate, RaftLeader or RaftShutdown
	Term    uint64
	Commit  uint64 // commit index
	Applied uint64 // last index applied to the engine here
	Leader  []byte // the leader's raft id; empty when none is known
}

// States of a member in ClusterView.State.
const (
	RaftFollower  uint8 = 1
	RaftCandidate uint8 = 2
	RaftLeader    uint8 = 3
	RaftShutdown  uint8 = 4
)

// MemberInfo is one configured member in CLUSTER_REPLY.
type MemberInfo struct {
	ID     []byte
	Raft   []byte // raft address
	Client []byte // client address
}

// Decode errors. Each is wrapped with context (fmt.Errorf %w): compare with errors.Is.
// Every one ends the connection, except ErrNameLength in a request from an established
// session: that frame is fully delimited (Decode returns its size), so the server answers
// ERROR(req, CodeNameLength) and reads on.
var (
	ErrFrameTooLarge = errors.New("wire: frame too large")
	ErrBadFrame      = errors.New("wire: malformed frame")
	ErrUnknownType   = errors.New("wire: unknown frame type")
	ErrNameLength    = errors.New("wire: bad name length")
)
