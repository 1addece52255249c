"""Event: threading's API over the server's Event (section 10.2)."""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

from . import _conn
from . import _wire as wire
from ._prim import Named, wait_ns_optional


class Event(Named):
    """A flag shared by every thread and process naming it, like :class:`threading.Event`:
    ``set()``, ``clear()``, ``is_set()``, ``wait(timeout=None) -> bool``.

    The flag lives while some object for the name exists in some process (each opens the name
    at creation, until :meth:`close` or collection): a flag set when nobody has it open wakes
    the current waiters and is then forgotten (protocol 10.4).
    """

    _prim = wire.EVENT
    _opens = True

    def __init__(self, name: Optional[Union[str, bytes]] = None, remote: Optional[str] = None,
                 auth_token: Optional[str] = None) -> None:
        super().__init__(name, remote, auth_token)

    def is_set(self) -> bool:
        """Whether the flag is set (one round trip)."""
        return self._wait(0)

    isSet = is_set

    def set(self) -> None:
        """Sets the flag, waking every waiter in every process."""
        self._request(wire.A_SET, "set")

    def clear(self) -> None:
        self._request(wire.A_CLEAR, "clear")

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the flag is set or timeout seconds passed; returns the flag (True when
        a set woke it, even if a clear followed at once)."""
        return self._wait(wait_ns_optional(timeout))

    def _wait(self, wait_ns: int) -> bool:
        conn = self._conn()
        f = conn.request(lambda r: self._op(r, wire.A_ACQUIRE, wait_ns=wait_ns))
        if f.type == wire.ACQUIRED:
            return True
        if f.type == wire.ERROR and f.code == wire.TIMEOUT:
            return False
        raise _conn.server_error(f, f"wait {self.name!r}")

    def __enter__(self) -> "Event":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), self._common_args())

    def __repr__(self) -> str:
        return f"<we_will_lock_you.Event at {hex(id(self))}: name={self.name!r}>"
