"""What every server-side primitive shares: a name, a server, OP requests, and the OPEN that
keeps the name's state (an Event's flag, a Semaphore's surplus, a broken Barrier) alive while
the object exists (docs/protocol.md, 10.4)."""

from __future__ import annotations

import threading
import uuid
import weakref
from typing import Any, Optional, Tuple, Union

from . import _conn
from . import _wire as wire
from .errors import NotHeldError

TIMEOUT_MAX = threading.TIMEOUT_MAX


def fresh_name() -> str:
    return f"py/{uuid.uuid4().hex}"


def owner_id() -> int:
    """The OP owner of the calling thread (its ident fits a u64)."""
    return threading.get_ident() & 0xFFFF_FFFF_FFFF_FFFF


def wait_ns_optional(timeout: Optional[float]) -> int:
    """OP wait from a ``timeout=None`` argument (Event, Condition, Semaphore, Barrier): None
    waits forever; like threading, a timeout <= 0 only tries."""
    if timeout is None:
        return -1
    if timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return max(0, int(timeout * 1e9))


class Named:
    """Base of the OP-served primitives: ``name`` (default: fresh), ``remote``, ``auth_token``."""

    _prim = 0  # the kind, section 10.1
    _opens = False  # OPEN at creation, CLOSE at close()/collection

    def __init__(self, name: Optional[Union[str, bytes]], remote: Optional[str],
                 auth_token: Optional[str]) -> None:
        self.name: Union[str, bytes] = fresh_name() if name is None else name
        self._wire_name = _conn.encode_name(self.name)
        self.remote = remote or _conn.default_remote()
        _conn.parse_remote(self.remote)
        self._auth = auth_token if auth_token is not None else _conn.default_auth()
        self._opened: Optional[_conn.Connection] = None
        self._open_lock = threading.Lock()
        self._closer: Optional[weakref.finalize] = None
        _conn._after_fork_hooks.add(self)
        if self._opens:
            self._conn()

    def _param(self) -> int:
        """OP ``param`` (Semaphore value, Barrier parties)."""
        return 0

    def _op(self, req: int, action: int, **kw: Any) -> bytes:
        return wire.op(req, self._prim, action, self._wire_name, param=self._param(), **kw)

    def _conn(self) -> _conn.Connection:
        """The process's connection, with this name OPENed on it (again after a fork or a
        reconnect: the server closed the old session's OPEN)."""
        conn = _conn.get(self.remote, self._auth)
        if not self._opens or self._opened is conn:
            return conn
        with self._open_lock:
            if self._opened is not conn:
                self._check(conn.request(lambda r: self._op(r, wire.A_OPEN)), wire.OK, "open")
                if self._closer is not None:
                    self._closer.detach()
                close = self._op(conn.next_req(), wire.A_CLOSE)
                self._closer = weakref.finalize(self, conn.defer, close)
                self._opened = conn
        return conn

    def _request(self, action: int, what: str, want: int = wire.OK, **kw: Any) -> wire.Frame:
        conn = self._conn()
        return self._check(conn.request(lambda r: self._op(r, action, **kw)), want, what)

    def _check(self, f: wire.Frame, want: int, what: str) -> wire.Frame:
        if f.type != want:
            raise _conn.server_error(f, f"{what} {self.name!r}")
        return f

    def _status(self) -> Optional[wire.StatusEntry]:
        conn = self._conn()
        f = self._check(conn.request(lambda r: wire.status(r, [self._wire_name])), wire.STATUS_REPLY, "status")
        for e in f.entries or []:
            if e.name == self._wire_name:
                return e
        return None

    def close(self) -> None:
        """Undoes this object's OPEN now (otherwise when it is collected or the process ends):
        state such as an Event's flag is forgotten once no one has the name open."""
        closer, conn = self._closer, self._opened
        self._closer, self._opened = None, None
        if closer is not None and closer.alive:
            closer.detach()
            if conn is None or conn.error() is not None:
                return  # the server closed that session's OPENs with it
            try:
                conn.request(lambda r: self._op(r, wire.A_CLOSE))
            except NotHeldError:
                pass  # the session that opened it is gone

    def _after_fork(self) -> None:
        self._open_lock = threading.Lock()
        self._opened = None
        if self._closer is not None:
            self._closer.detach()
            self._closer = None

    def _common_args(self) -> Tuple[Any, ...]:
        return (self.name, self.remote, self._auth)
