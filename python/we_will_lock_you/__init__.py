"""we_will_lock_you: threading's locks, shared across processes and machines through a wwly
lock server (https://github.com/wwly/wwly, ``wwly serve``).

    from we_will_lock_you import Lock
    lock = Lock(name="orders", remote="127.0.0.1:1977")
    with lock:
        ...

Layout: the primitives live one per module and are re-exported here: ``Lock`` and ``RLock``
(``_lock.py``), ``Semaphore``/``BoundedSemaphore`` (``semaphore.py``), ``Event``
(``event.py``), ``Condition`` (``condition.py``), ``Barrier`` (``barrier.py``), each served by
the server's primitive of the same name (protocol version 2). ``sessions()`` says who the
server's sessions are (client name, host, pid, peer address; ``_who.py``).

Internals: ``_wire`` (the protocol codec, pure), ``_dial`` (connect and handshake), ``_conn`` (one pipelined connection per
process and server, its reader and timer threads, fork handling), ``_lock`` (Lock, RLock).
"""

from . import errors
from ._conn import close_all
from ._lock import Lock, RLock
from .barrier import Barrier
from .condition import Condition
from .errors import BrokenBarrierError, DeadlockError
from .event import Event
from ._who import SessionInfo, parse_who, session_id, sessions
from .semaphore import BoundedSemaphore, Semaphore

__all__ = ["Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier",
           "BrokenBarrierError", "DeadlockError", "errors", "close_all",
           "sessions", "session_id", "SessionInfo", "parse_who"]
__version__ = "0.2.0"
