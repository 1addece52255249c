package wire

import "strconv"

var codeNames = [...]string{
	CodeBadFrame:        "bad frame",
	CodeFrameTooLarge:   "frame too large",
	CodeVersion:         "unsupported version",
	CodeAuth:            "auth",
	CodeNotHeld:         "not held",
	CodeTimeout:         "timeout",
	CodeQueueFull:       "queue full",
	CodeCancelled:       "cancelled",
	CodeTooManyRequests: "too many requests",
	CodeNameLength:      "bad name length",
	CodeShutdown:        "shutdown",
	CodeTooManyConns:    "too many connections",
	CodeDuplicate:       "duplicate request id",
	CodeLeaseExpired:    "lease expired",
	CodeSlowConsumer:    "slow consumer",
	CodeInternal:        "internal error",
	CodeTooManyHolds:    "too many holds",
	CodeWrongKind:       "wrong kind",
	CodeNotOwner:        "not owner",
	CodeOverRelease:     "released too many times",
	CodeBroken:          "barrier broken",
	CodeDeadlock:        "deadlock",
	CodeInvalid:         "invalid argument",
	CodeNoSession:       "no such session",
	CodeUnavailable:     "unavailable",
}

// String names the code; unknown codes print as "code(N)" so logs stay readable when a newer
// peer sends a code this build does not know.
func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}

// ClosesConn reports whether the server closes the connection after sending an ERROR with this
// code. Per-request codes (NotHeld, Timeout, ...) leave the connection usable.
func (c Code) ClosesConn() bool {
	switch c {
	case CodeBadFrame, CodeFrameTooLarge, CodeVersion, CodeAuth, CodeShutdown,
		CodeTooManyConns, CodeSlowConsumer, CodeNoSession, CodeUnavailable:
		return true
	}
	return false
}

// CodeError is an ERROR (or LOST) frame's code and message as a Go error, for clients to return
// to their callers. Its methods have value receivers so both CodeError and *CodeError are errors;
// Is matches either form with the same Code, so errors.Is(err, wire.CodeError{Code: wire.CodeTimeout})
// works whatever form was returned. Use errors.As with the form you return to read Msg.
type CodeError struct {
	Code Code
	Msg  string
}

// Error formats as "wwly: <code name>: <msg>" (the message is omitted when empty).
func (e CodeError) Error() string {
	if e.Msg == "" {
		return "wwly: " + e.Code.String()
	}
	return "wwly: " + e.Code.String() + ": " + e.Msg
}

// Is matches any CodeError with the same Code, ignoring the message.
func (e CodeError) Is(target error) bool {
	switch t := target.(type) {
	case *CodeError:
		return t != nil && t.Code == e.Code
	case CodeError:
		return t.Code == e.Code
	}
	return false
}
