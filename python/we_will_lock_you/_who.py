"""Who a session is: SESSIONS / SESSIONS_REPLY (docs/protocol.md 7.16, 7.17) and the HELLO
client convention "NAME host=HOST pid=PID" (7.1), as the Go client's client/who.go."""

from __future__ import annotations

import re
import time
from typing import List, NamedTuple, Optional

from . import _conn, _dial
from . import _wire as wire
from .errors import ConnectError, ProtocolError


_PID = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.Atoi takes


class Who(NamedTuple):
    """A HELLO client field read by the convention; what it does not carry is "" / 0 (an old
    or foreign client's free text is all ``name``)."""

    name: str
    host: str = ""
    pid: int = 0


def parse_who(client: str) -> Who:
    """Takes trailing ``host=`` and ``pid=`` words off the end, in either order; the rest is
    the name."""
    name, host, pid = client, "", 0
    for _ in range(2):
        head, _, last = name.rpartition(" ")
        if last.startswith("host=") and not host:
            host = last[len("host="):]
        elif last.startswith("pid=") and not pid:
            digits = last[len("pid="):]
            if not _PID.fullmatch(digits) or int(digits) <= 0:
                break  # not the convention's pid: part of the name
            pid = int(digits)
        else:
            break
        name = head
    return Who(name, host, pid)


class SessionInfo(NamedTuple):
    """One live session on the server: who it is and how many locks it holds or waits for."""

    session: int  # the id STATUS names holders by (WELCOME's session)
    locks: int  # locks held plus acquires waiting
    client: str  # the HELLO client field as the server kept it (at most 256 bytes)
    remote: str  # the peer address the server sees
    name: str  # client, parsed by parse_who
    host: str
    pid: int


def session_info(e: wire.SessionEntry) -> SessionInfo:
    client = e.client.decode("utf-8", "replace")
    who = parse_who(client)
    return SessionInfo(e.session, e.locks, client, e.remote.decode("utf-8", "replace"),
                       who.name, who.host, who.pid)


def sessions(*ids: int, remote: Optional[str] = None, auth_token: Optional[str] = None) -> List[SessionInfo]:
    """Who the given sessions are (every session, up to a server bound, when no id is given);
    ids that name no live session are left out. Pair it with a holder's session id (from
    ``wwly status``) to learn which program, host and pid holds a lock.

    Asks over a short connection of its own, not the process's shared one: a server older
    than the SESSIONS frame closes the connection that sends it (protocol.md 7.16), which must
    not cost this process its holds. That connection is itself a session, left out of the
    answer. Raises ConnectError when the server cannot be reached or does not know SESSIONS."""
    addr = remote or _conn.default_remote()
    auth = auth_token if auth_token is not None else _conn.default_auth()
    ask: List[int] = [int(i) for i in ids]
    sock, welcome, reader = _dial.dial(addr, (auth or "").encode("utf-8"), 1)
    try:
        sock.sendall(wire.sessions(2, ask))
        deadline = time.monotonic() + _dial.CONNECT_TIMEOUT
        while True:
            f = reader.next(deadline, "sessions")
            if f.type == wire.ERROR and f.req == 0:
                # How a server that predates SESSIONS answers it (BAD_FRAME), before closing.
                raise ConnectError(f"wwly: {addr} cannot say who sessions are: {_code(f)}")
            if f.req != 2:
                continue  # a heartbeat PING or its like: not the answer
            if f.type == wire.SESSIONS_REPLY and f.sessions is not None:
                return [session_info(e) for e in f.sessions if e.session != welcome[1]]
            if f.type == wire.ERROR:
                raise ConnectError(f"wwly: {addr}: sessions: {_code(f)}")
            raise ProtocolError(f"wwly: {addr}: sessions: reply 0x{f.type:02x}")
    finally:
        sock.close()


def _code(f: wire.Frame) -> str:
    return wire.CODE_NAMES.get(f.code, f"code {f.code}") + (f": {f.msg}" if f.msg else "")


def session_id(remote: Optional[str] = None, auth_token: Optional[str] = None) -> int:
    """The session id of this process's connection to remote (made if need be): the id
    ``wwly status`` and STATUS name this process's holds by."""
    addr = remote or _conn.default_remote()
    return _conn.get(addr, auth_token if auth_token is not None else _conn.default_auth()).session
