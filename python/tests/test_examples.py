"""Runs every script in examples/ against the test server; each exits 0 only when it proved
its point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("args", [
    ["mp_lock.py", "--start-method", "spawn"],
    ["mp_lock.py", "--start-method", "forkserver"],
    ["mp_lock.py", "--start-method", "fork"],
    ["rlock_reentry.py"],
    ["unrelated_parents.py"],
])
def test_example(args: list, remote: str, pyenv: dict) -> None:
    pyenv["WWLY_ADDR"] = remote
    out = subprocess.run([sys.executable, str(EXAMPLES / args[0])] + args[1:], env=pyenv,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok:" in out.stdout


def test_balance_exact_with_lock_and_loss_printed_without(remote: str, pyenv: dict) -> None:
    pyenv["WWLY_ADDR"] = remote
    out = subprocess.run([sys.executable, str(EXAMPLES / "balance.py"), "--ops", "1500"], env=pyenv,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("without a lock: balance") and "updates lost" in lines[0]
    assert lines[1].startswith("with we_will_lock_you.Lock: balance 0, expected 0; 0 of 3000 updates lost")
    # The unlocked run is the control: it must lose updates, or the race was not exercised.
    lost = int(lines[0].split("; ")[1].split()[0])
    assert lost > 0, out.stdout
