"""Condition: threading's API over the server's Condition, bound to a remote Lock or RLock
(section 10.2)."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional, Tuple, TypeVar, Union

from . import _conn
from . import _wire as wire
from ._lock import Lock, RLock, _RLockGrant
from ._prim import fresh_name, owner_id, wait_ns_optional
from .errors import InvalidNameError, LockLostError

T = TypeVar("T")


class Condition:
    """A condition variable shared by every thread and process naming it, like
    :class:`threading.Condition`: ``wait``, ``wait_for``, ``notify(n=1)``, ``notify_all``,
    and the lock's ``acquire``/``release``/``with``. Each needs the lock held by the caller
    (RuntimeError otherwise).

    ``lock`` is a :class:`Lock` or :class:`RLock` of this package (default: a new RLock named
    ``<name>/lock``); the server releases it during a wait and gives it back before the wait
    returns, also when it times out. Every user of the name must bind the same lock name.

    Unlike threading, a wait interrupted by an exception (KeyboardInterrupt) cancels the wait and
    returns without the lock (a re-grant that raced the cancel is given back), so the enclosing
    ``with`` then raises RuntimeError on exit. Pickling carries the lock (unheld) and the name.
    """

    def __init__(self, lock: Optional[Union[Lock, RLock]] = None, name: Optional[Union[str, bytes]] = None,
                 remote: Optional[str] = None, auth_token: Optional[str] = None) -> None:
        self.name: Union[str, bytes] = fresh_name() if name is None else name
        self._wire_name = _conn.encode_name(self.name)
        if lock is None:
            lname = self.name + ("/lock" if isinstance(self.name, str) else b"/lock")  # type: ignore[operator]
            try:
                lock = RLock(lname, remote, auth_token)
            except InvalidNameError as e:
                raise InvalidNameError(f"condition name too long for its default lock name: {e}") from e
        elif not isinstance(lock, (Lock, RLock)):
            raise TypeError("lock must be a we_will_lock_you Lock or RLock (the server binds it by name)")
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release

    @property
    def remote(self) -> str:
        return self._lock.remote

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)

    def _is_owned(self) -> bool:
        return self._lock._is_owned()

    def _frame(self, req: int, action: int, token: int, owner: int, **kw: Any) -> bytes:
        # A Mutex is named by its grant's token, an RLock by its owner (the other field is 0).
        return wire.op(req, wire.CONDITION, action, self._wire_name, token=token, owner=owner,
                       lock=self._lock._wire_name, **kw)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Releases the lock, waits for a notify or the timeout, re-acquires the lock; returns
        False if the timeout ran out (the lock is held again either way)."""
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        wait_ns = wait_ns_optional(timeout)
        lock = self._lock
        token, conn, held_req = lock._detach()
        if token is None or conn is None:
            raise LockLostError(f"wait {self.name!r}: the lock's hold was lost")
        grant: Any = lock
        me = 0
        state: Tuple[int, Optional[int]] = (0, None)
        if isinstance(lock, RLock):
            state = (lock._count, lock._owner)
            lock._count, lock._owner = 0, None
            me, token = owner_id(), 0
            grant = _RLockGrant(lock, me)
        try:
            tok = token
            req, call = conn.start(lambda r: self._frame(r, wire.A_ACQUIRE, tok, me, wait_ns=wait_ns), grant)
            f = conn.wait(req, call)
        except BaseException:
            self._restore(lock, state)
            raise
        if f.type == wire.ERROR:
            # The server changed nothing: the caller still holds the lock.
            conn.track_held(held_req, grant)
            if isinstance(lock, RLock):
                lock._on_granted(conn, held_req, token)
            else:
                lock._on_granted(conn, held_req, token, False)
        self._restore(lock, state)
        if f.type == wire.ACQUIRED:
            return f.code != wire.TIMEOUT
        raise _conn.server_error(f, f"wait {self.name!r}")

    @staticmethod
    def _restore(lock: Union[Lock, RLock], state: Tuple[int, Optional[int]]) -> None:
        if isinstance(lock, RLock) and lock._token is not None:
            lock._count, lock._owner = state

    def wait_for(self, predicate: Callable[[], T], timeout: Optional[float] = None) -> T:
        """Waits until predicate() is true (checked with the lock held), as threading does."""
        endtime: Optional[float] = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = time.monotonic() + waittime
                else:
                    waittime = endtime - time.monotonic()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wakes up to n waiters (they re-acquire the lock after the caller releases it)."""
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        if n <= 0:
            return  # the wire's n = 0 means 1
        self._notify(wire.A_NOTIFY, min(n, 0xFFFF_FFFF))

    def notify_all(self) -> None:
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify(wire.A_NOTIFY_ALL, 0)

    notifyAll = notify_all

    def _notify(self, action: int, n: int) -> None:
        lock = self._lock
        if isinstance(lock, RLock):
            token, me = 0, owner_id()
        else:
            token, me = lock._token or 0, 0
        conn = _conn.get(lock.remote, lock._auth)
        f = conn.request(lambda r: self._frame(r, action, token, me, n=n))
        if f.type != wire.OK:
            raise _conn.server_error(f, f"notify {self.name!r}")

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self._lock, self.name))

    def __repr__(self) -> str:
        return f"<we_will_lock_you.Condition({self._lock!r}, name={self.name!r})>"
