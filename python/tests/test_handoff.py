"""The socket changes hands between threads (the fast-path leader, sleeping waiters, the reader
thread) thousands of times without a waiter left asleep with nobody reading: a lost wake-up
shows here as ConnectionLostError ("silent"), since the server's PONGs go unread."""

from __future__ import annotations

import random
import threading
import time
import uuid

from we_will_lock_you import Lock


def test_no_waiter_left_asleep_while_the_socket_changes_hands(own_server) -> None:  # type: ignore[no-untyped-def]
    # own_server: heartbeat 200 ms, timeout 1 s; a socket nobody reads fails the connection in ~1 s.
    name = f"handoff/{uuid.uuid4().hex}"
    errors: list = []
    counts = [0] * 6

    def run(i: int) -> None:
        rng = random.Random(1977 + i)
        lock = Lock(name=name, remote=own_server.addr)
        deadline = time.monotonic() + 3.0
        try:
            for _ in range(5000):
                if time.monotonic() > deadline:
                    break
                # Waits behind the other threads (sleeping waiters, a leader reading for them).
                assert lock.acquire(timeout=5), "not had within 5 s"
                lock.release()
                counts[i] += 1
                # Pauses around the reader thread's 10 ms take-over: it takes the socket back
                # often, and callers take it from it.
                pause = rng.choice((0, 0, 0.001, 0.009, 0.011, 0.015))
                if pause:
                    time.sleep(pause)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    stop = threading.Event()

    def hog() -> None:
        # Pure Python that holds the GIL between switch intervals: a thread that got a lock in
        # C waits for the GIL while others run, which widens every hand-off window.
        while not stop.is_set():
            sum(range(1000))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(counts))]
    h = threading.Thread(target=hog, daemon=True)
    h.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    stop.set()
    h.join(5)
    assert not any(t.is_alive() for t in ts), "a thread hung"
    assert not errors, errors
    assert all(c > 20 for c in counts), counts
