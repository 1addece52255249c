"""A Go process (`wwly lock NAME -- sh -c ...`) and a Python process exclude each other on
one name: a counter file both bump with an unprotected read-modify-write stays exact."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path


def test_go_and_python_exclude_each_other(wwly_bin: str, remote: str, pyenv: dict,
                                          tmpdir_path: Path) -> None:
    counter = tmpdir_path / "n"
    counter.write_text("0")
    name = f"go-py/{uuid.uuid4().hex}"
    rounds = 25
    # The Go side: the wwly CLI takes the lock around each shell read-modify-write.
    script = tmpdir_path / "bump.sh"
    script.write_text(f'n=$(cat {counter}); sleep 0.002; echo $((n+1)) > {counter}\n')
    go_loop = (f'i=0; while [ $i -lt {rounds} ]; do '
               f'{wwly_bin} lock --addr {remote} {name} -- sh {script} || exit 1; i=$((i+1)); done')
    py_code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from we_will_lock_you import Lock
        lock, p = Lock(name={name!r}, remote={remote!r}), Path({str(counter)!r})
        for _ in range({rounds}):
            with lock:
                n = int(p.read_text())
                time.sleep(0.002)
                p.write_text(f"{{n + 1}}\\n")
    """)
    go = subprocess.Popen(["sh", "-c", go_loop])
    py = subprocess.Popen([sys.executable, "-c", py_code], env=pyenv)
    assert py.wait(120) == 0
    assert go.wait(120) == 0
    assert int(counter.read_text()) == 2 * rounds
