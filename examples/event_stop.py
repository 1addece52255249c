"""The seed's demo: one remote Event stops worker threads running in other processes.

    wwly serve &                       # or set WWLY_ADDR=host:port
    python examples/event_stop.py [--start-method spawn|forkserver|fork] [--procs 3] [--threads 2]

Each process runs worker threads that count until the shared Event is set. A Barrier (also
remote) tells the parent when every worker is running; the parent sets the Event and every
worker in every process stops within a moment. Exits 1 if a worker did not stop in time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import threading
import time

from we_will_lock_you import Barrier, Event


def worker_process(i: int, stop: Event, ready: Barrier, threads: int) -> None:
    counts = [0] * threads

    def work(t: int) -> None:
        ready.wait(timeout=30)  # every worker of every process is running
        while not stop.wait(timeout=0.05):  # wakes at once when the parent sets the event
            counts[t] += 1

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    alive = sum(t.is_alive() for t in ts)
    print(f"process {i} (pid {os.getpid()}): {threads - alive} of {threads} threads stopped, "
          f"rounds {counts}", flush=True)
    raise SystemExit(1 if alive else 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start-method", default="spawn", choices=mp.get_all_start_methods())
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    ctx = mp.get_context(args.start_method)
    stop = Event()  # remote from $WWLY_ADDR (else 127.0.0.1:1977); a fresh unique name
    ready = Barrier(args.procs * args.threads + 1)
    procs = [ctx.Process(target=worker_process, args=(i, stop, ready, args.threads)) for i in range(args.procs)]
    for p in procs:
        p.start()
    ready.wait(timeout=60)
    time.sleep(0.2)  # let them count a little
    t0 = time.monotonic()
    stop.set()
    for p in procs:
        p.join(30)
    took = time.monotonic() - t0
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    print(f"ok: every worker stopped {took * 1000:.0f} ms after set()" if not bad else f"FAILED: exit codes {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
