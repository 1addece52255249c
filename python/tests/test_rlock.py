"""RLock: threading.RLock's documented behaviour over the remote mutex."""

from __future__ import annotations

import threading
import uuid

import pytest

from we_will_lock_you import Lock, RLock, errors


def new(remote: str) -> RLock:
    return RLock(name=f"r/{uuid.uuid4().hex}", remote=remote)


def test_reentry_counts(remote: str) -> None:
    r = new(remote)
    other = Lock(name=r.name, remote=remote)
    assert r.acquire() and r.acquire() and r.acquire(timeout=1)
    assert "count=3" in repr(r) and repr(r).startswith("<locked we_will_lock_you.RLock")
    r.release()
    r.release()
    assert other.acquire(False) is False  # still held once
    r.release()
    assert "count=0" in repr(r) and repr(r).startswith("<unlocked")
    assert other.acquire(timeout=5)
    other.release()


def test_nested_with(remote: str) -> None:
    r = new(remote)
    with r:
        token = r.token
        with r:
            with r:
                assert r.token == token
    assert r.token is None


def test_release_by_non_owner_thread_raises(remote: str) -> None:
    r = new(remote)
    r.acquire()
    caught = []

    def other() -> None:
        try:
            r.release()
        except RuntimeError as e:
            caught.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join(10)
    assert caught and isinstance(caught[0], errors.NotHeldError)
    r.release()
    with pytest.raises(RuntimeError):
        r.release()


def test_other_thread_waits_for_full_release(remote: str) -> None:
    r = new(remote)
    r.acquire()
    r.acquire()
    got = threading.Event()

    def waiter() -> None:
        with r:
            got.set()

    t = threading.Thread(target=waiter)
    t.start()
    r.release()
    assert not got.wait(0.2)
    r.release()
    assert got.wait(10)
    t.join(10)


def test_bad_arguments_even_when_owned(remote: str) -> None:
    r = new(remote)
    with r:
        with pytest.raises(ValueError):
            r.acquire(False, 1)
    with pytest.raises(ValueError):
        r.acquire(timeout=-3)


def test_nonblocking_from_other_thread(remote: str) -> None:
    r = new(remote)
    res = []
    with r:
        t = threading.Thread(target=lambda: res.append(r.acquire(False)))
        t.start()
        t.join(10)
    assert res == [False]


def test_works_with_threading_condition(remote: str) -> None:
    """threading.Condition accepts any lock with _is_owned/_release_save/_acquire_restore."""
    r = new(remote)
    cond = threading.Condition(r)  # type: ignore[arg-type]  # duck-typed, as threading allows
    box = []

    def producer() -> None:
        with cond:
            box.append(1)
            cond.notify()

    with cond:
        t = threading.Thread(target=producer)
        t.start()
        assert cond.wait_for(lambda: box, timeout=10)
    t.join(10)
