"""Processes with no common parent take turns: each worker is a fresh interpreter
(``subprocess``), as if started from different shells or machines. All they share is the
lock's name and the server's address.

    python examples/unrelated_parents.py                  # starts 3 workers and checks the turns
    python examples/unrelated_parents.py --worker NAME LOG  # one worker; run it from anywhere

Each worker holds the lock 5 times and appends "start"/"end" lines to LOG; the launcher checks
that no two holds overlapped and that fencing tokens rose. Exits 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid

from we_will_lock_you import Lock


def worker(name: str, log: str) -> None:
    lock = Lock(name=name)
    for _ in range(5):
        with lock:
            with open(log, "a") as f:
                f.write(f"start {os.getpid()} {lock.token}\n")
            time.sleep(0.01)
            with open(log, "a") as f:
                f.write(f"end {os.getpid()} {lock.token}\n")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
        return 0
    name = f"examples/turns/{uuid.uuid4().hex}"
    fd, log = tempfile.mkstemp(prefix="wwly-turns-")
    os.close(fd)
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", name, log]) for _ in range(3)]
    codes = [p.wait() for p in procs]
    lines = open(log).read().split()
    os.unlink(log)
    events = [lines[i:i + 3] for i in range(0, len(lines), 3)]
    ok = codes == [0, 0, 0] and len(events) == 30
    tokens = []
    for start, end in zip(events[::2], events[1::2]):
        ok = ok and start[0] == "start" and end[0] == "end" and start[1:] == end[1:]
        tokens.append(int(start[2]))
        print(f"pid {start[1]} held the lock (token {start[2]})")
    ok = ok and tokens == sorted(tokens)
    print("ok: 15 turns, never two at once, tokens rising" if ok else f"FAILED (exit codes {codes})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
