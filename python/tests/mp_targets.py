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
