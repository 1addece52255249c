"""Functions run in child processes by the tests (importable under every start method)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def bump(lock: Any, path: str, rounds: int) -> None:
    """rounds read-modify-writes of a counter file under the lock (a short sleep widens the race)."""
    for _ in range(rounds):
        with lock:
            p = Path(path)
            n = int(p.read_text() or "0")
            time.sleep(0.001)
            p.write_text(str(n + 1))


def report_state(lock: Any, path: str) -> None:
    """Writes what the child sees of a lock the parent holds: a hold must not travel."""
    out = []
    out.append(f"token={lock.token}")
    try:
        lock.release()
        out.append("release=ok")
    except RuntimeError:
        out.append("release=RuntimeError")
    out.append(f"try={lock.acquire(timeout=0.1)}")
    out.append(f"locked={lock.locked()}")
    out.append(f"pid={os.getpid()}")
    Path(path).write_text(" ".join(out))


def sem_peak(sem: Any, path: str, rounds: int) -> None:
    """rounds holds of one permit; a file per holder shows how many are inside at once."""
    d = Path(path)
    me = d / str(os.getpid())
    for _ in range(rounds):
        with sem:
            me.touch()
            inside = len([p for p in d.iterdir() if p.name.isdigit()])
            with open(d / "peaks", "a") as f:
                f.write(f"{inside}\n")
            time.sleep(0.005)
            me.unlink()


def wait_event(event: Any, path: str) -> None:
    """Writes whether the event was set within 30 s."""
    Path(path).write_text(str(event.wait(30)))


def barrier_index(barrier: Any, path: str) -> None:
    Path(path).write_text(str(barrier.wait(30)))


def condition_consumer(cond: Any, path: str) -> None:
    """Waits on a Condition until the file exists (the producer writes it under the lock)."""
    p = Path(path)
    with cond:
        ok = cond.wait_for(p.exists, timeout=30)
    Path(path + ".done").write_text(str(ok))


def bounded_over_release(sem: Any, path: str) -> None:
    try:
        sem.release()
        Path(path).write_text("released")
    except ValueError as e:
        Path(path).write_text(type(e).__name__)
