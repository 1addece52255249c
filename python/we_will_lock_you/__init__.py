"""we_will_lock_you: threading's locks, shared across processes and machines through a wwly
lock server (https://github.com/wwly/wwly, ``wwly serve``).

    from we_will_lock_you import Lock
    lock = Lock(name="orders", remote="127.0.0.1:1977")
    with lock:
        ...

Layout: the primitives live one per module and are re-exported here. Today the server serves
an exclusive mutex, so this package ships ``Lock`` and ``RLock`` (re-entrancy counted in the
client). ``Semaphore``/``BoundedSemaphore`` (``semaphore.py``), ``Event`` (``event.py``),
``Condition`` (``condition.py``) and ``Barrier`` (``barrier.py``) will be added beside them
when the server serves those primitives; they are not shipped before they can work.

Internals: ``_wire`` (the protocol codec, pure), ``_conn`` (one pipelined connection per
process and server, its reader and timer threads, fork handling), ``_lock`` (Lock, RLock).
"""

from . import errors
from ._conn import close_all
from ._lock import Lock, RLock

__all__ = ["Lock", "RLock", "errors", "close_all"]
__version__ = "0.1.0"
