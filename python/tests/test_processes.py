"""Pickling, multiprocessing under each start method, fork safety, unrelated interpreters."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

import mp_targets
from we_will_lock_you import Lock, RLock

METHODS = [m for m in ("spawn", "forkserver", "fork") if m in mp.get_all_start_methods()]


def test_pickle_round_trip_same_lock_no_hold(remote: str) -> None:
    lock = Lock(name=f"p/{uuid.uuid4().hex}", remote=remote, ttl=5)
    with lock:
        copy = pickle.loads(pickle.dumps(lock))
        assert (copy.name, copy.remote, copy.ttl) == (lock.name, lock.remote, lock.ttl)
        assert copy.token is None
        assert copy.locked()  # same remote lock, held by the original
        assert copy.acquire(False) is False
    assert copy.acquire(timeout=5)
    copy.release()
    r = pickle.loads(pickle.dumps(RLock(name="p/r", remote=remote)))
    assert r.name == "p/r" and "count=0" in repr(r)


@pytest.mark.parametrize("method", METHODS)
def test_processes_share_the_lock(method: str, remote: str, tmpdir_path: Path) -> None:
    ctx = mp.get_context(method)
    counter = tmpdir_path / "n"
    counter.write_text("0")
    lock = Lock(remote=remote)  # default name: fresh and unique, travels with the object
    procs = [ctx.Process(target=mp_targets.bump, args=(lock, str(counter), 15))  # type: ignore[attr-defined]
             for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert counter.read_text() == "45"


@pytest.mark.parametrize("method", METHODS)
def test_hold_does_not_travel(method: str, remote: str, tmpdir_path: Path) -> None:
    ctx = mp.get_context(method)
    out = tmpdir_path / "state"
    lock = Lock(remote=remote)
    with lock:
        p = ctx.Process(target=mp_targets.report_state, args=(lock, str(out)))  # type: ignore[attr-defined]
        p.start()
        p.join(60)
        assert p.exitcode == 0
        assert lock.token is not None  # the parent still holds it
    got = out.read_text()
    assert got.startswith("token=None release=RuntimeError try=False locked=True"), got


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_never_uses_parent_connection(remote: str) -> None:
    lock = Lock(name=f"f/{uuid.uuid4().hex}", remote=remote)
    lock.acquire()
    parent_token = lock.token
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report and leave without running pytest's teardown
        code = 0
        try:
            ok = (lock.token is None and not lock.acquire(timeout=0.1) and lock.locked())
            try:
                lock.release()
                ok = False
            except RuntimeError:
                pass
            os.write(w, b"ok" if ok else b"bad")
        except BaseException as e:  # noqa: BLE001 - report anything to the parent
            os.write(w, repr(e).encode()[:200])
            code = 1
        os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    msg = os.read(r, 256)
    os.close(r)
    assert msg == b"ok" and status == 0, msg
    # The parent's hold and connection survived the child's exit.
    assert lock.token == parent_token
    lock.release()
    assert lock.acquire(timeout=5)
    lock.release()


def test_parent_death_frees_lock_while_forked_child_lives(remote: str, pyenv: dict) -> None:
    """The child closes its copy of the parent's socket at fork: when the parent dies the
    server sees the connection close and frees the lock, although the child lives on."""
    name = f"f/{uuid.uuid4().hex}"
    script = textwrap.dedent(f"""
        import os, sys, time
        from we_will_lock_you import Lock
        lock = Lock(name={name!r}, remote={remote!r})
        lock.acquire()
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        print("held", flush=True)
        time.sleep(30)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], env=pyenv, stdout=subprocess.PIPE,
                              start_new_session=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == b"held"
        other = Lock(name=name, remote=remote)
        assert other.acquire(False) is False
        parent.kill()
        parent.wait(10)
        t0 = time.monotonic()
        assert other.acquire(timeout=5), "lock still held: the forked child kept the session alive"
        assert time.monotonic() - t0 < 2
        other.release()
    finally:
        try:
            os.killpg(parent.pid, 9)  # the forked child too
        except ProcessLookupError:
            pass
        parent.wait(10)


def test_unrelated_interpreters_take_turns(remote: str, pyenv: dict, tmpdir_path: Path) -> None:
    counter = tmpdir_path / "n"
    counter.write_text("0")
    name = f"u/{uuid.uuid4().hex}"
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(mp_targets.__file__).parent)!r})
        import mp_targets
        from we_will_lock_you import Lock
        mp_targets.bump(Lock(name={name!r}, remote={remote!r}), {str(counter)!r}, 20)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=pyenv) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    assert counter.read_text() == "60"
