"""Lock against a real server: every behaviour threading.Lock's documentation promises."""

from __future__ import annotations

import threading
import time
import uuid
from typing import List

import pytest

from we_will_lock_you import Lock, errors


def new(remote: str, **kw: object) -> Lock:
    return Lock(name=f"t/{uuid.uuid4().hex}", remote=remote, **kw)  # type: ignore[arg-type]


def test_acquire_release_cycle(remote: str) -> None:
    lock = new(remote)
    assert not lock.locked()
    assert lock.acquire() is True
    assert lock.locked()
    assert lock.token is not None and lock.token > 0
    lock.release()
    assert not lock.locked()
    assert lock.token is None


def test_nonblocking_and_timeout_when_held(remote: str) -> None:
    lock = new(remote)
    other = Lock(name=lock.name, remote=remote)
    assert lock.acquire()
    assert other.acquire(False) is False
    assert other.acquire(blocking=False) is False
    t0 = time.monotonic()
    assert other.acquire(timeout=0.2) is False
    assert 0.15 <= time.monotonic() - t0 < 3
    # A lock is not re-entrant: the holder itself times out too, as threading.Lock does.
    assert lock.acquire(timeout=0.05) is False
    lock.release()
    assert other.acquire(timeout=0) is True
    other.release()


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"blocking": False, "timeout": 1}, ValueError),
        ({"timeout": -2}, ValueError),
        ({"timeout": -0.5}, ValueError),
        ({"timeout": threading.TIMEOUT_MAX * 2}, OverflowError),
    ],
)
def test_bad_arguments_like_threading(remote: str, kwargs: dict, exc: type) -> None:
    with pytest.raises(exc):
        threading.Lock().acquire(**kwargs)
    with pytest.raises(exc):
        new(remote).acquire(**kwargs)


def test_release_unheld_raises_runtime_error(remote: str) -> None:
    lock = new(remote)
    with pytest.raises(RuntimeError):
        lock.release()
    with pytest.raises(errors.NotHeldError):
        lock.release()
    lock.acquire()
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()


def test_release_from_another_thread(remote: str) -> None:
    lock = new(remote)
    lock.acquire()
    t = threading.Thread(target=lock.release)
    t.start()
    t.join(10)
    assert not lock.locked()
    assert lock.acquire(timeout=5)
    lock.release()


def test_context_manager(remote: str) -> None:
    lock = new(remote)
    with lock as got:
        assert got is True
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(KeyError):
        with lock:
            raise KeyError("inside")
    assert not lock.locked()


def test_hold_raises_lock_timeout(remote: str) -> None:
    lock = new(remote)
    other = Lock(name=lock.name, remote=remote)
    with lock:
        with pytest.raises(TimeoutError):
            with other.hold(timeout=0.05):
                pytest.fail("must not get here")
    with other.hold(timeout=5):
        assert other.locked()


def test_repr_threading_style(remote: str) -> None:
    lock = new(remote)
    assert repr(lock).startswith("<unlocked we_will_lock_you.Lock object name=")
    with lock:
        assert repr(lock).startswith("<locked we_will_lock_you.Lock object")
        assert f"token={lock.token}" in repr(lock)
    assert repr(lock).endswith(f"at {hex(id(lock))}>")


def test_default_name_unique_and_remote_from_env(remote: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WWLY_ADDR", remote)
    a, b = Lock(), Lock()
    assert a.name != b.name and a.remote == remote
    assert a.acquire(False) and b.acquire(False)
    a.release()
    b.release()
    monkeypatch.delenv("WWLY_ADDR")
    assert Lock().remote == "127.0.0.1:1977"


@pytest.mark.parametrize("name", ["", "x" * 257, b""])
def test_bad_names(remote: str, name: object) -> None:
    with pytest.raises(ValueError):
        Lock(name=name, remote=remote)  # type: ignore[arg-type]


def test_tokens_rise(remote: str) -> None:
    lock = new(remote)
    seen: List[int] = []
    for _ in range(5):
        with lock:
            assert lock.token is not None
            seen.append(lock.token)
    assert seen == sorted(seen) and len(set(seen)) == 5


def test_many_threads_wait_and_exclude(remote: str) -> None:
    """16 threads x 40 increments of an unprotected read-modify-write: exact with the lock,
    at most one thread inside at a time."""
    lock = new(remote)
    state = {"n": 0, "inside": 0, "max_inside": 0}
    threads_n, rounds = 16, 40

    def work() -> None:
        for _ in range(rounds):
            with lock:
                state["inside"] += 1
                state["max_inside"] = max(state["max_inside"], state["inside"])
                n = state["n"]
                time.sleep(0)
                state["n"] = n + 1
                state["inside"] -= 1

    ts = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not any(t.is_alive() for t in ts)
    assert state["n"] == threads_n * rounds
    assert state["max_inside"] == 1


def test_waiters_served_fifo(remote: str) -> None:
    lock = new(remote)
    order: List[int] = []
    lock.acquire()
    started = []
    ts = []
    for i in range(5):
        def w(i: int = i) -> None:
            with lock:
                order.append(i)
        t = threading.Thread(target=w)
        t.start()
        ts.append(t)
        started.append(i)
        _wait_for_waiters(lock, i + 1)
    lock.release()
    for t in ts:
        t.join(20)
    assert order == [0, 1, 2, 3, 4]


def _wait_for_waiters(lock: Lock, n: int) -> None:
    """Polls the server's STATUS until n acquires wait on the lock's name (bounded)."""
    from we_will_lock_you import _conn, _wire

    conn = _conn.get(lock.remote, None)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        f = conn.request(lambda r: _wire.status(r, [lock._wire_name]))
        if f.entries and f.entries[0].waiters >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"{n} waiters never queued")


def test_timeout_wakes_only_the_expired_waiter(remote: str) -> None:
    lock = new(remote)
    lock.acquire()
    results = {}

    def w(key: str, timeout: float) -> None:
        results[key] = Lock(name=lock.name, remote=remote).acquire(timeout=timeout)

    short = threading.Thread(target=w, args=("short", 0.1))
    long_ = threading.Thread(target=w, args=("long", 10))
    short.start()
    long_.start()
    short.join(5)
    assert results == {"short": False}
    lock.release()
    long_.join(10)
    assert results["long"] is True


def test_lease_renewed_while_held(remote: str) -> None:
    lock = new(remote, ttl=0.3)
    with lock:
        time.sleep(1.0)  # > 3 ttl: only renewal keeps it
        assert not lock.lost
        assert Lock(name=lock.name, remote=remote).acquire(False) is False
    assert not lock.lost


def test_lost_flag_and_callback_when_lease_runs_out(remote: str) -> None:
    lost = threading.Event()
    lock = new(remote, ttl=0.2, on_lost=lambda lk: lost.set())
    assert lock.acquire()
    conn = lock._conn
    assert conn is not None
    # Stop renewing, as a frozen process would: drop the renewal chain (twice, in case the
    # timer thread was running a renewal that re-scheduled itself).
    for _ in range(2):
        with conn._tcv:
            conn._timers.clear()
        time.sleep(0.02)
    assert lost.wait(5)
    assert lock.lost and lock.token is None
    with pytest.raises(errors.LockLostError):
        lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
    other = Lock(name=lock.name, remote=remote)
    assert other.acquire(timeout=5)
    other.release()
    assert lock.acquire(timeout=5) and not lock.lost
    lock.release()


def test_auth_token(wwly_bin: str, tmpdir_path) -> None:  # type: ignore[no-untyped-def]
    from we_will_lock_you.bench.servers import start_wwly

    tokfile = tmpdir_path / "tok"
    tokfile.write_text("s3cret")
    with start_wwly(wwly_bin, extra=["--auth-token-file", str(tokfile)]) as s:
        good = Lock(name="a", remote=s.addr, auth_token="s3cret")
        with good:
            assert good.token
        with pytest.raises(errors.AuthError) as ei:
            Lock(name="a", remote=s.addr, auth_token="wrong").acquire()
        assert isinstance(ei.value, ConnectionError) and isinstance(ei.value, PermissionError)


def test_shared_connection_mixed_load(remote: str) -> None:
    """8 threads on one connection, 3 names, blocking and timed acquires mixed: every thread
    finishes (the socket always has a reader), no name is ever held twice at once."""
    import random

    names = [f"mix/{uuid.uuid4().hex}" for _ in range(3)]
    inside = {n: 0 for n in names}
    errors_seen: List[str] = []
    seed = random.randrange(1 << 30)

    def work(k: int) -> None:
        rng = random.Random(seed + k)
        locks = {n: Lock(name=n, remote=remote) for n in names}
        for _ in range(60):
            n = rng.choice(names)
            lk = locks[n]
            got = lk.acquire(timeout=rng.choice([-1, 0.001, 0.05])) if rng.random() < 0.8 else lk.acquire(False)
            if not got:
                continue
            inside[n] += 1
            if inside[n] != 1:
                errors_seen.append(f"{n} held twice")
            time.sleep(rng.choice([0, 0, 0.001]))
            inside[n] -= 1
            lk.release()

    ts = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(8)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + 60
    for t in ts:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in ts), f"threads hung (seed {seed})"
    assert not errors_seen, f"{errors_seen[:3]} (seed {seed})"
