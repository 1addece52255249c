"""Semaphore, BoundedSemaphore, Event, Condition, Barrier and deadlock detection against a real
server, with threads: what threading's documentation promises for each."""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from typing import Any, Callable, List

import pytest

from we_will_lock_you import (
    Barrier,
    BoundedSemaphore,
    BrokenBarrierError,
    Condition,
    DeadlockError,
    Event,
    Lock,
    RLock,
    Semaphore,
    _conn,
    errors,
)
from we_will_lock_you import _wire as wire


def uniq(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex}"


def run_threads(n: int, target: Callable[[int], Any], timeout: float = 20) -> List[Any]:
    """Runs target(i) in n threads; returns their results (an exception counts as a result)."""
    out: List[Any] = [None] * n

    def wrap(i: int) -> None:
        try:
            out[i] = target(i)
        except BaseException as e:  # noqa: B902 - handed to the test
            out[i] = e

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    assert not any(t.is_alive() for t in ts), "threads still running"
    return out


# -- Semaphore ---------------------------------------------------------------------------------

def test_semaphore_counts(remote: str) -> None:
    s = Semaphore(2, name=uniq("s"), remote=remote)
    assert s.acquire() and s.acquire(blocking=False)
    assert s.acquire(blocking=False) is False
    assert s.acquire(timeout=0.05) is False
    assert s.value == 0
    s.release(2)
    assert s.value == 2


@pytest.mark.parametrize("call, exc", [
    (lambda s: s.acquire(False, 1), ValueError),
    (lambda s: s.release(0), ValueError),
    (lambda s: Semaphore(-1), ValueError),
])
def test_semaphore_argument_errors(remote: str, call: Callable[[Semaphore], Any], exc: type) -> None:
    s = Semaphore(1, name=uniq("s"), remote=remote)
    with pytest.raises(exc):
        call(s)


def test_semaphore_release_above_initial_and_from_another_thread(remote: str) -> None:
    s = Semaphore(0, name=uniq("s"), remote=remote)
    run_threads(1, lambda i: s.release(3))  # no hold needed, as threading
    assert s.value == 3
    assert all(s.acquire(timeout=1) for _ in range(3))


def test_semaphore_bounds_concurrency(remote: str) -> None:
    name = uniq("s")
    inside, peak, mu = [0], [0], threading.Lock()

    def work(i: int) -> None:
        s = Semaphore(2, name=name, remote=remote)
        for _ in range(5):
            with s:
                with mu:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                time.sleep(0.002)
                with mu:
                    inside[0] -= 1

    assert run_threads(6, work) == [None] * 6
    assert peak[0] == 2


def test_semaphore_wrong_value_is_wrong_kind(remote: str) -> None:
    name = uniq("s")
    s = Semaphore(2, name=name, remote=remote)
    with pytest.raises(errors.WrongKindError):
        Semaphore(3, name=name, remote=remote)
    with pytest.raises(errors.WrongKindError):
        Event(name=name, remote=remote)
    s.close()


def test_bounded_semaphore_over_release_is_value_error(remote: str) -> None:
    s = BoundedSemaphore(1, name=uniq("b"), remote=remote)
    with pytest.raises(ValueError, match="released too many times"):
        s.release()
    with s:
        pass
    with pytest.raises(errors.OverReleaseError):
        s.release()


def test_semaphore_waiters_fifo(remote: str) -> None:
    s = Semaphore(0, name=uniq("s"), remote=remote)
    order: List[int] = []

    def waiter(i: int) -> None:
        time.sleep(0.05 * i)  # arrive in index order
        assert s.acquire(timeout=10)
        order.append(i)

    t = threading.Thread(target=lambda: run_threads(4, waiter))
    t.start()
    time.sleep(0.5)
    for _ in range(4):
        s.release()
        time.sleep(0.02)
    t.join(20)
    assert order == [0, 1, 2, 3]


# -- Event -------------------------------------------------------------------------------------

def test_event_set_clear_wait(remote: str) -> None:
    e = Event(name=uniq("e"), remote=remote)
    assert e.is_set() is False and e.wait(0.05) is False and e.wait(0) is False
    e.set()
    assert e.is_set() and e.wait() and e.wait(0)
    e.clear()
    assert not e.is_set()


def test_event_set_wakes_every_waiter(remote: str) -> None:
    e = Event(name=uniq("e"), remote=remote)
    t = threading.Timer(0.2, e.set)
    t.start()
    t0 = time.monotonic()
    assert run_threads(5, lambda i: e.wait(10)) == [True] * 5
    assert time.monotonic() - t0 < 5
    t.join()


def test_event_flag_kept_while_open_forgotten_after(remote: str) -> None:
    name = uniq("e")
    a = Event(name=name, remote=remote)
    a.set()
    b = Event(name=name, remote=remote)
    assert b.is_set()
    a.close()
    assert b.is_set()  # b still has it open
    b.close()
    c = Event(name=name, remote=remote)
    assert not c.is_set()  # nobody had it open: forgotten (protocol 10.4)


def test_event_pickles(remote: str) -> None:
    e = Event(name=uniq("e"), remote=remote)
    e.set()
    copy = pickle.loads(pickle.dumps(e))
    assert copy.name == e.name and copy.is_set()


# -- Condition ---------------------------------------------------------------------------------

LOCKS = [pytest.param(Lock, id="Lock"), pytest.param(RLock, id="RLock")]


@pytest.mark.parametrize("kind", LOCKS)
def test_condition_producer_consumer(remote: str, kind: type) -> None:
    c = Condition(kind(name=uniq("cl"), remote=remote), name=uniq("c"), remote=remote)
    items: List[int] = []

    def consumer(i: int) -> int:
        with c:
            assert c.wait_for(lambda: items, timeout=10)
            return items.pop()

    def producer() -> None:
        time.sleep(0.3)
        for v in (1, 2, 3):
            with c:
                items.append(v)
                c.notify()

    p = threading.Thread(target=producer)
    p.start()
    got = run_threads(3, consumer)
    p.join()
    assert sorted(got) == [1, 2, 3]


@pytest.mark.parametrize("kind", LOCKS)
def test_condition_wait_timeout_returns_false_lock_held(remote: str, kind: type) -> None:
    lk = kind(name=uniq("cl"), remote=remote)
    c = Condition(lk, name=uniq("c"))
    with c:
        t0 = time.monotonic()
        assert c.wait(0.1) is False
        assert time.monotonic() - t0 >= 0.09
        assert lk._is_owned() and lk.token is not None
        other = Lock(name=lk.name, remote=remote) if kind is Lock else None
        if other is not None:
            assert other.acquire(False) is False  # held again after the timeout


def test_condition_rlock_depth_restored(remote: str) -> None:
    r = RLock(name=uniq("cl"), remote=remote)
    c = Condition(r, name=uniq("c"))
    with r:
        with r:
            assert c.wait(0.05) is False
            assert "count=2" in repr(r)
        assert "count=1" in repr(r)
    assert "count=0" in repr(r)


def test_condition_notify_all_and_notify_n(remote: str) -> None:
    c = Condition(name=uniq("c"), remote=remote)  # default lock: an RLock named <name>/lock
    woke: List[int] = []

    def waiter(i: int) -> bool:
        with c:
            ok = c.wait(10)
            woke.append(i)
            return ok

    t = threading.Thread(target=lambda: woke.append(-1) if run_threads(4, waiter) != [True] * 4 else None)
    t.start()
    time.sleep(0.5)
    with c:
        c.notify(2)
    time.sleep(0.3)
    assert len(woke) == 2
    with c:
        c.notify_all()
    t.join(20)
    assert sorted(woke) == [0, 1, 2, 3]


def test_condition_needs_the_lock(remote: str) -> None:
    c = Condition(Lock(name=uniq("cl"), remote=remote), name=uniq("c"))
    for call in (c.wait, c.notify, c.notify_all):
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(TypeError):
        Condition(threading.Lock())  # type: ignore[arg-type]


# -- Barrier -----------------------------------------------------------------------------------

def test_barrier_indices_and_rounds(remote: str) -> None:
    b = Barrier(3, name=uniq("b"), remote=remote)
    assert b.parties == 3
    for _ in range(2):
        assert sorted(run_threads(3, lambda i: b.wait(10))) == [0, 1, 2]
    assert b.n_waiting == 0 and not b.broken


def test_barrier_n_waiting(remote: str) -> None:
    b = Barrier(3, name=uniq("b"), remote=remote)
    t = threading.Thread(target=lambda: run_threads(2, lambda i: b.wait(10)))
    t.start()
    deadline = time.monotonic() + 5
    while b.n_waiting < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert b.n_waiting == 2
    b.wait(5)
    t.join(10)


def test_barrier_timeout_breaks_it_for_everyone(remote: str) -> None:
    b = Barrier(3, name=uniq("b"), remote=remote)
    got = run_threads(2, lambda i: b.wait(0.2 if i == 0 else 10))
    assert all(isinstance(g, BrokenBarrierError) for g in got), got
    assert all(isinstance(g, threading.BrokenBarrierError) for g in got)
    assert b.broken
    with pytest.raises(BrokenBarrierError):
        b.wait(1)
    b.reset()
    assert not b.broken


def test_barrier_abort_and_reset_fail_waiters(remote: str) -> None:
    for action in ("abort", "reset"):
        b = Barrier(3, name=uniq("b"), remote=remote)
        t = threading.Timer(0.3, getattr(b, action))
        t.start()
        got = run_threads(2, lambda i: b.wait(10))
        t.join()
        assert all(isinstance(g, BrokenBarrierError) for g in got), (action, got)
        assert b.broken is (action == "abort")


def test_barrier_action_runs_once(remote: str) -> None:
    ran: List[int] = []
    b = Barrier(2, action=lambda: ran.append(1), name=uniq("b"), remote=remote)
    assert sorted(run_threads(2, lambda i: b.wait(10))) == [0, 1]
    assert ran == [1]


def test_barrier_arguments(remote: str) -> None:
    with pytest.raises(ValueError):
        Barrier(0, remote=remote)
    name = uniq("b")
    Barrier(2, name=name, remote=remote)
    with pytest.raises(errors.WrongKindError):
        Barrier(3, name=name, remote=remote)


# -- deadlock detection ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", LOCKS)
def test_deadlock_check_raises_instead_of_waiting(remote: str, kind: type) -> None:
    a, b = kind(name=uniq("da"), remote=remote), kind(name=uniq("db"), remote=remote)
    b_held, a_waiting = threading.Event(), threading.Event()

    def other(i: int) -> str:
        with b:
            b_held.set()
            a_waiting.wait(10)
            time.sleep(0.2)  # main's wait for b is queued by now
            try:
                a.acquire(deadlock_check=True)
            except DeadlockError as e:
                return "deadlock: " + e.cycle
            a.release()
            return "acquired"

    with a:
        t = threading.Thread(target=lambda: got.extend(run_threads(1, other)))
        got: List[Any] = []
        t.start()
        b_held.wait(10)
        a_waiting.set()
        assert b.acquire(timeout=10)  # granted once the other thread gave up and released b
        b.release()
    t.join(20)
    assert len(got) == 1 and got[0].startswith("deadlock: ") and " waits for " in got[0], got
    assert isinstance(DeadlockError("x"), RuntimeError)


def test_deadlock_check_off_by_default_waits(remote: str) -> None:
    a = Lock(name=uniq("d"), remote=remote)
    with a:
        assert a.acquire(timeout=0.05) is False  # self-wait: no check, plain timeout
        with pytest.raises(DeadlockError):
            a.acquire(timeout=1, deadlock_check=True)  # a thread waiting for itself


def test_rlock_has_no_lease(remote: str) -> None:
    with pytest.raises(ValueError):
        RLock(remote=remote, ttl=5)


def test_barrier_action_raising_breaks_it(remote: str) -> None:
    def boom() -> None:
        raise KeyError("action failed")

    b = Barrier(2, action=boom, name=uniq("b"), remote=remote)
    got = run_threads(2, lambda i: b.wait(10))
    assert sum(isinstance(g, KeyError) for g in got) == 1, got
    assert b.broken


def test_leased_lock_with_deadlock_check_gets_its_lease(remote: str) -> None:
    """deadlock_check takes the OP path, which has no ttl: the lease is set by a RENEW at once."""
    lk = Lock(name=uniq("dl"), remote=remote, ttl=5, deadlock_check=True)
    with lk:
        conn = _conn.get(remote, None)
        deadline = time.monotonic() + 5
        lease = 0
        while time.monotonic() < deadline:
            f = conn.request(lambda r: wire.status(r, [lk._wire_name]))
            lease = f.entries[0].lease_left_ns if f.entries else 0
            if lease > 0:
                break
            time.sleep(0.05)
        assert 0 < lease <= 5_000_000_000


def test_reprs(remote: str) -> None:
    for obj in (Semaphore(1, remote=remote), BoundedSemaphore(1, remote=remote), Event(remote=remote),
                Barrier(2, remote=remote), Condition(remote=remote)):
        r = repr(obj)
        assert r.startswith("<we_will_lock_you.") and type(obj).__name__ in r and "name=" in r, r
