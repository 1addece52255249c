"""`pip install --no-build-isolation ./python` works without any package index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PYROOT = Path(__file__).resolve().parents[1]


def test_pip_install_offline(tmpdir_path: Path) -> None:
    src = tmpdir_path / "src"
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    shutil.copytree(PYROOT, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))
    target = tmpdir_path / "site"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation",
                          "--no-index", "--no-deps", "--target", str(target), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    pkg = target / "we_will_lock_you"
    assert (pkg / "py.typed").is_file() and (pkg / "bench" / "run.py").is_file()
    probe = subprocess.run([sys.executable, "-c", "import we_will_lock_you as w; print(w.__file__, w.Lock)"],
                           env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmpdir_path,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and str(target) in probe.stdout, probe.stdout + probe.stderr
