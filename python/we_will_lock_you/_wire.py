"""The wwly wire protocol, version 2 (docs/protocol.md): frame encoders and a bounded,
incremental decoder. Pure: no sockets, no threads, no clock."""

from __future__ import annotations

import struct
from typing import List, NamedTuple, Optional, Tuple

VERSION = 2
HEADER = struct.Struct(">IBQ")  # length, type, req
HEADER_SIZE = HEADER.size  # 13
MAX_FRAME = 65536
MAX_NAME = 256
MAX_NAMES = 1024

HELLO = 0x01
WELCOME = 0x02
ACQUIRE = 0x03
GRANTED = 0x04
RELEASE = 0x05
OK = 0x06
CANCEL = 0x07
RENEW = 0x08
LOST = 0x09
STATUS = 0x0A
STATUS_REPLY = 0x0B
PING = 0x0C
PONG = 0x0D
ERROR = 0x0E
OP = 0x0F
ACQUIRED = 0x10
SESSIONS = 0x11
SESSIONS_REPLY = 0x12

# OP prim (section 10.1)
MUTEX = 1
RLOCK = 2
SEMAPHORE = 3
BOUNDED_SEMAPHORE = 4
RWMUTEX = 5
EVENT = 6
BARRIER = 7
CONDITION = 8

# OP action (section 10.2)
A_ACQUIRE = 1
A_RELEASE = 2
A_OPEN = 3
A_CLOSE = 4
A_SET = 5
A_CLEAR = 6
A_ABORT = 7
A_RESET = 8
A_NOTIFY = 9
A_NOTIFY_ALL = 10

# OP flags
F_DETECT = 0x01
F_SHARED = 0x02

CODE_NAMES = {
    1: "BAD_FRAME",
    2: "FRAME_TOO_LARGE",
    3: "VERSION",
    4: "AUTH",
    5: "NOT_HELD",
    6: "TIMEOUT",
    7: "QUEUE_FULL",
    8: "CANCELLED",
    9: "TOO_MANY_REQUESTS",
    10: "NAME_LENGTH",
    11: "SHUTDOWN",
    12: "TOO_MANY_CONNS",
    13: "DUPLICATE",
    14: "LEASE_EXPIRED",
    15: "SLOW_CONSUMER",
    16: "INTERNAL",
    17: "TOO_MANY_HOLDS",
    18: "WRONG_KIND",
    19: "NOT_OWNER",
    20: "OVER_RELEASE",
    21: "BROKEN",
    22: "DEADLOCK",
    23: "INVALID",
}
NOT_HELD = 5
TIMEOUT = 6
QUEUE_FULL = 7
CANCELLED = 8
TOO_MANY_REQUESTS = 9
NAME_LENGTH = 10
AUTH = 4
LEASE_EXPIRED = 14
TOO_MANY_HOLDS = 17
WRONG_KIND = 18
NOT_OWNER = 19
OVER_RELEASE = 20
BROKEN = 21
DEADLOCK = 22
INVALID = 23

_Q = struct.Struct(">Q")
_I = struct.Struct(">I")
_QQH = struct.Struct(">QQH")
_qqH = struct.Struct(">qqH")
_QqH = struct.Struct(">QqH")
_HH = struct.Struct(">HH")
_WELCOME = struct.Struct(">HQqq")
_ENTRY = struct.Struct(">QQIqqBIqH")  # STATUS_REPLY entry up to name_len: 51 bytes
_OP = struct.Struct(">BBBIIQQqH")  # OP body up to name: 37 bytes (+ name, lock_len, lock)
_ACQUIRED = struct.Struct(">QqH")
# Whole-frame heads for the hot path (Lock.acquire/release): one pack, then the name tail.
OP_HEAD = struct.Struct(">IBQBBBIIQQqH")  # header + OP body up to name
RELEASE_HEAD = struct.Struct(">IBQQH")  # header + RELEASE body up to name
_SESSION = struct.Struct(">QI")  # SESSIONS_REPLY entry up to client_len
_SESSION_MIN = _SESSION.size + 4  # with two empty byte fields: 16 bytes


class WireError(ValueError):
    """A frame that breaks the protocol."""


class Frame(NamedTuple):
    """One decoded server frame. Unused fields are 0 / empty."""

    type: int
    req: int
    token: int = 0  # GRANTED, LOST, ACQUIRED
    target: int = 0  # LOST
    code: int = 0  # ERROR, LOST
    name: bytes = b""  # LOST
    msg: str = ""  # ERROR
    welcome: Optional[Tuple[int, int, int, int]] = None  # version, session, heartbeat ns, timeout ns
    entries: Optional[List["StatusEntry"]] = None  # STATUS_REPLY
    value: int = 0  # ACQUIRED (Barrier: arrival index)
    sessions: Optional[List["SessionEntry"]] = None  # SESSIONS_REPLY


class StatusEntry(NamedTuple):
    """One live lock in a STATUS_REPLY."""

    holder: int
    token: int
    waiters: int
    oldest_wait_ns: int
    lease_left_ns: int
    name: bytes
    kind: int = 0  # section 10.1; 0 means MUTEX
    holders: int = 0
    value: int = 0  # Semaphore: permits free; Event: 1 when set; Barrier: 1 when broken


class SessionEntry(NamedTuple):
    """One live session in a SESSIONS_REPLY (section 7.17)."""

    session: int
    locks: int  # locks held plus acquires waiting
    client: bytes  # the session's HELLO client field (at most 256 bytes kept)
    remote: bytes  # the peer address as the server sees it


def _frame(typ: int, req: int, body: bytes) -> bytes:
    return HEADER.pack(9 + len(body), typ, req) + body


def hello(req: int, auth: bytes, client_name: bytes) -> bytes:
    """HELLO: version, auth token, free-text client name."""
    body = struct.pack(">HH", VERSION, len(auth)) + auth + struct.pack(">H", len(client_name)) + client_name
    return _frame(HELLO, req, body)


def acquire(req: int, name: bytes, wait_ns: int, ttl_ns: int) -> bytes:
    """ACQUIRE: wait 0 = try once, < 0 = forever; ttl <= 0 = no lease."""
    return _frame(ACQUIRE, req, _qqH.pack(wait_ns, ttl_ns, len(name)) + name)


def release(req: int, name: bytes, token: int) -> bytes:
    return _frame(RELEASE, req, struct.pack(">QH", token, len(name)) + name)


def renew(req: int, name: bytes, token: int, ttl_ns: int) -> bytes:
    return _frame(RENEW, req, _QqH.pack(token, ttl_ns, len(name)) + name)


def cancel(req: int, target: int) -> bytes:
    return _frame(CANCEL, req, _Q.pack(target))


def status(req: int, names: List[bytes]) -> bytes:
    parts = [struct.pack(">H", len(names))]
    for n in names:
        parts.append(struct.pack(">H", len(n)))
        parts.append(n)
    return _frame(STATUS, req, b"".join(parts))


def op(req: int, prim: int, action: int, name: bytes, *, flags: int = 0, n: int = 0, param: int = 0,
       owner: int = 0, token: int = 0, wait_ns: int = 0, lock: bytes = b"") -> bytes:
    """OP (version 2): one action on a name of any kind; unused fields stay 0."""
    body = _OP.pack(prim, action, flags, n, param, owner, token, wait_ns, len(name)) + name
    return _frame(OP, req, body + struct.pack(">H", len(lock)) + lock)


def sessions(req: int, ids: List[int]) -> bytes:
    """SESSIONS: who the given sessions are; no ids asks for every session."""
    if len(ids) > MAX_NAMES:
        raise ValueError(f"SESSIONS of {len(ids)} ids over MaxNames {MAX_NAMES}")
    return _frame(SESSIONS, req, struct.pack(f">H{len(ids)}Q", len(ids), *ids))


def ping(req: int) -> bytes:
    return _frame(PING, req, b"")


def pong(req: int) -> bytes:
    return _frame(PONG, req, b"")


def _bytes_field(body: bytes, off: int) -> Tuple[bytes, int]:
    if off + 2 > len(body):
        raise WireError("bytes field: length runs past the body")
    (n,) = struct.unpack_from(">H", body, off)
    off += 2
    if off + n > len(body):
        raise WireError("bytes field runs past the body")
    return bytes(body[off:off + n]), off + n


def _exact(body: bytes, size: int, what: str) -> None:
    if len(body) != size:
        raise WireError(f"{what}: body is {len(body)} bytes, want {size}")


def decode_body(typ: int, req: int, body: bytes) -> Frame:
    """Decodes one server-to-client frame body (the 13-byte header already split off)."""
    if typ == GRANTED:
        _exact(body, 8, "GRANTED")
        return Frame(typ, req, token=_Q.unpack(body)[0])
    if typ in (OK, PING, PONG):
        _exact(body, 0, "empty frame")
        return Frame(typ, req)
    if typ == ERROR:
        if len(body) < 4:
            raise WireError("ERROR: body too short")
        (code,) = struct.unpack_from(">H", body, 0)
        msg, end = _bytes_field(body, 2)
        if end != len(body):
            raise WireError("ERROR: trailing bytes")
        return Frame(typ, req, code=code, msg=msg.decode("utf-8", "replace"))
    if typ == LOST:
        if len(body) < 20:
            raise WireError("LOST: body too short")
        target, token, code = _QQH.unpack_from(body, 0)
        name, end = _bytes_field(body, 18)
        if end != len(body):
            raise WireError("LOST: trailing bytes")
        return Frame(typ, req, token=token, target=target, code=code, name=name)
    if typ == WELCOME:
        _exact(body, 26, "WELCOME")
        version, session, hb, timeout = _WELCOME.unpack(body)
        if hb < 0 or timeout < 0:
            raise WireError("WELCOME: negative duration")
        return Frame(typ, req, welcome=(version, session, hb, timeout))
    if typ == ACQUIRED:
        _exact(body, _ACQUIRED.size, "ACQUIRED")
        token, value, code = _ACQUIRED.unpack(body)
        return Frame(typ, req, token=token, value=value, code=code)
    if typ == STATUS_REPLY:
        return Frame(typ, req, entries=_status_entries(body))
    if typ == SESSIONS_REPLY:
        return Frame(typ, req, sessions=_session_entries(body))
    raise WireError(f"unknown or client-only frame type 0x{typ:02x}")


def _status_entries(body: bytes) -> List[StatusEntry]:
    if len(body) < 2:
        raise WireError("STATUS_REPLY: body too short")
    (count,) = struct.unpack_from(">H", body, 0)
    # Each entry needs at least 51 bytes: check before trusting count.
    if 2 + count * _ENTRY.size > len(body):
        raise WireError("STATUS_REPLY: count exceeds the body")
    off, out = 2, []
    for _ in range(count):
        if off + _ENTRY.size > len(body):
            raise WireError("STATUS_REPLY: entry runs past the body")
        holder, token, waiters, oldest, lease, kind, holders, value, _ = _ENTRY.unpack_from(body, off)
        name, off = _bytes_field(body, off + _ENTRY.size - 2)
        out.append(StatusEntry(holder, token, waiters, oldest, lease, name, kind, holders, value))
    if off != len(body):
        raise WireError("STATUS_REPLY: trailing bytes")
    return out


def _session_entries(body: bytes) -> List[SessionEntry]:
    if len(body) < 2:
        raise WireError("SESSIONS_REPLY: body too short")
    (count,) = struct.unpack_from(">H", body, 0)
    # Each entry needs at least 16 bytes: check before trusting count.
    if 2 + count * _SESSION_MIN > len(body):
        raise WireError(f"SESSIONS_REPLY: count {count} needs more than {len(body) - 2} bytes")
    off, out = 2, []
    for _ in range(count):
        if off + _SESSION.size > len(body):
            raise WireError("SESSIONS_REPLY: entry runs past the body")
        session, locks = _SESSION.unpack_from(body, off)
        client, off = _bytes_field(body, off + _SESSION.size)
        remote, off = _bytes_field(body, off)
        out.append(SessionEntry(session, locks, client, remote))
    if off != len(body):
        raise WireError("SESSIONS_REPLY: trailing bytes")
    return out


def _granted(req: int, token: int) -> Frame:
    # tuple.__new__ with every field: Frame(...) with keywords runs a Python-level __new__,
    # and GRANTED is the reply of every uncontended acquire.
    return _new_tuple(Frame, (GRANTED, req, token, 0, 0, b"", "", None, None, 0, None))


_new_tuple = tuple.__new__
_OK_LEN = 9
_GRANTED_LEN = 17
_ACQUIRED_LEN = 9 + _ACQUIRED.size


class Decoder:
    """Incremental decoder: feed() bytes as they arrive, get every complete frame back; a
    partial tail is kept (copied: the caller may reuse the buffer it fed). A length under 9 or
    over max_frame raises WireError as soon as the 4 length bytes are in."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buf = bytearray()
        self._max = max_frame

    def feed(self, data: "bytes | bytearray | memoryview") -> List[Frame]:
        buf = self._buf
        if buf:
            buf += data
            src: "bytes | bytearray | memoryview" = buf
        else:
            src = data  # nothing kept from before: decode in place, no copy
        out: List[Frame] = []
        off = 0
        n = len(src)
        unpack = HEADER.unpack_from
        while n - off >= 4:
            (length,) = _I.unpack_from(src, off)
            if length < 9:
                raise WireError(f"frame length {length} < 9")
            if length > self._max:
                raise WireError(f"frame length {length} > max frame {self._max}")
            if n - off < 4 + length:
                break
            _, typ, req = unpack(src, off)
            if typ == GRANTED and length == _GRANTED_LEN:
                out.append(_granted(req, _Q.unpack_from(src, off + HEADER_SIZE)[0]))
            elif typ == ACQUIRED and length == _ACQUIRED_LEN:  # the reply of Lock's OP acquire
                token, value, code = _ACQUIRED.unpack_from(src, off + HEADER_SIZE)
                out.append(_new_tuple(Frame, (ACQUIRED, req, token, 0, code, b"", "", None, None, value, None)))
            elif typ == OK and length == _OK_LEN:
                out.append(_new_tuple(Frame, (OK, req, 0, 0, 0, b"", "", None, None, 0, None)))
            else:
                out.append(decode_body(typ, req, bytes(src[off + HEADER_SIZE:off + 4 + length])))
            off += 4 + length
        if src is buf:
            if off:
                del buf[:off]
        elif off < n:
            buf += src[off:]
        return out
