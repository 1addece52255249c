"""The seed's demo: one remote Lock handed to multiprocessing.Process workers.

    wwly serve &                       # or set WWLY_ADDR=host:port
    python examples/mp_lock.py [--start-method spawn|forkserver|fork] [--workers 4]

Each worker takes the lock, prints, sleeps a little and releases: the lines never interleave,
whatever the start method. Exits 1 if two workers were ever inside at once.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

from we_will_lock_you import Lock


def func(i: int, lock: Lock, inside: "mp.sharedctypes.Synchronized[int]") -> None:
    for _ in range(3):
        with lock:
            inside.value += 1  # a second worker inside would make this 2
            print(f"worker {i} (pid {os.getpid()}) holds {lock.name!r} token={lock.token} "
                  f"inside={inside.value}", flush=True)
            if inside.value != 1:
                raise SystemExit(1)
            time.sleep(0.01)
            inside.value -= 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start-method", default="spawn", choices=mp.get_all_start_methods())
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    ctx = mp.get_context(args.start_method)
    lock = Lock()  # remote from $WWLY_ADDR (else 127.0.0.1:1977); a fresh unique name
    inside = ctx.Value("i", 0)
    procs = [ctx.Process(target=func, args=(i, lock, inside)) for i in range(args.workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    print("ok: no two workers overlapped" if not bad else f"FAILED: exit codes {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
