"""Fixtures: a real `wwly serve` on a free port with a temp --data-dir, stopped after use.

The binary is $WWLY_BIN when set (the Makefile passes bin/wwly), else built once per session
with `go build -o <tmp>/wwly ./cmd/wwly`, else bin/wwly of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
PYROOT = HERE.parent
REPO = PYROOT.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(PYROOT))

from we_will_lock_you.bench.servers import Proc, start_wwly  # noqa: E402


@pytest.fixture(scope="session")
def wwly_bin(tmp_path_factory: pytest.TempPathFactory) -> str:
    env = os.environ.get("WWLY_BIN")
    if env:
        return env
    if shutil.which("go"):
        out = tmp_path_factory.mktemp("bin") / "wwly"
        subprocess.run(["go", "build", "-o", str(out), "./cmd/wwly"], cwd=REPO, check=True, timeout=300)
        return str(out)
    prebuilt = REPO / "bin" / "wwly"
    if prebuilt.exists():
        return str(prebuilt)
    pytest.fail("no wwly binary: set WWLY_BIN, install go, or run `make build`")


@pytest.fixture(scope="session")
def server(wwly_bin: str) -> Iterator[Proc]:
    """One server shared by the tests that do not stop it."""
    with start_wwly(wwly_bin) as s:
        yield s


@pytest.fixture()
def own_server(wwly_bin: str) -> Iterator[Proc]:
    """A server of the test's own, which the test may kill."""
    with start_wwly(wwly_bin, heartbeat="200ms", timeout="1s") as s:
        yield s


@pytest.fixture()
def remote(server: Proc) -> str:
    return server.addr


@pytest.fixture()
def pyenv() -> dict:
    """Environment for child interpreters: the package importable without installing it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PYROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture()
def tmpdir_path() -> Iterator[Path]:
    d = tempfile.mkdtemp(prefix="wwly-py-")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)
