"""Starts and stops the servers the benchmark and the tests run against, each on a free
loopback port with a temporary directory: `wwly serve`, redis-server, etcd, and a Python echo
server (the round-trip floor)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, List, Optional

ECHO_SIZE = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_wwly(explicit: Optional[str] = None) -> Optional[str]:
    """--wwly-bin, else $WWLY_BIN, else `wwly` on PATH, else bin/wwly of a source checkout."""
    for cand in (explicit, os.environ.get("WWLY_BIN"), shutil.which("wwly")):
        if cand:
            return cand
    repo_bin = Path(__file__).resolve().parents[3] / "bin" / "wwly"
    return str(repo_bin) if repo_bin.exists() else None


class Proc:
    """A server process with its own temp dir; stop() ends it and removes the dir."""

    def __init__(self, argv: List[str], name: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"wwly-{name}-"))
        self.argv = [a.replace("{dir}", str(self.dir)) for a in argv]
        self.name = name
        self.proc: Optional[subprocess.Popen] = None
        self.addr = ""

    @property
    def log(self) -> Path:
        return self.dir / "server.log"

    def start(self) -> "Proc":
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        return self

    def wait_port(self, port: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                self.addr = f"127.0.0.1:{port}"
                return
            except OSError:
                time.sleep(0.05)
        out = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {out}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case a test stopped it
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Proc":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_wwly(binary: str, heartbeat: str = "2s", timeout: str = "10s",
               extra: Optional[List[str]] = None) -> Proc:
    """`wwly serve --addr 127.0.0.1:0`; addr is read from its `listening addr=` log line."""
    p = Proc([binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", "{dir}/data",
              "--heartbeat-interval", heartbeat, "--heartbeat-timeout", timeout] + (extra or []), "wwly")
    p.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        m = re.search(r"msg=listening addr=(\S+)", p.log.read_text(errors="replace"))
        if m:
            p.addr = m.group(1)
            return p
        if p.proc is not None and p.proc.poll() is not None:
            break
        time.sleep(0.02)
    out = p.log.read_text(errors="replace")
    p.stop()
    raise RuntimeError(f"wwly serve did not start: {out}")


def start_redis() -> Proc:
    """redis-server without persistence, as the Go harness runs it."""
    port = free_port()
    p = Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--dir", "{dir}"], "redis").start()
    p.wait_port(port)
    return p


def start_etcd() -> Proc:
    """etcd with its default fsync'd WAL in a temp dir (as deployed)."""
    cport, pport = free_port(), free_port()
    p = Proc(["etcd", "--data-dir", "{dir}/data",
              "--listen-client-urls", f"http://127.0.0.1:{cport}",
              "--advertise-client-urls", f"http://127.0.0.1:{cport}",
              "--listen-peer-urls", f"http://127.0.0.1:{pport}",
              "--initial-advertise-peer-urls", f"http://127.0.0.1:{pport}",
              "--initial-cluster", f"default=http://127.0.0.1:{pport}"], "etcd").start()
    p.wait_port(cport)
    return p


_ECHO = f"""
import socket, sys
ls = socket.socket(); ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(8)
while True:
    c, _ = ls.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        d = c.recv({ECHO_SIZE})
        if not d:
            break
        c.sendall(d)
    c.close()
"""


def start_echo() -> Proc:
    """A blocking Python echo server in its own process: the raw round-trip floor."""
    port = free_port()
    p = Proc([sys.executable, "-c", _ECHO, str(port)], "echo").start()
    p.wait_port(port)
    return p
