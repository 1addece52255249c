"""Barrier: threading's API over the server's Barrier (section 10.2)."""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple, Union

from . import _conn
from . import _wire as wire
from ._prim import Named, wait_ns_optional
from .errors import BrokenBarrierError


class Barrier(Named):
    """A barrier for ``parties`` threads or processes, like :class:`threading.Barrier`:
    ``wait(timeout=None) -> index`` (0 for the first arrival, parties-1 for the last),
    ``reset()``, ``abort()``, ``parties``, ``n_waiting``, ``broken``; failures raise
    :class:`~.errors.BrokenBarrierError` (a threading.BrokenBarrierError).

    A wait that times out, is interrupted or whose process dies breaks the barrier for
    everyone, as in threading. Every user of the name must pass the same ``parties``.
    ``action`` runs in the process whose wait got index parties-1, after the release (a
    remote barrier cannot hold the others while it runs, unlike threading); if it raises, the
    barrier is aborted and the exception propagates from that wait. Pickling (and passing to
    multiprocessing) carries parties, timeout and name, not ``action``.
    """

    _prim = wire.BARRIER
    _opens = True

    def __init__(self, parties: int, action: Optional[Callable[[], Any]] = None,
                 timeout: Optional[float] = None, name: Optional[Union[str, bytes]] = None,
                 remote: Optional[str] = None, auth_token: Optional[str] = None) -> None:
        if parties < 1:
            raise ValueError("parties must be >= 1")
        if parties > 0xFFFF_FFFF:
            raise OverflowError("parties is too large")
        self._parties = parties
        self._action = action
        self._timeout = timeout
        super().__init__(name, remote, auth_token)

    def _param(self) -> int:
        return self._parties

    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits until ``parties`` waits arrived; returns this one's arrival index."""
        if timeout is None:
            timeout = self._timeout
        wait_ns = wait_ns_optional(timeout)
        conn = self._conn()
        f = conn.request(lambda r: self._op(r, wire.A_ACQUIRE, wait_ns=wait_ns))
        if f.type == wire.ERROR and f.code in (wire.BROKEN, wire.TIMEOUT, wire.CANCELLED):
            raise BrokenBarrierError(f"barrier {self.name!r}: " + wire.CODE_NAMES.get(f.code, str(f.code)))
        if f.type != wire.ACQUIRED:
            raise _conn.server_error(f, f"wait {self.name!r}")
        index = f.value
        if index == self._parties - 1 and self._action is not None:
            try:
                self._action()
            except BaseException:
                self.abort()
                raise
        return index

    def reset(self) -> None:
        """Fails the current waiters with BrokenBarrierError and makes the barrier whole."""
        self._request(wire.A_RESET, "reset")

    def abort(self) -> None:
        """Breaks the barrier: current and later waits fail until reset()."""
        self._request(wire.A_ABORT, "abort")

    @property
    def parties(self) -> int:
        return self._parties

    @property
    def n_waiting(self) -> int:
        """Waits arrived in this round (one STATUS round trip)."""
        e = self._status()
        return 0 if e is None else e.waiters

    @property
    def broken(self) -> bool:
        """Whether the barrier is broken (one STATUS round trip)."""
        e = self._status()
        return e is not None and e.value == 1

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self._parties, None, self._timeout) + self._common_args())

    def __repr__(self) -> str:
        return (f"<we_will_lock_you.Barrier at {hex(id(self))}: name={self.name!r} "
                f"parties={self._parties}>")
