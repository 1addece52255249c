"""RLock re-entry: a recursive function re-takes the lock it holds; another process waits
until the owner has released it as often as it took it.

    python examples/rlock_reentry.py
"""

from __future__ import annotations

import multiprocessing as mp
import time

from we_will_lock_you import RLock


def countdown(lock: RLock, n: int) -> None:
    with lock:  # re-entered n+1 times by the same thread: one hold on the server
        print(f"{'  ' * (3 - n)}depth {3 - n}: {lock!r}")
        if n:
            countdown(lock, n - 1)


def other(lock: RLock, q: "mp.Queue[float]") -> None:
    with lock:
        q.put(time.monotonic())


def main() -> int:
    lock = RLock()
    countdown(lock, 3)
    ctx = mp.get_context("spawn")
    q: "mp.Queue[float]" = ctx.Queue()
    with lock:
        with lock:
            p = ctx.Process(target=other, args=(lock, q))
            p.start()
            time.sleep(0.5)
            print("inner release: the other process must still wait")
        assert q.empty(), "the other process got in while the lock was still held once"
        released = time.monotonic()
        print("outer release")
    got = q.get(timeout=30)
    p.join()
    ok = got >= released and p.exitcode == 0
    print("ok: the other process got the lock only after the last release" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
