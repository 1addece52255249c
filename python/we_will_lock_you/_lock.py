"""Lock and RLock: threading's API over a named lock held on a wwly server."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Tuple, Union

from . import _conn
from . import _wire as wire
from ._prim import TIMEOUT_MAX, fresh_name, owner_id
from .errors import LockLostError, LockTimeout, NotHeldError, ServerError

LostCallback = Callable[[Any], None]

# Lock/RLock.release hand their RELEASE to the connection's release_write (pipelined with the
# next request in a release-then-acquire loop). False (or $WWLY_PIPELINE_RELEASE=0): written at once.
PIPELINE_RELEASE = os.environ.get("WWLY_PIPELINE_RELEASE", "1") != "0"


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

    ``deadlock_check=True`` (here, or per ``acquire``) makes an acquire that would wait into a
    cycle of threads/processes waiting for each other's locks fail at once with
    :class:`~.errors.DeadlockError` (a RuntimeError). Holds are bound to the acquiring thread
    for that graph (the server's owner); a hold with a lease (``ttl``) is bound to the whole
    connection instead, as the protocol's leased ACQUIRE has no owner.
    """

    def __init__(
        self,
        name: Optional[Union[str, bytes]] = None,
        remote: Optional[str] = None,
        auth_token: Optional[str] = None,
        ttl: Optional[float] = None,
        on_lost: Optional[LostCallback] = None,
        deadlock_check: bool = False,
    ) -> None:
        self.name: Union[str, bytes] = fresh_name() if name is None else name
        self._wire_name = _conn.encode_name(self.name)
        self.remote = remote or _conn.default_remote()
        _conn.parse_remote(self.remote)
        self._auth = auth_token if auth_token is not None else _conn.default_auth()
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be > 0 seconds (or None for no lease)")
        self.ttl = ttl
        self.on_lost = on_lost
        self.deadlock_check = deadlock_check
        self._mu = threading.Lock()  # guards the hold state below
        # Frame tails, built once: the hot path packs a fixed head and appends these.
        n = self._wire_name
        self._op_tail = n + b"\x00\x00"  # name, then an empty lock field
        self._op_len = 9 + wire.OP_HEAD.size - wire.HEADER_SIZE + len(self._op_tail)
        self._rel_len = 9 + wire.RELEASE_HEAD.size - wire.HEADER_SIZE + len(n)
        self._reset()
        _conn._after_fork_hooks.add(self)

    def _reset(self) -> None:
        self._token: Optional[int] = None
        self._req = 0  # the granted ACQUIRE's req: LOST names it
        self._conn: Optional[_conn.Connection] = None
        self._lost = False
        self._cc: Optional[_conn.Connection] = None  # the connection last used (see _connection)

    def _after_fork(self) -> None:
        self._mu = threading.Lock()
        self._reset()

    # -- threading.Lock's API ----------------------------------------------------------------

    def acquire(self, blocking: bool = True, timeout: float = -1, *,
                deadlock_check: Optional[bool] = None) -> bool:
        """Waits for the lock as threading.Lock.acquire does and returns whether it was had.
        Raises ConnectionLostError (a ConnectionError) if the connection dies meanwhile, and
        DeadlockError if ``deadlock_check`` is on and the wait would close a cycle."""
        wait_ns = -1 if blocking is True and timeout == -1 else _wait_ns(blocking, timeout)
        detect = self.deadlock_check if deadlock_check is None else deadlock_check
        conn = self._connection()
        req = conn._next()  # next_req() without the call
        if self.ttl and not detect:
            frame = wire.acquire(req, self._wire_name, wait_ns, int(self.ttl * 1e9))
        else:
            # OP: binds the hold to this thread, so deadlock detection sees who waits for whom.
            frame = self._op_acquire(req, wire.F_DETECT if detect else 0, owner_id(), wait_ns)
        f = conn.roundtrip(req, frame, self)
        if f.type in (wire.GRANTED, wire.ACQUIRED):
            return True  # the reader already recorded the hold (_on_granted)
        if f.type == wire.ERROR and f.code == wire.TIMEOUT:
            return False
        raise _conn.server_error(f, f"acquire {self.name!r}")

    __enter__ = acquire

    def _op_acquire(self, req: int, flags: int, owner: int, wait_ns: int) -> bytes:
        """wire.op(req, MUTEX, A_ACQUIRE, name, ...) from the tail built once."""
        return wire.OP_HEAD.pack(self._op_len, wire.OP, req, wire.MUTEX, wire.A_ACQUIRE, flags, 0, 0,
                                 owner, 0, wait_ns, len(self._wire_name)) + self._op_tail

    def _release_frame(self, req: int, token: int) -> bytes:
        """wire.release(req, name, token), packed in one call."""
        return wire.RELEASE_HEAD.pack(self._rel_len, wire.RELEASE, req, token, len(self._wire_name)) + self._wire_name

    def _connection(self) -> "_conn.Connection":
        """The process's connection to the server, kept between calls (a dict lookup less per
        acquire); looked up again once it died or after a fork."""
        conn = self._cc
        if conn is None or conn._error is not None or conn.pid != _conn._pid:
            conn = self._cc = _conn.get(self.remote, self._auth)
        return conn

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
        rel = conn._next()
        frame = self._release_frame(rel, token)
        try:
            conn.release_hold(req, rel, frame, PIPELINE_RELEASE)
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

    def _on_granted(self, conn: "_conn.Connection", req: int, token: int, by_op: bool) -> bool:
        with self._mu:
            self._token, self._conn, self._req, self._lost = token, conn, req, False
        if self.ttl:
            # An OP grant (deadlock_check, Condition wait) has no lease yet: renew at once.
            self._schedule_renew(conn, req, token, by_op)
        return True

    def _give_back(self, req: int, token: int) -> Optional[bytes]:
        return wire.release(req, self._wire_name, token)

    def _detach(self) -> Tuple[Optional[int], Optional["_conn.Connection"], int]:
        """Forgets the hold locally (a Condition wait hands it to the server); returns it."""
        with self._mu:
            token, conn, req = self._token, self._conn, self._req
            self._token, self._conn = None, None
        if conn is not None:
            conn.forget_held(req)
        return token, conn, req

    def _is_owned(self) -> bool:
        return self._token is not None

    def _schedule_renew(self, conn: "_conn.Connection", req: int, token: int, at_once: bool) -> None:
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

        conn.schedule(0 if at_once else self.ttl / 3, renew)

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
        return (type(self), (self.name, self.remote, self._auth, self.ttl, None, self.deadlock_check))

    def __repr__(self) -> str:
        state = "locked" if self._token is not None else "unlocked"
        return (f"<{state} {type(self).__module__.split('.')[0]}.{type(self).__name__} object "
                f"name={self.name!r} remote={self.remote!r} token={self._token} at {hex(id(self))}>")


class _RLockGrant:
    """What the connection sees of one RLock ACQUIRE: the owner it was sent for, so an
    abandoned grant is given back by that owner."""

    __slots__ = ("rlock", "owner")

    def __init__(self, rlock: "RLock", owner: int) -> None:
        self.rlock, self.owner = rlock, owner

    def _on_granted(self, conn: "_conn.Connection", req: int, token: int, by_op: bool) -> bool:
        return self.rlock._on_granted(conn, req, token)

    def _give_back(self, req: int, token: int) -> Optional[bytes]:
        return wire.op(req, wire.RLOCK, wire.A_RELEASE, self.rlock._wire_name, owner=self.owner)

    def _on_lost(self, token: Optional[int], why: str) -> None:
        self.rlock._on_lost(why)


class RLock:
    """A re-entrant remote lock, like :class:`threading.RLock`, served by the server's RLock:
    the owner is (this process's connection, the acquiring thread). The owning thread may
    acquire it again; it is free when that thread has released it as often as it acquired it;
    only the owner may release (else RuntimeError, as threading).

    Re-entry through one object is counted here (the server holds depth 1 for it and is not
    asked again); two objects for one name in one thread nest on the server, which grants a
    re-entry at once whoever waits. Takes Lock's arguments except ``ttl``: the protocol's RLock
    has no lease. ``token`` is the fencing token of the outermost grant; ``lost`` as Lock.
    """

    def __init__(
        self,
        name: Optional[Union[str, bytes]] = None,
        remote: Optional[str] = None,
        auth_token: Optional[str] = None,
        ttl: Optional[float] = None,
        on_lost: Optional[LostCallback] = None,
        deadlock_check: bool = False,
    ) -> None:
        if ttl is not None:
            raise ValueError("RLock has no lease: the server's RLock takes no ttl (use Lock(ttl=...))")
        self.name: Union[str, bytes] = fresh_name() if name is None else name
        self._wire_name = _conn.encode_name(self.name)
        self.remote = remote or _conn.default_remote()
        _conn.parse_remote(self.remote)
        self._auth = auth_token if auth_token is not None else _conn.default_auth()
        self.on_lost = on_lost
        self.deadlock_check = deadlock_check
        self._after_fork()
        _conn._after_fork_hooks.add(self)

    def _after_fork(self) -> None:
        self._mu = threading.Lock()
        self._owner: Optional[int] = None
        self._count = 0
        self._token: Optional[int] = None
        self._conn: Optional[_conn.Connection] = None
        self._req = 0
        self._lost = False

    @property
    def token(self) -> Optional[int]:
        return self._token

    @property
    def lost(self) -> bool:
        return self._lost

    def acquire(self, blocking: bool = True, timeout: float = -1, *,
                deadlock_check: Optional[bool] = None) -> bool:
        """As threading.RLock.acquire; ``deadlock_check`` as Lock.acquire."""
        me = threading.get_ident()
        wait_ns = _wait_ns(blocking, timeout)
        if self._owner == me:
            self._count += 1
            return True
        if not self._acquire_remote(owner_id(), wait_ns, deadlock_check):
            return False
        self._owner, self._count = me, 1
        return True

    __enter__ = acquire

    def _acquire_remote(self, owner: int, wait_ns: int, deadlock_check: Optional[bool]) -> bool:
        detect = self.deadlock_check if deadlock_check is None else deadlock_check
        flags = wire.F_DETECT if detect else 0
        conn = _conn.get(self.remote, self._auth)
        name = self._wire_name
        req, call = conn.start(lambda r: wire.op(r, wire.RLOCK, wire.A_ACQUIRE, name, flags=flags,
                                                 owner=owner, wait_ns=wait_ns), _RLockGrant(self, owner))
        f = conn.wait(req, call)
        if f.type == wire.ACQUIRED:
            return True
        if f.type == wire.ERROR and f.code == wire.TIMEOUT:
            return False
        raise _conn.server_error(f, f"acquire {self.name!r}")

    def release(self) -> None:
        """As threading.RLock.release. The last release is written before this returns and
        not waited for (the server handles a connection's requests in order)."""
        if self._owner != threading.get_ident():
            if self._lost:
                raise LockLostError(f"release of {self.name!r}: the hold was lost before release")
            raise NotHeldError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            self._release_remote(owner_id())

    def _release_remote(self, owner: int) -> None:
        token, conn, _ = self._detach()
        if token is None or conn is None:
            raise LockLostError(f"release of {self.name!r}: the hold was lost before release")
        name = self._wire_name
        try:
            if PIPELINE_RELEASE:
                conn.start_deferred(lambda r: wire.op(r, wire.RLOCK, wire.A_RELEASE, name, owner=owner))
            else:
                conn.start(lambda r: wire.op(r, wire.RLOCK, wire.A_RELEASE, name, owner=owner))
        except _conn.ConnectionLostError as e:
            raise LockLostError(f"release of {self.name!r}: {e}") from e

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def locked(self) -> bool:
        """True if anyone holds it (asked of the server unless held here). New in 3.14's
        threading.RLock; here for symmetry with Lock."""
        if self._count:
            return True
        conn = _conn.get(self.remote, self._auth)
        f = conn.request(lambda r: wire.status(r, [self._wire_name]))
        if f.type != wire.STATUS_REPLY or f.entries is None:
            raise _conn.server_error(f, f"status {self.name!r}")
        return any(e.name == self._wire_name and e.holder != 0 for e in f.entries)

    # -- the connection's side -------------------------------------------------------------

    def _on_granted(self, conn: "_conn.Connection", req: int, token: int) -> bool:
        with self._mu:
            self._token, self._conn, self._req, self._lost = token, conn, req, False
        return True

    def _detach(self) -> Tuple[Optional[int], Optional["_conn.Connection"], int]:
        with self._mu:
            token, conn, req = self._token, self._conn, self._req
            self._token, self._conn = None, None
        if conn is not None:
            conn.forget_held(req)
        return token, conn, req

    def _on_lost(self, why: str) -> None:
        with self._mu:
            if self._token is None:
                return
            self._token, self._conn, self._lost = None, None, True
            self._owner, self._count = None, 0
        self.lost_reason = why
        cb = self.on_lost
        if cb is not None:
            threading.Thread(target=cb, args=(self,), name="wwly-on-lost", daemon=True).start()

    # threading.Condition uses these when given an RLock; so does our Condition.
    def _is_owned(self) -> bool:
        return self._owner == threading.get_ident()

    def _release_save(self) -> Tuple[int, Optional[int]]:
        if not self._is_owned():
            raise NotHeldError("cannot release un-acquired lock")
        state = (self._count, self._owner)
        self._count, self._owner = 0, None
        self._release_remote(owner_id())
        return state

    def _acquire_restore(self, state: Tuple[int, Optional[int]]) -> None:
        self._acquire_remote(owner_id(), -1, False)
        self._count, self._owner = state

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.name, self.remote, self._auth, None, None, self.deadlock_check))

    def __repr__(self) -> str:
        state = "locked" if self._count else "unlocked"
        return (f"<{state} we_will_lock_you.RLock object name={self.name!r} "
                f"owner={self._owner or 0} count={self._count} at {hex(id(self))}>")


# ServerError is re-exported for callers catching it from here.
__all__ = ["Lock", "RLock", "ServerError"]
