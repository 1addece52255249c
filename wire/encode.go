package wire

import (
	"math"
	"strconv"
)

var typeNames = [...]string{
	Hello:         "HELLO",
	Welcome:       "WELCOME",
	Acquire:       "ACQUIRE",
	Granted:       "GRANTED",
	Release:       "RELEASE",
	OK:            "OK",
	Cancel:        "CANCEL",
	Renew:         "RENEW",
	Lost:          "LOST",
	Status:        "STATUS",
	StatusReply:   "STATUS_REPLY",
	Ping:          "PING",
	Pong:          "PONG",
	Error:         "ERROR",
	Op:            "OP",
	Acquired:      "ACQUIRED",
	Sessions:      "SESSIONS",
	SessionsReply: "SESSIONS_REPLY",
	Redirect:      "REDIRECT",
	Resume:        "RESUME",
	Cluster:       "CLUSTER",
	ClusterReply:  "CLUSTER_REPLY",
}

// String is the type's name in docs/protocol.md, or "TYPE(0xNN)" for an unknown type.
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "TYPE(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// Encoding.
//
// Every appender appends one whole frame to dst and returns the extended slice, like
// strconv.AppendInt: reuse one buffer per connection and the hot appenders allocate nothing once
// it has grown. They do not check Limits: callers keep names within 1..MaxName (CheckName) and
// frames within MaxFrame. A variable-length field longer than 65535 bytes (or a STATUS list of
// more than 65535 entries) cannot be encoded at all; rather than truncate it, which could turn
// a name into a different lock, the appender writes a bare length 0, which every decoder rejects
// as malformed, so the bug shows as a closed connection. An ERROR message is the exception: it
// is only text, so it is cut to 65535 bytes.

// poison is the frame written for an unencodable frame: a length field of 0.
func poison(dst []byte) []byte { return append(dst, 0, 0, 0, 0) }

// header appends the length, type and req of a frame with a body of bodyLen bytes.
func header(dst []byte, t Type, req uint64, bodyLen int) []byte {
	dst = be.AppendUint32(dst, uint32(1+8+bodyLen))
	dst = append(dst, byte(t))
	return be.AppendUint64(dst, req)
}

func appendStr(dst []byte, s string) []byte {
	dst = be.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	dst = be.AppendUint16(dst, uint16(len(b)))
	return append(dst, b...)
}

// CheckName reports, wrapping ErrNameLength, a lock name the peer would reject under lim.
func CheckName(name []byte, lim Limits) error { return checkName(Acquire, name, lim.withDefaults()) }

// AppendHello appends HELLO(req, Version, auth, clientName).
func AppendHello(dst []byte, req uint64, auth, clientName []byte) []byte {
	if len(auth) > math.MaxUint16 || len(clientName) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Hello, req, helloFixed+len(auth)+len(clientName))
	dst = be.AppendUint16(dst, Version)
	dst = appendBytes(dst, auth)
	return appendBytes(dst, clientName)
}

// AppendWelcome appends WELCOME(req, Version, session, heartbeat, timeout); durations in ns.
func AppendWelcome(dst []byte, req, session uint64, heartbeat, timeout int64) []byte {
	return appendWelcome(dst, req, Version, session, heartbeat, timeout)
}

func appendWelcome(dst []byte, req uint64, version uint16, session uint64, heartbeat, timeout int64) []byte {
	dst = header(dst, Welcome, req, welcomeBody)
	dst = be.AppendUint16(dst, version)
	dst = be.AppendUint64(dst, session)
	dst = be.AppendUint64(dst, uint64(heartbeat))
	return be.AppendUint64(dst, uint64(timeout))
}

// AppendAcquire appends ACQUIRE(req, name, wait, ttl); wait in ns (0 try once, <0 forever),
// ttl in ns (0 no lease).
func AppendAcquire(dst []byte, req uint64, name []byte, wait, ttl int64) []byte {
	if len(name) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Acquire, req, acquireFixed+len(name))
	dst = be.AppendUint64(dst, uint64(wait))
	dst = be.AppendUint64(dst, uint64(ttl))
	return appendBytes(dst, name)
}

// AppendGranted appends GRANTED(req, token); req is the acquire's id.
func AppendGranted(dst []byte, req, token uint64) []byte {
	dst = header(dst, Granted, req, grantedBody)
	return be.AppendUint64(dst, token)
}

// AppendRelease appends RELEASE(req, name, token).
func AppendRelease(dst []byte, req uint64, name []byte, token uint64) []byte {
	if len(name) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Release, req, releaseFixed+len(name))
	dst = be.AppendUint64(dst, token)
	return appendBytes(dst, name)
}

// AppendOK appends OK(req).
func AppendOK(dst []byte, req uint64) []byte { return header(dst, OK, req, 0) }

// AppendCancel appends CANCEL(req, target); target is the id of the acquire to cancel.
func AppendCancel(dst []byte, req, target uint64) []byte {
	dst = header(dst, Cancel, req, cancelBody)
	return be.AppendUint64(dst, target)
}

// AppendRenew appends RENEW(req, name, token, ttl); ttl in ns, > 0.
func AppendRenew(dst []byte, req uint64, name []byte, token uint64, ttl int64) []byte {
	if len(name) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Renew, req, renewFixed+len(name))
	dst = be.AppendUint64(dst, token)
	dst = be.AppendUint64(dst, uint64(ttl))
	return appendBytes(dst, name)
}

// AppendLost appends the push LOST(req 0, target, name, token, code): the holder of name under
// token (granted for acquire target) no longer holds it.
func AppendLost(dst []byte, target uint64, name []byte, token uint64, code Code) []byte {
	return appendLost(dst, 0, target, name, token, code)
}

func appendLost(dst []byte, req, target uint64, name []byte, token uint64, code Code) []byte {
	if len(name) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Lost, req, lostFixed+len(name))
	dst = be.AppendUint64(dst, target)
	dst = be.AppendUint64(dst, token)
	dst = be.AppendUint16(dst, uint16(code))
	return appendBytes(dst, name)
}

// AppendStatus appends STATUS(req, names); no names asks for every live lock.
func AppendStatus(dst []byte, req uint64, names [][]byte) []byte {
	if len(names) > math.MaxUint16 {
		return poison(dst)
	}
	size := countSize
	for _, n := range names {
		if len(n) > math.MaxUint16 {
			return poison(dst)
		}
		size += 2 + len(n)
	}
	dst = header(dst, Status, req, size)
	dst = be.AppendUint16(dst, uint16(len(names)))
	for _, n := range names {
		dst = appendBytes(dst, n)
	}
	return dst
}

// AppendStatusReply appends STATUS_REPLY(req, locks).
func AppendStatusReply(dst []byte, req uint64, locks []LockInfo) []byte {
	if len(locks) > math.MaxUint16 {
		return poison(dst)
	}
	size := countSize
	for i := range locks {
		if len(locks[i].Name) > math.MaxUint16 {
			return poison(dst)
		}
		size += lockInfoFixed + len(locks[i].Name)
	}
	dst = header(dst, StatusReply, req, size)
	dst = be.AppendUint16(dst, uint16(len(locks)))
	for i := range locks {
		li := &locks[i]
		dst = be.AppendUint64(dst, li.Holder)
		dst = be.AppendUint64(dst, li.Token)
		dst = be.AppendUint32(dst, li.Waiters)
		dst = be.AppendUint64(dst, uint64(li.OldestWait))
		dst = be.AppendUint64(dst, uint64(li.LeaseLeft))
		dst = append(dst, byte(li.Kind))
		dst = be.AppendUint32(dst, li.Holders)
		dst = be.AppendUint64(dst, uint64(li.Value))
		dst = appendBytes(dst, li.Name)
	}
	return dst
}

// AppendSessions appends SESSIONS(req, ids); no ids asks for every session.
func AppendSessions(dst []byte, req uint64, ids []uint64) []byte {
	if len(ids) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Sessions, req, countSize+8*len(ids))
	dst = be.AppendUint16(dst, uint16(len(ids)))
	for _, id := range ids {
		dst = be.AppendUint64(dst, id)
	}
	return dst
}

// AppendSessionsReply appends SESSIONS_REPLY(req, sessions).
func AppendSessionsReply(dst []byte, req uint64, sessions []SessionInfo) []byte {
	if len(sessions) > math.MaxUint16 {
		return poison(dst)
	}
	size := countSize
	for i := range sessions {
		si := &sessions[i]
		if len(si.Client) > math.MaxUint16 || len(si.Remote) > math.MaxUint16 {
			return poison(dst)
		}
		size += SessionInfoSize(si)
	}
	dst = header(dst, SessionsReply, req, size)
	dst = be.AppendUint16(dst, uint16(len(sessions)))
	for i := range sessions {
		si := &sessions[i]
		dst = be.AppendUint64(dst, si.Session)
		dst = be.AppendUint32(dst, si.Locks)
		dst = appendBytes(dst, si.Client)
		dst = appendBytes(dst, si.Remote)
	}
	return dst
}

// SessionInfoSize is the encoded size of one SESSIONS_REPLY entry, for servers that keep a
// reply within MaxFrame.
func SessionInfoSize(si *SessionInfo) int { return sessionInfoFixed + len(si.Client) + len(si.Remote) }

// AppendPing appends PING(req).
func AppendPing(dst []byte, req uint64) []byte { return header(dst, Ping, req, 0) }

// AppendPong appends PONG(req); req echoes the PING's.
func AppendPong(dst []byte, req uint64) []byte { return header(dst, Pong, req, 0) }

// AppendError appends ERROR(req, code, msg); req 0 means the error is about the connection,
// which the sender then closes. msg is cut to 65535 bytes.
func AppendError(dst []byte, req uint64, code Code, msg string) []byte {
	if len(msg) > math.MaxUint16 {
		msg = msg[:math.MaxUint16]
	}
	dst = header(dst, Error, req, errorFixed+len(msg))
	dst = be.AppendUint16(dst, uint16(code))
	return appendStr(dst, msg)
}

// Append appends f encoded by its Type, using only that type's fields; HELLO and WELCOME
// carry f.Version as given (the helpers AppendHello/AppendWelcome always send Version). An
// unknown Type appends a poison length 0.
func Append(dst []byte, f *Frame) []byte {
	switch f.Type {
	case Hello:
		if len(f.Auth) > math.MaxUint16 || len(f.ClientName) > math.MaxUint16 {
			return poison(dst)
		}
		dst = header(dst, Hello, f.Req, helloFixed+len(f.Auth)+len(f.ClientName))
		dst = be.AppendUint16(dst, f.Version)
		dst = appendBytes(dst, f.Auth)
		return appendBytes(dst, f.ClientName)
	case Welcome:
		if len(f.Secret) > 0 {
			return appendWelcomeSecret(dst, f.Req, f.Version, f.Session, f.Heartbeat, f.Timeout, f.Secret)
		}
		return appendWelcome(dst, f.Req, f.Version, f.Session, f.Heartbeat, f.Timeout)
	case Redirect:
		return AppendRedirect(dst, f.Req, f.Addr)
	case Resume:
		return appendResume(dst, f)
	case Cluster:
		return AppendCluster(dst, f.Req, f.Auth)
	case ClusterReply:
		return AppendClusterReply(dst, f.Req, &f.View, f.Members)
	case Acquire:
		return AppendAcquire(dst, f.Req, f.Name, f.Wait, f.TTL)
	case Granted:
		return AppendGranted(dst, f.Req, f.Token)
	case Release:
		return AppendRelease(dst, f.Req, f.Name, f.Token)
	case OK:
		return AppendOK(dst, f.Req)
	case Cancel:
		return AppendCancel(dst, f.Req, f.Target)
	case Renew:
		return AppendRenew(dst, f.Req, f.Name, f.Token, f.TTL)
	case Lost:
		return appendLost(dst, f.Req, f.Target, f.Name, f.Token, f.Code)
	case Status:
		return AppendStatus(dst, f.Req, f.Names)
	case StatusReply:
		return AppendStatusReply(dst, f.Req, f.Locks)
	case Ping:
		return AppendPing(dst, f.Req)
	case Pong:
		return AppendPong(dst, f.Req)
	case Op:
		return AppendOp(dst, f.Req, f)
	case Acquired:
		return AppendAcquired(dst, f.Req, f.Token, f.Value, f.Code)
	case Sessions:
		return AppendSessions(dst, f.Req, f.IDs)
	case SessionsReply:
		return AppendSessionsReply(dst, f.Req, f.Sessions)
	case Error:
		msg := f.Msg
		if len(msg) > math.MaxUint16 {
			msg = msg[:math.MaxUint16]
		}
		dst = header(dst, Error, f.Req, errorFixed+len(msg))
		dst = be.AppendUint16(dst, uint16(f.Code))
		return appendBytes(dst, msg)
	}
	return poison(dst)
}
