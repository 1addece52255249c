"""The locks the benchmark compares. A backend is a picklable spec; make_lock() builds the
lock inside each worker process (clients must not cross a process boundary).

Polling locks are given their smallest documented back-off so that the comparison favours
them: redis-py ``Lock(sleep=0.001)`` (default 0.1 s), filelock ``poll_interval=0.001``
(default 0.05 s), fasteners ``delay=0.001, max_delay=0.001``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Protocol


class Acquirable(Protocol):
    def acquire(self) -> Any: ...
    def release(self) -> Any: ...


@dataclass
class Spec:
    kind: str  # wwly | redis | etcd | filelock | fasteners | mp
    addr: str = ""
    path: str = ""
    name: str = "bench"
    mp_lock: Any = None  # multiprocessing.Lock, handed over at Process creation
    extra: Dict[str, Any] = field(default_factory=dict)


class _Adapter:
    """Gives every backend acquire()/release() with "wait as long as needed" semantics."""

    def __init__(self, acquire: Any, release: Any) -> None:
        self.acquire, self.release = acquire, release


def make_lock(spec: Spec) -> Acquirable:
    if spec.kind == "wwly":
        from we_will_lock_you import Lock

        return Lock(name=spec.name, remote=spec.addr)
    if spec.kind == "redis":
        import redis  # type: ignore[import]

        host, port = spec.addr.rsplit(":", 1)
        r = redis.Redis(host=host, port=int(port))
        lk = r.lock(spec.name, timeout=30, sleep=0.001)
        return _Adapter(lambda: lk.acquire(blocking=True), lk.release)
    if spec.kind == "etcd":
        return _etcd_lock(spec)
    if spec.kind == "filelock":
        import filelock

        fl = filelock.FileLock(spec.path)
        return _Adapter(lambda: fl.acquire(poll_interval=0.001), fl.release)
    if spec.kind == "fasteners":
        import fasteners

        fa = fasteners.InterProcessLock(spec.path)
        return _Adapter(lambda: fa.acquire(blocking=True, delay=0.001, max_delay=0.001), fa.release)
    if spec.kind == "mp":
        assert spec.mp_lock is not None
        return spec.mp_lock
    raise ValueError(f"unknown backend {spec.kind!r}")


def _etcd_lock(spec: Spec) -> Acquirable:
    """python-etcd3's Lock. Its acquire() is broken with the tenacity Debian ships (its wait
    callback has tenacity's old signature: the first retry raises TypeError), so acquire is
    re-done here step for step without tenacity: lease, transaction "create if the key has no
    revision", else watch_once(key, remaining) and again. The watch keeps the library's gap:
    a release between the failed transaction and the watch is missed until the watch times out."""
    import time

    import etcd3
    from etcd3 import exceptions

    host, port = spec.addr.rsplit(":", 1)
    c = etcd3.client(host=host, port=int(port))
    lk = c.lock(spec.name, ttl=30)

    def acquire(timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            lk.lease = c.lease(lk.ttl)
            ok, _ = c.transaction(
                compare=[c.transactions.create(lk.key) == 0],
                success=[c.transactions.put(lk.key, lk.uuid, lease=lk.lease)],
                failure=[c.transactions.get(lk.key)])
            if ok:
                return True
            lk.lease = None
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                c.watch_once(lk.key, left)
            except exceptions.WatchTimedOut:
                pass

    def acquire_forever() -> bool:
        while not acquire():
            pass
        return True

    return _Adapter(acquire_forever, lk.release)


def available(kind: str) -> Optional[str]:
    """None when the backend can run here, else why not."""
    import shutil

    need = {"redis": ("redis", "redis-server"), "etcd": ("etcd3", "etcd"),
            "filelock": ("filelock", None), "fasteners": ("fasteners", None)}.get(kind)
    if need is None:
        return None
    mod, binary = need
    try:
        __import__(mod)
    except Exception as e:  # noqa: BLE001 - any import failure means "skip, say why"
        return f"python module {mod} unavailable ({e.__class__.__name__}: {e})"
    if binary and not shutil.which(binary):
        return f"{binary} not on PATH (Debian: scripts/deps.sh installs it)"
    return None
