"""The server-side primitives across processes (every start method) and in unrelated
interpreters; the event_stop example."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

import mp_targets
from we_will_lock_you import Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore

METHODS = [m for m in ("spawn", "forkserver", "fork") if m in mp.get_all_start_methods()]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def join_all(procs: list, timeout: float = 60) -> list:
    for p in procs:
        p.join(timeout)
    for p in procs:
        if p.is_alive():
            p.kill()
    return [p.exitcode for p in procs]


@pytest.mark.parametrize("method", METHODS)
def test_semaphore_across_processes(method: str, remote: str, tmpdir_path: Path) -> None:
    ctx = mp.get_context(method)
    sem = Semaphore(2, remote=remote)
    procs = [ctx.Process(target=mp_targets.sem_peak, args=(sem, str(tmpdir_path), 6))  # type: ignore[attr-defined]
             for _ in range(4)]
    for p in procs:
        p.start()
    assert join_all(procs) == [0] * 4
    peaks = [int(x) for x in (tmpdir_path / "peaks").read_text().split()]
    assert len(peaks) == 24 and max(peaks) <= 2


@pytest.mark.parametrize("method", METHODS)
def test_event_wakes_other_processes(method: str, remote: str, tmpdir_path: Path) -> None:
    ctx = mp.get_context(method)
    e = Event(remote=remote)
    outs = [tmpdir_path / f"w{i}" for i in range(3)]
    procs = [ctx.Process(target=mp_targets.wait_event, args=(e, str(o))) for o in outs]  # type: ignore[attr-defined]
    for p in procs:
        p.start()
    time.sleep(0.3)
    e.set()
    assert join_all(procs) == [0] * 3
    assert [o.read_text() for o in outs] == ["True"] * 3


@pytest.mark.parametrize("method", METHODS)
def test_barrier_across_processes(method: str, remote: str, tmpdir_path: Path) -> None:
    ctx = mp.get_context(method)
    b = Barrier(4, remote=remote)
    outs = [tmpdir_path / f"b{i}" for i in range(3)]
    procs = [ctx.Process(target=mp_targets.barrier_index, args=(b, str(o))) for o in outs]  # type: ignore[attr-defined]
    for p in procs:
        p.start()
    mine = b.wait(30)
    assert join_all(procs) == [0] * 3
    assert sorted([mine] + [int(o.read_text()) for o in outs]) == [0, 1, 2, 3]


@pytest.mark.parametrize("kind", [Lock, RLock])
def test_condition_across_processes(kind: type, remote: str, tmpdir_path: Path) -> None:
    ctx = mp.get_context("spawn")
    c = Condition(kind(remote=remote))
    flag = tmpdir_path / "flag"
    p = ctx.Process(target=mp_targets.condition_consumer, args=(c, str(flag)))  # type: ignore[attr-defined]
    p.start()
    time.sleep(1.0)  # the consumer is waiting (or will find the flag at once)
    with c:
        flag.write_text("x")
        c.notify_all()
    assert join_all([p]) == [0]
    assert Path(str(flag) + ".done").read_text() == "True"


def test_bounded_semaphore_over_release_in_child(remote: str, tmpdir_path: Path) -> None:
    s = BoundedSemaphore(1, remote=remote)
    out = tmpdir_path / "r"
    p = mp.get_context("spawn").Process(target=mp_targets.bounded_over_release,  # type: ignore[attr-defined]
                                        args=(s, str(out)))
    p.start()
    assert join_all([p]) == [0]
    assert out.read_text() == "OverReleaseError"


def test_fork_child_reopens_event(remote: str, tmpdir_path: Path) -> None:
    e = Event(remote=remote)
    e.is_set()  # the parent's connection exists before the fork
    out = tmpdir_path / "f"
    p = mp.get_context("fork").Process(target=mp_targets.wait_event, args=(e, str(out)))  # type: ignore[attr-defined]
    p.start()
    time.sleep(0.3)
    e.set()
    assert join_all([p]) == [0]
    assert out.read_text() == "True"


def test_unrelated_interpreter_sets_event(remote: str, pyenv: dict) -> None:
    name = f"ev/{uuid.uuid4().hex}"
    e = Event(name=name, remote=remote)
    code = textwrap.dedent(f"""
        from we_will_lock_you import Event
        Event(name={name!r}, remote={remote!r}).set()
    """)
    subprocess.run([sys.executable, "-c", code], env=pyenv, check=True, timeout=60)
    assert e.is_set()  # kept: this process has it open


@pytest.mark.parametrize("method", METHODS)
def test_event_stop_example(method: str, remote: str, pyenv: dict) -> None:
    pyenv["WWLY_ADDR"] = remote
    out = subprocess.run([sys.executable, str(EXAMPLES / "event_stop.py"), "--start-method", method],
                         env=pyenv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok: every worker stopped" in out.stdout
    assert out.stdout.count("2 of 2 threads stopped") == 3
