"""Connecting to a server: TCP, HELLO, WELCOME (docs/protocol.md 3.1). Shared by the
pipelined per-process connection (_conn) and the one-shot queries (_who)."""

from __future__ import annotations

import os
import socket
import time
from typing import List, Optional, Tuple

from . import _wire as wire
from .errors import AuthError, ConnectError, InvalidNameError

CONNECT_TIMEOUT = 5.0
DEFAULT_REMOTE = "127.0.0.1:1977"


def default_remote() -> str:
    """``WWLY_ADDR`` if set, else 127.0.0.1:1977 (the server's default)."""
    return os.environ.get("WWLY_ADDR") or DEFAULT_REMOTE


def default_auth() -> Optional[str]:
    """``WWLY_AUTH_TOKEN`` if set (the Go CLI reads it too)."""
    return os.environ.get("WWLY_AUTH_TOKEN") or None


def encode_name(name: "str | bytes") -> bytes:
    """A lock name as sent on the wire: 1..MaxName bytes (UTF-8 for str)."""
    raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
    if not 1 <= len(raw) <= wire.MAX_NAME:
        raise InvalidNameError(f"lock name must be 1..{wire.MAX_NAME} bytes, got {len(raw)}")
    return raw


def parse_remote(remote: str) -> Tuple[str, int]:
    host, sep, port = remote.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"remote must be 'host:port', got {remote!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def client_field() -> bytes:
    """HELLO's client field by the convention of protocol.md 7.1: NAME host=HOST pid=PID."""
    return f"python host={socket.gethostname()} pid={os.getpid()}".encode()[:256]


class FrameReader:
    """Blocking frame-at-a-time reads of one socket, each by a deadline (handshake, one-shot
    queries; the pipelined connection has its own reader)."""

    def __init__(self, sock: socket.socket, remote: str) -> None:
        self._sock, self._remote = sock, remote
        self._dec = wire.Decoder()
        self._queue: List[wire.Frame] = []

    def next(self, deadline: float, what: str) -> wire.Frame:
        while not self._queue:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectError(f"wwly: {self._remote}: {what}: no reply within {CONNECT_TIMEOUT}s")
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(65536)
            except OSError as e:
                raise ConnectError(f"wwly: {self._remote}: {what}: {e}") from e
            if not data:
                raise ConnectError(f"wwly: {self._remote} closed the connection ({what})")
            try:
                self._queue.extend(self._dec.feed(data))
            except wire.WireError as e:
                raise ConnectError(f"wwly: {self._remote}: {what}: bad reply: {e}") from e
        return self._queue.pop(0)

    def handover(self) -> Tuple[wire.Decoder, List[wire.Frame]]:
        """The decoder (with any partial frame) and the frames decoded but not yet read."""
        queue, self._queue = self._queue, []
        return self._dec, queue


def dial(remote: str, auth: bytes, req: int) -> Tuple[socket.socket, Tuple[int, int, int, int], FrameReader]:
    """Connects and shakes hands; returns the socket (TCP_NODELAY, blocking, no timeout),
    WELCOME's (version, session, heartbeat ns, timeout ns) and a reader holding whatever came
    after WELCOME. Raises ConnectError (AuthError for a refused token) and closes the socket
    on any failure."""
    host, port = parse_remote(remote)
    try:
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except OSError as e:
        raise ConnectError(f"wwly: cannot connect to {remote}: {e}") from e
    try:
        # Small request frames must leave at once, not wait for the previous reply's ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(wire.hello(req, auth, client_field()))
        reader = FrameReader(sock, remote)
        welcome = _welcome(reader, remote, time.monotonic() + CONNECT_TIMEOUT)
        if welcome[0] != wire.VERSION:
            raise ConnectError(f"wwly: {remote} speaks protocol {welcome[0]}, want {wire.VERSION}")
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock, welcome, reader


def _welcome(reader: FrameReader, remote: str, deadline: float) -> Tuple[int, int, int, int]:
    frame = reader.next(deadline, "handshake")
    if frame.type == wire.WELCOME and frame.welcome is not None:
        return frame.welcome
    if frame.type == wire.ERROR:
        name = wire.CODE_NAMES.get(frame.code, str(frame.code))
        cls = AuthError if frame.code == wire.AUTH else ConnectError
        raise cls(f"wwly: {remote} refused the connection: {name}: {frame.msg}")
    raise ConnectError(f"wwly: {remote}: unexpected frame 0x{frame.type:02x} before WELCOME")
