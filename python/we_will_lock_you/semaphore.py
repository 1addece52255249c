"""Semaphore and BoundedSemaphore: threading's API over the server's semaphores (section 10.2)."""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

from . import _conn
from . import _wire as wire
from ._prim import Named, wait_ns_optional
from .errors import OverReleaseError


class _Grant:
    """An abandoned acquire's permit goes back (protocol 3.4); a permit is not tracked."""

    __slots__ = ("sem",)

    def __init__(self, sem: "Semaphore") -> None:
        self.sem = sem

    def _on_granted(self, conn: "_conn.Connection", req: int, token: int, by_op: bool) -> bool:
        return False

    def _give_back(self, req: int, token: int) -> Optional[bytes]:
        return self.sem._op(req, wire.A_RELEASE, n=1)


class Semaphore(Named):
    """A counting semaphore shared by every thread and process naming it, like
    :class:`threading.Semaphore`: ``acquire(blocking=True, timeout=None) -> bool``,
    ``release(n=1)``, ``with sem:``. Waiters are served first come, first served.

    ``value`` is the initial count; every user of the name must pass the same one
    (:class:`~.errors.WrongKindError` otherwise). Any thread or process may release, as in
    threading; permits a process still holds come back when its connection closes. The count
    lives while someone holds, waits on, or has the name open: each object opens it at creation
    until :meth:`close` (or collection), so a count above ``value`` is kept that long.
    """

    _prim = wire.SEMAPHORE
    _opens = True

    def __init__(self, value: int = 1, name: Optional[Union[str, bytes]] = None,
                 remote: Optional[str] = None, auth_token: Optional[str] = None) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        if value > 0xFFFF_FFFF:
            raise OverflowError("semaphore initial value is too large")
        self._value = value
        super().__init__(name, remote, auth_token)

    def _param(self) -> int:
        return self._value

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes one permit, waiting as threading.Semaphore.acquire does; returns whether it did."""
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        wait_ns = wait_ns_optional(timeout) if blocking else 0
        conn = self._conn()
        req, call = conn.start(lambda r: self._op(r, wire.A_ACQUIRE, n=1, wait_ns=wait_ns), _Grant(self))
        f = conn.wait(req, call)
        if f.type == wire.ACQUIRED:
            return True
        if f.type == wire.ERROR and f.code == wire.TIMEOUT:
            return False
        raise _conn.server_error(f, f"acquire {self.name!r}")

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        """Gives back n permits, waking as many waiters. Written before this returns, not
        waited for."""
        if n < 1:
            raise ValueError("n must be one or more")
        conn = self._conn()
        conn.start(lambda r: self._op(r, wire.A_RELEASE, n=n))

    def __exit__(self, *exc: Any) -> None:
        self.release()

    @property
    def value(self) -> int:
        """Permits free now (one STATUS round trip)."""
        e = self._status()
        return self._value if e is None else e.value

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self._value,) + self._common_args())

    def __repr__(self) -> str:
        return (f"<{type(self).__module__.split('.')[0]}.{type(self).__name__} at {hex(id(self))}: "
                f"name={self.name!r} initial={self._value}>")


class BoundedSemaphore(Semaphore):
    """A Semaphore whose count never exceeds its initial value: a release past what is held
    raises ValueError (:class:`~.errors.OverReleaseError`) and changes nothing, as
    threading.BoundedSemaphore. release() waits for the server's answer to know."""

    _prim = wire.BOUNDED_SEMAPHORE

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        try:
            self._request(wire.A_RELEASE, "release", n=n)
        except OverReleaseError as e:
            raise OverReleaseError("Semaphore released too many times", e.code, e.code_name) from None
