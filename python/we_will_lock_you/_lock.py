"""Lock and RLock: threading's API over a named lock held on a wwly server."""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Tuple, Union

from . import _conn
from . import _wire as wire
from .errors import LockLostError, LockTimeout, NotHeldError, ServerError

TIMEOUT_MAX = threading.TIMEOUT_MAX

LostCallback = Callable[["Lock"], None]


def _fresh_name() -> str:
    return f"py/{uuid.uuid4().hex}"


def _wait_ns(blocking: bool, timeout: float) -> int:
    """ACQUIRE's wait field from threading's (blocking, timeout), with threading's errors."""
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return 0
    if timeout == -1:
        return -1
    if timeout < 0:
        raise ValueError("timeout value must be a non-negative number")
    if timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return int(timeout * 1e9)


class Lock:
    """A lock shared by every thread and process that names it on one wwly server.

    It behaves like :class:`threading.Lock`: ``acquire(blocking=True, timeout=-1) -> bool``,
    ``release()`` (from any thread; of an unheld lock: :class:`~.errors.NotHeldError`, a
    RuntimeError), ``locked()``, ``with lock:``. Waiters are served strictly first come,
    first served by the server, across threads and processes alike.

    ``name`` is the shared name (default: a fresh unique one, so ``Lock()`` works for one
    program and the processes it hands the lock to); ``remote`` is "host:port" (default
    ``$WWLY_ADDR``, else 127.0.0.1:1977); ``auth_token`` defaults to ``$WWLY_AUTH_TOKEN``.
    ``ttl`` (seconds) gives each hold a lease that the client renews every ttl/3: if the
    process stops renewing (frozen, partitioned) the server frees the lock after ttl. When a
    hold ends without release() (lease ran out, connection died) :attr:`lost` turns True and
    ``on_lost(lock)`` is called in a fresh thread.

    Pickling, or passing to ``multiprocessing.Process`` under any start method, gives an
    object for the same remote lock; a hold does not travel (the new object is unlocked), and
    neither does ``on_lost``. After ``os.fork()`` the child's copy is unlocked too.
    """

    def __init__(
        self,
        name: Optional[Union[str, bytes]] = None,
        remote: Optional[str] = None,
        auth_token: Optional[str] = None,
        ttl: Optional[float] = None,
        on_lost: Optional[LostCallback] = None,
    ) -> None:
        self.name: Union[str, bytes] = _fresh_name() if name is None else name
        self._wire_name = _conn.encode_name(self.name)
        self.remote = remote or _conn.default_remote()
        _conn.parse_remote(self.remote)
        self._auth = auth_token if auth_token is not None else _conn.default_auth()
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be > 0 seconds (or None for no lease)")
        self.ttl = ttl
        self.on_lost = on_lost
        self._mu = threading.Lock()  # guards the hold state below
        self._reset()
        _conn._after_fork_hooks.add(self)

    def _reset(self) -> None:
        self._token: Optional[int] = None
        self._req = 0  # the granted ACQUIRE's req: LOST names it
        self._conn: Optional[_conn.Connection] = None
        self._lost = False

    def _after_fork(self) -> None:
        self._mu = threading.Lock()
        self._reset()

    # -- threading.Lock's API ----------------------------------------------------------------

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Waits for the lock as threading.Lock.acquire does and returns whether it was had.
        Raises ConnectionLostError (a ConnectionError) if the connection dies meanwhile."""
        wait_ns = _wait_ns(blocking, timeout)
        conn = _conn.get(self.remote, self._auth)
        ttl_ns = int(self.ttl * 1e9) if self.ttl else 0
        name = self._wire_name
        req, call = conn.start(lambda r: wire.acquire(r, name, wait_ns, ttl_ns), self)
        f = conn.wait(req, call)
        if f.type == wire.GRANTED:
            return True  # the reader already recorded the hold (_on_granted)
        if f.type == wire.ERROR and f.code == wire.TIMEOUT:
            return False
        raise _conn.server_error(f, f"acquire {self.name!r}")

    __enter__ = acquire

    def release(self) -> None:
        """Releases the lock; any thread may. Does not wait for the server's OK: the RELEASE is
        written before this returns, and the server handles a connection's requests in order."""
        with self._mu:
            token, conn, req, lost = self._token, self._conn, self._req, self._lost
            self._token, self._conn = None, None
        if token is None or conn is None:
            if lost:
                raise LockLostError(f"release of {self.name!r}: the hold was lost before release")
            raise NotHeldError("release unlocked lock")
        conn.forget_held(req)
        name, tok = self._wire_name, token
        try:
            conn.start(lambda r: wire.release(r, name, tok))
        except _conn.ConnectionLostError as e:
            # The server released it when the connection died: the hold was lost.
            raise LockLostError(f"release of {self.name!r}: {e}") from e

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def locked(self) -> bool:
        """True if the lock is held by anyone. Held here: answered locally; otherwise asked
        of the server (one STATUS round trip)."""
        if self._token is not None:
            return True
        conn = _conn.get(self.remote, self._auth)
        f = conn.request(lambda r: wire.status(r, [self._wire_name]))
        if f.type != wire.STATUS_REPLY or f.entries is None:
            raise _conn.server_error(f, f"status {self.name!r}")
        return any(e.name == self._wire_name and e.holder != 0 for e in f.entries)

    # -- beyond threading ----------------------------------------------------------------------

    @property
    def token(self) -> Optional[int]:
        """The fencing token of the current hold (rises with every grant of the name), or None."""
        return self._token

    @property
    def lost(self) -> bool:
        """True when the last hold ended without release() (lease expired, connection died);
        reset by the next successful acquire."""
        return self._lost

    @contextmanager
    def hold(self, timeout: float = -1) -> Iterator["Lock"]:
        """``with lock.hold(timeout=5):`` — like ``with lock:`` but raises LockTimeout when the
        lock is not had within timeout seconds."""
        if not self.acquire(timeout=timeout):
            raise LockTimeout(f"lock {self.name!r} not acquired within {timeout}s")
        try:
            yield self
        finally:
            self.release()

    # -- called by the connection's threads ----------------------------------------------------

    def _on_granted(self, conn: "_conn.Connection", req: int, token: int) -> None:
        with self._mu:
            self._token, self._conn, self._req, self._lost = token, conn, req, False
        if self.ttl:
            self._schedule_renew(conn, req, token)

    def _schedule_renew(self, conn: "_conn.Connection", req: int, token: int) -> None:
        assert self.ttl
        ttl_ns, name = int(self.ttl * 1e9), self._wire_name

        def renew() -> None:
            if self._token != token or self._req != req:
                return  # released or re-granted: this chain ends
            try:
                conn.start(lambda r: wire.renew(r, name, token, ttl_ns))
            except _conn.ConnectionLostError:
                return
            conn.schedule(self.ttl / 3, renew)  # type: ignore[operator]

        conn.schedule(self.ttl / 3, renew)

    def _on_lost(self, token: Optional[int], why: str) -> None:
        with self._mu:
            if self._token is None or (token is not None and token != self._token):
                return
            self._token, self._conn, self._lost = None, None, True
        self.lost_reason = why
        cb = self.on_lost
        if cb is not None:
            threading.Thread(target=cb, args=(self,), name="wwly-on-lost", daemon=True).start()

    # -- pickling, repr --------------------------------------------------------------------------

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.name, self.remote, self._auth, self.ttl))

    def __repr__(self) -> str:
        state = "locked" if self._token is not None else "unlocked"
        return (f"<{state} {type(self).__module__.split('.')[0]}.{type(self).__name__} object "
                f"name={self.name!r} remote={self.remote!r} token={self._token} at {hex(id(self))}>")


class RLock:
    """A re-entrant remote lock, like :class:`threading.RLock`: the owning thread may acquire
    it again; it is released when that thread has released it as often as it acquired it.

    Built on the server's exclusive mutex: the server sees one hold; the re-entrancy count and
    the owning thread are kept in this object, in this process. (When the server serves a
    native RLock this class will use it, with the same API.) Only the owner may release
    (else RuntimeError, as threading). Takes Lock's arguments; ``token``, ``lost`` as Lock.
    """

    def __init__(
        self,
        name: Optional[Union[str, bytes]] = None,
        remote: Optional[str] = None,
        auth_token: Optional[str] = None,
        ttl: Optional[float] = None,
        on_lost: Optional[LostCallback] = None,
    ) -> None:
        self._lock = Lock(name, remote, auth_token, ttl, on_lost)
        self._owner: Optional[int] = None
        self._count = 0
        _conn._after_fork_hooks.add(self)

    def _after_fork(self) -> None:
        self._owner, self._count = None, 0

    @property
    def name(self) -> Union[str, bytes]:
        return self._lock.name

    @property
    def remote(self) -> str:
        return self._lock.remote

    @property
    def token(self) -> Optional[int]:
        return self._lock.token

    @property
    def lost(self) -> bool:
        return self._lock.lost

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = threading.get_ident()
        if self._owner == me:
            _wait_ns(blocking, timeout)  # same argument errors as a first acquire
            self._count += 1
            return True
        if not self._lock.acquire(blocking, timeout):
            return False
        self._owner, self._count = me, 1
        return True

    __enter__ = acquire

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise NotHeldError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            self._lock.release()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def locked(self) -> bool:
        return self._count > 0 or self._lock.locked()

    # threading.Condition uses these when given an RLock.
    def _is_owned(self) -> bool:
        return self._owner == threading.get_ident()

    def _release_save(self) -> Tuple[int, Optional[int]]:
        if self._count == 0:
            raise NotHeldError("cannot release un-acquired lock")
        state = (self._count, self._owner)
        self._count, self._owner = 0, None
        self._lock.release()
        return state

    def _acquire_restore(self, state: Tuple[int, Optional[int]]) -> None:
        self._lock.acquire()
        self._count, self._owner = state

    def __reduce__(self) -> Tuple[Any, ...]:
        lk = self._lock
        return (type(self), (lk.name, lk.remote, lk._auth, lk.ttl))

    def __repr__(self) -> str:
        state = "locked" if self._count else "unlocked"
        return (f"<{state} we_will_lock_you.RLock object name={self.name!r} "
                f"owner={self._owner or 0} count={self._count} at {hex(id(self))}>")


# ServerError is re-exported for callers catching it from here.
__all__ = ["Lock", "RLock", "ServerError"]
