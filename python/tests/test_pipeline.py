"""Release pipelining: in a release-then-acquire loop the RELEASE rides on the next request's
write; a RELEASE that no request follows still reaches the server within a few ms."""

from __future__ import annotations

import random
import threading
import time
import uuid

import pytest

from we_will_lock_you import Lock, RLock, _conn
from we_will_lock_you import _wire as wire


def other_session_takes(remote: str, name: bytes, prim: int, within: float) -> float:
    """A second session (its own connection) acquires name; returns how long that took."""
    other = _conn.Connection(remote, None)
    try:
        t0 = time.monotonic()
        f = other.request(lambda r: wire.op(r, prim, wire.A_ACQUIRE, name, owner=1, wait_ns=int(within * 1e9)))
        assert f.type == wire.ACQUIRED, f
        return time.monotonic() - t0
    finally:
        other.close()


@pytest.mark.parametrize("kind, prim", [(Lock, wire.MUTEX), (RLock, wire.RLOCK)])
def test_last_release_of_a_loop_is_not_stranded(remote: str, kind: type, prim: int) -> None:
    lock = kind(name=f"pl/{uuid.uuid4().hex}", remote=remote)
    conn = _conn.get(remote, None)
    for _ in range(300):  # a tight loop: the connection pipelines its releases
        lock.acquire()
        lock.release()
    assert conn._loop, "a release-then-acquire loop should turn loop mode on"
    lock.acquire()
    lock.release()  # deferred: nothing follows on this connection
    took = other_session_takes(remote, lock._wire_name, prim, within=5)
    assert took < 0.5, f"the last RELEASE took {took * 1000:.1f} ms to reach the server"
    deadline = time.monotonic() + 2
    while conn._loop and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not conn._loop, "loop mode should end once releases stop"


def test_release_then_acquire_lets_the_earlier_waiter_in(remote: str) -> None:
    """A pipelined RELEASE reaches the server before the ACQUIRE written with it: a waiter of
    another session, queued first, is granted, and our acquire waits behind it (FIFO)."""
    name = f"pl/{uuid.uuid4().hex}"
    lock = Lock(name=name, remote=remote)
    for _ in range(300):  # loop mode on
        lock.acquire()
        lock.release()
    other = _conn.Connection(remote, None)
    try:
        lock.acquire()
        req, call = other.start(lambda r: wire.op(r, wire.MUTEX, wire.A_ACQUIRE, name.encode(), owner=1,
                                                  wait_ns=5_000_000_000))
        time.sleep(0.1)  # the other session waits first
        lock.release()
        assert lock.acquire(timeout=0.2) is False  # behind the other session's hold
        f = other.wait(req, call)
        assert f.type == wire.ACQUIRED
        other.request(lambda r: wire.release(r, name.encode(), f.token))
        assert lock.acquire(timeout=5)
        lock.release()
    finally:
        other.close()


def test_loop_mode_flapping_under_threads(remote: str) -> None:
    """Threads alternate tight loops and pauses around the flush tick, so loop mode starts and
    ends many times; no error, and no RELEASE is left behind (another session gets every lock)."""
    locks = [Lock(name=f"pl/{uuid.uuid4().hex}", remote=remote) for _ in range(4)]
    errors: list = []

    def run(i: int) -> None:
        rng = random.Random(1977 + i)
        deadline = time.monotonic() + 2.0
        try:
            for _ in range(3000):
                if time.monotonic() > deadline:
                    break
                locks[i].acquire()
                locks[i].release()
                pause = rng.choice((0, 0, 0, 0.0002, 0.0006, 0.002))
                if pause:
                    time.sleep(pause)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(locks))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(20)
    assert not errors, errors
    for lk in locks:
        assert other_session_takes(remote, lk._wire_name, wire.MUTEX, within=5) < 0.5


def test_rare_releases_end_loop_mode(remote: str) -> None:
    """A loop whose releases come slower than the flusher's ticks (as in a contended loop,
    where each acquire waits its turn) leaves loop mode and backs off, instead of polling every
    0.5 ms for nothing; its releases still reach the server."""
    lock = Lock(name=f"pl/{uuid.uuid4().hex}", remote=remote)
    conn = lock._connection()
    backed_off = False
    deadline = time.monotonic() + 3
    for _ in range(2000):
        if backed_off or time.monotonic() > deadline:
            break
        lock.acquire()
        time.sleep(0.002)  # the "wait" of a contended acquire: ~1 release per 4 ticks
        lock.release()
        backed_off = conn._no_loop_until > time.monotonic()
    assert backed_off, "loop mode never ended for rare releases"
    assert other_session_takes(remote, lock._wire_name, wire.MUTEX, within=5) < 0.5
