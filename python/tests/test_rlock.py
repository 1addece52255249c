"""RLock: threading.RLock's documented behaviour over the server's RLock."""

from __future__ import annotations

import threading
import uuid

import pytest

from we_will_lock_you import Lock, RLock, errors


def new(remote: str) -> RLock:
    return RLock(name=f"r/{uuid.uuid4().hex}", remote=remote)


def test_reentry_counts(remote: str) -> None:
    r = new(remote)
    other = RLock(name=r.name, remote=remote)  # the same server RLock, tried from another thread

    def try_other(timeout: float) -> bool:
        res: list = []
        t = threading.Thread(target=lambda: res.append(other.acquire(timeout=timeout) and (other.release() or True)))
        t.start()
        t.join(10)
        return res == [True]

    assert r.acquire() and r.acquire() and r.acquire(timeout=1)
    assert "count=3" in repr(r) and repr(r).startswith("<locked we_will_lock_you.RLock")
    r.release()
    r.release()
    assert not try_other(0)  # still held once
    r.release()
    assert "count=0" in repr(r) and repr(r).startswith("<unlocked")
    assert try_other(5)


def test_two_objects_nest_on_the_server(remote: str) -> None:
    """Two objects for one name in one thread: the server's re-entry, granted at once."""
    a = new(remote)
    b = RLock(name=a.name, remote=remote)
    with a:
        assert b.acquire(timeout=1)
        assert b.token == a.token  # the outermost grant's token
        b.release()
        assert a.locked()


def test_a_mutex_name_is_not_an_rlock(remote: str) -> None:
    r = new(remote)
    with r:
        with pytest.raises(errors.WrongKindError):
            Lock(name=r.name, remote=remote).acquire(timeout=1)


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
