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
=======================  =====================================  ==========================================
"""

from __future__ import annotations

from typing import Optional

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
