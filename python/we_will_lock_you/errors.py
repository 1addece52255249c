"""The exceptions of we_will_lock_you.

Every exception derives from :class:`WwlyError` and also from the built-in type that Python code
already catches for the same situation, so ``except RuntimeError`` around ``release()`` or
``except ConnectionError`` around network code keeps working:

=======================  =====================================  ==========================================
class                    also a                                 raised when
=======================  =====================================  ==========================================
NotHeldError             RuntimeError                           release() of a lock this object does not hold
LockLostError            NotHeldError (RuntimeError)            release() of a hold that was lost meanwhile
LockTimeout              TimeoutError                           ``hold(timeout=...)`` did not get the lock
InvalidNameError         ValueError                             a lock name is empty or too long
ConnectError             ConnectionError                        the server cannot be reached or refuses HELLO
AuthError                ConnectError, PermissionError          the server refused the auth token
ConnectionLostError      ConnectionError                        the connection died while a call was waiting
ProtocolError            ConnectionError                        the server sent something the spec forbids
ServerError              RuntimeError                           the server failed one request (``.code``)
QueueFullError           ServerError                            too many waiters on the name
TooManyRequestsError     ServerError                            too many outstanding requests
DeadlockError            ServerError (RuntimeError)             ``acquire(deadlock_check=True)`` would wait
                                                                into a cycle (``.cycle``: the server's text)
WrongKindError           ServerError                            the name is live as another primitive, or
                                                                with another value/parties/lock
OverReleaseError         ServerError, ValueError                BoundedSemaphore released too many times
InvalidArgumentError     ServerError, ValueError                the server refused an argument (INVALID)
BrokenBarrierError       threading.BrokenBarrierError           a Barrier is broken, aborted or was reset
=======================  =====================================  ==========================================
"""

from __future__ import annotations

import threading
from typing import Optional

from . import _wire as wire

__all__ = [
    "WwlyError",
    "NotHeldError",
    "LockLostError",
    "LockTimeout",
    "InvalidNameError",
    "ConnectError",
    "AuthError",
    "ConnectionLostError",
    "ProtocolError",
    "ServerError",
    "QueueFullError",
    "TooManyRequestsError",
    "DeadlockError",
    "WrongKindError",
    "OverReleaseError",
    "InvalidArgumentError",
    "BrokenBarrierError",
]


class WwlyError(Exception):
    """Base class of every exception this package raises."""


class NotHeldError(WwlyError, RuntimeError):
    """release() of a lock that is not held (threading raises RuntimeError here)."""


class LockLostError(NotHeldError):
    """The hold ended before release(): lease expired or the connection died."""


class LockTimeout(WwlyError, TimeoutError):
    """A lock was not had within the time asked for (only where a call raises instead of
    returning False, e.g. ``Lock.hold(timeout=...)``)."""


class InvalidNameError(WwlyError, ValueError):
    """A lock name is empty or longer than the server's MaxName (256 bytes by default)."""


class ConnectError(WwlyError, ConnectionError):
    """The server could not be reached, or the handshake failed."""


class AuthError(ConnectError, PermissionError):
    """The server refused the auth token (protocol code AUTH)."""


class ConnectionLostError(WwlyError, ConnectionError):
    """The connection to the server died; every waiting call fails with this and every hold
    on the connection is lost (the server releases them)."""


class ProtocolError(ConnectionLostError):
    """The server sent a frame the protocol does not allow; the connection is closed."""


class ServerError(WwlyError, RuntimeError):
    """The server answered one request with an error code (``code``, ``code_name``)."""

    def __init__(self, message: str, code: Optional[int] = None, code_name: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.code_name = code_name


class QueueFullError(ServerError):
    """Too many waiters are queued on the name already (QUEUE_FULL)."""


class TooManyRequestsError(ServerError):
    """More requests outstanding on the connection than the server allows (TOO_MANY_REQUESTS)."""


class DeadlockError(ServerError):
    """The server refused to let this acquire wait because the wait would close a cycle of
    owners waiting for each other (DEADLOCK); ``cycle`` is the server's description, e.g.
    ``42/7 waits for "db" -> 43/1 waits for "cache"``. Nothing was acquired."""

    @property
    def cycle(self) -> str:
        text = str(self)
        return text.split("deadlock: ", 1)[-1]


class WrongKindError(ServerError):
    """The name is in use as another primitive, or as a Semaphore/Barrier/Condition with another
    initial value, parties or lock (WRONG_KIND); nothing changed."""


class OverReleaseError(ServerError, ValueError):
    """A BoundedSemaphore was released more often than it was acquired (OVER_RELEASE);
    threading raises ValueError here."""


class InvalidArgumentError(ServerError, ValueError):
    """The server refused an argument as out of range (INVALID)."""


class BrokenBarrierError(WwlyError, threading.BrokenBarrierError):
    """A Barrier wait failed: the barrier is broken (a waiter timed out, was interrupted or
    disconnected, ``abort()`` was called) or was ``reset()`` while waiting. Also a
    :class:`threading.BrokenBarrierError`."""


_CODE_ERRORS = {
    wire.QUEUE_FULL: QueueFullError,
    wire.TOO_MANY_REQUESTS: TooManyRequestsError,
    wire.DEADLOCK: DeadlockError,
    wire.WRONG_KIND: WrongKindError,
    wire.OVER_RELEASE: OverReleaseError,
    wire.INVALID: InvalidArgumentError,
}


def error_for(frame: wire.Frame, what: str) -> Exception:
    """The exception for an ERROR frame answering one request (the type Python code expects)."""
    name = wire.CODE_NAMES.get(frame.code, f"code {frame.code}")
    if frame.code == wire.DEADLOCK:
        return DeadlockError(f"{what}: {frame.msg or name}", frame.code, name)
    msg = f"{what}: {name}" + (f": {frame.msg}" if frame.msg else "")
    if frame.code in (wire.NOT_HELD, wire.NOT_OWNER):
        return NotHeldError(msg)
    if frame.code == wire.NAME_LENGTH:
        return InvalidNameError(msg)
    if frame.code == wire.BROKEN:
        return BrokenBarrierError(msg)
    return _CODE_ERRORS.get(frame.code, ServerError)(msg, frame.code, name)
