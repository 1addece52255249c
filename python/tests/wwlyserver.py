"""Starts and stops a real `wwly serve` for tests, examples and the benchmark."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, List, Optional


class Server:
    """`wwly serve --addr 127.0.0.1:0` with a temp data dir; ``addr`` is the address it chose."""

    def __init__(self, binary: str, heartbeat: str = "2s", timeout: str = "10s",
                 extra: Optional[List[str]] = None) -> None:
        self.binary = binary
        self.args = ["--heartbeat-interval", heartbeat, "--heartbeat-timeout", timeout] + (extra or [])
        self.dir = Path(tempfile.mkdtemp(prefix="wwly-srv-"))
        self.proc: Optional[subprocess.Popen] = None
        self.addr = ""

    def start(self) -> "Server":
        log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", str(self.dir / "data")] + self.args,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"msg=listening addr=(\S+)", (self.dir / "server.log").read_text())
            if m:
                self.addr = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"wwly serve did not start: {(self.dir / 'server.log').read_text()}")

    def kill(self) -> None:
        """Kills the server at once (SIGKILL): no SHUTDOWN frame, connections just drop."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
