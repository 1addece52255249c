"""A dead, stopped or absent server: waiters fail with a clear exception, holders are lost,
nothing hangs."""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid

import pytest

from we_will_lock_you import Lock, errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_is_connect_error() -> None:
    lock = Lock(name="x", remote=f"127.0.0.1:{_free_port()}")
    with pytest.raises(errors.ConnectError) as ei:
        lock.acquire()
    assert isinstance(ei.value, ConnectionError)
    assert "cannot connect" in str(ei.value)


def _holder_and_waiter(addr: str):  # type: ignore[no-untyped-def]
    name = f"d/{uuid.uuid4().hex}"
    lost = threading.Event()
    holder = Lock(name=name, remote=addr, on_lost=lambda lk: lost.set())
    assert holder.acquire()
    outcome: dict = {}

    def wait() -> None:
        t0 = time.monotonic()
        try:
            outcome["result"] = Lock(name=name, remote=addr).acquire()
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome["error"] = e
        outcome["took"] = time.monotonic() - t0

    t = threading.Thread(target=wait, daemon=True)
    t.start()
    return holder, lost, outcome, t


@pytest.mark.parametrize("how", ["kill", "term"])
def test_server_death_fails_waiters_and_loses_holders(own_server, how: str) -> None:  # type: ignore[no-untyped-def]
    holder, lost, outcome, t = _holder_and_waiter(own_server.addr)
    time.sleep(0.2)  # let the waiter queue
    if how == "kill":
        own_server.kill()
    else:
        own_server.stop()  # SIGTERM: the server sends ERROR(SHUTDOWN) and closes
    t.join(10)
    assert not t.is_alive(), "waiter hung"
    err = outcome.get("error")
    assert isinstance(err, errors.ConnectionLostError) and isinstance(err, ConnectionError), outcome
    assert outcome["took"] < 5
    if how == "term":
        assert "SHUTDOWN" in str(err)
    assert lost.wait(5) and holder.lost and holder.token is None
    with pytest.raises(errors.LockLostError):
        holder.release()
    with pytest.raises(errors.ConnectError):
        holder.acquire()


def test_silent_server_detected_by_heartbeat(own_server) -> None:  # type: ignore[no-untyped-def]
    """A stopped (SIGSTOP) server answers nothing: the client gives up after the WELCOME's
    timeout (1 s here) instead of hanging."""
    holder, lost, outcome, t = _holder_and_waiter(own_server.addr)
    time.sleep(0.2)
    own_server.proc.send_signal(signal.SIGSTOP)
    try:
        t.join(10)
        assert not t.is_alive(), "waiter hung on a silent server"
        assert isinstance(outcome.get("error"), errors.ConnectionLostError), outcome
        assert "silent" in str(outcome["error"])
        assert outcome["took"] < 5
        assert lost.wait(5) and holder.lost
    finally:
        own_server.proc.send_signal(signal.SIGCONT)


def test_reconnects_after_a_connection_dies(own_server) -> None:  # type: ignore[no-untyped-def]
    from we_will_lock_you import _conn

    lock = Lock(name="re", remote=own_server.addr)
    with lock:
        pass
    first = _conn.get(own_server.addr, None)
    first.close()
    with lock:  # a fresh connection is made on demand
        assert lock.token
    assert _conn.get(own_server.addr, None) is not first


class _Interrupt(Exception):
    pass


def test_interrupted_acquire_is_cancelled_not_leaked(remote: str) -> None:
    """An exception raised into a waiting acquire (Ctrl-C, a signal handler) withdraws the
    ACQUIRE (CANCEL); the name is not left held by the abandoned request."""
    name = f"int/{uuid.uuid4().hex}"
    holder = Lock(name=name, remote=remote)
    holder.acquire()

    def boom(*_: object) -> None:
        raise _Interrupt()

    old = signal.signal(signal.SIGALRM, boom)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(_Interrupt):
            Lock(name=name, remote=remote).acquire()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    holder.release()
    other = Lock(name=name, remote=remote)
    # Had the abandoned ACQUIRE stayed queued, it would be granted now and hold the name.
    assert other.acquire(timeout=5)
    other.release()


def test_idle_holder_kept_alive_by_heartbeats(own_server) -> None:  # type: ignore[no-untyped-def]
    """The server drops a connection silent for its timeout (1 s here): an idle holder's
    client PINGs as WELCOME asks, so the hold outlives several timeouts."""
    name = f"hb/{uuid.uuid4().hex}"
    holder = Lock(name=name, remote=own_server.addr)
    holder.acquire()
    time.sleep(2.5)
    assert not holder.lost
    assert Lock(name=name, remote=own_server.addr).acquire(timeout=0.1) is False
    holder.release()
