"""The benchmark's statistics, and a short smoke run of `python -m we_will_lock_you.bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from we_will_lock_you.bench.stats import jain, pct


@pytest.mark.parametrize("counts, want", [([5, 5, 5, 5], 1.0), ([8, 0, 0, 0], 0.25), ([1, 3], 0.8)])
def test_jain(counts: list, want: float) -> None:
    assert jain(counts) == pytest.approx(want)


def test_pct_nearest_rank() -> None:
    xs = list(range(1, 101))
    assert (pct(xs, 50), pct(xs, 99), pct(xs, 100), pct([], 50)) == (50, 99, 100, 0.0)


def test_bench_smoke(wwly_bin: str, pyenv: dict, tmpdir_path: Path) -> None:
    out = tmpdir_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "we_will_lock_you.bench", "--wwly-bin", wwly_bin, "--cycles", "200",
         "--processes", "2", "--duration", "0.3", "--backends", "wwly,mp", "--json", str(out)],
        env=pyenv, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    res = json.loads(out.read_text())
    assert [r["backend"] for r in res["contended"]] == ["wwly", "mp"]
    assert all(r["violations"] == 0 and r["ops_per_s"] > 0 for r in res["contended"])
    assert res["uncontended"]["wwly_cycle"]["n"] == 200
    assert res["uncontended"]["raw_frames_cycle"]["n"] == 200


def test_bench_profile(wwly_bin: str, pyenv: dict) -> None:
    run = subprocess.run([sys.executable, "-m", "we_will_lock_you.bench", "--wwly-bin", wwly_bin, "--profile", "50"],
                         env=pyenv, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith("profile: 50 cycles, ") and "Python calls per acquire+release" in first
    assert "recv_into" in run.stdout  # the cycle reads its own reply
