"""SESSIONS / SESSIONS_REPLY (docs/protocol.md 7.16-7.17) and the client convention of 7.1:
the codec against the doc's bytes, a seeded randomized decoder test, parse_who as Go's
ParseWho, and who the server says this process and a Go `wwly lock` holder are."""

from __future__ import annotations

import os
import random
import socket
import struct
import subprocess
import time
import uuid
from typing import List

import pytest
from test_wire import doc_example

import we_will_lock_you as wwly
from we_will_lock_you import _wire as wire
from we_will_lock_you.errors import ConnectError

SEED = int(os.environ.get("WWLY_FUZZ_SEED", "1977"))


def test_sessions_encoder_matches_doc() -> None:
    assert wire.sessions(13, [42]) == doc_example("sessions")
    assert wire.sessions(1, []) == wire.HEADER.pack(11, wire.SESSIONS, 1) + b"\x00\x00"
    with pytest.raises(ValueError):
        wire.sessions(1, list(range(wire.MAX_NAMES + 1)))


def test_sessions_reply_one_byte_at_a_time() -> None:
    data, dec, got = doc_example("sessions_reply"), wire.Decoder(), []
    for i in range(len(data)):
        got += dec.feed(data[i:i + 1])
    assert got == [wire.Frame(wire.SESSIONS_REPLY, 13, sessions=[
        wire.SessionEntry(42, 2, b"deploy host=web-1 pid=4242", b"10.0.0.7:51234")])]
    info = wwly._who.session_info(got[0].sessions[0])
    assert (info.name, info.host, info.pid, info.remote) == ("deploy", "web-1", 4242, "10.0.0.7:51234")


def _entry(session: int, locks: int, client: bytes, remote: bytes) -> bytes:
    return struct.pack(">QIH", session, locks, len(client)) + client + struct.pack(">H", len(remote)) + remote


def _random_entries(rng: random.Random) -> List[wire.SessionEntry]:
    return [wire.SessionEntry(rng.getrandbits(64), rng.getrandbits(32), rng.randbytes(rng.randint(0, 256)),
                              rng.randbytes(rng.randint(0, 60))) for _ in range(rng.randint(0, 20))]


def _body(entries: List[wire.SessionEntry]) -> bytes:
    return struct.pack(">H", len(entries)) + b"".join(_entry(*e) for e in entries)


@pytest.mark.parametrize("body", [
    b"",  # no count
    b"\x00",  # half a count
    b"\xff\xff",  # 65535 entries claimed, none there: refused before any is read
    b"\x00\x01" + bytes(15),  # one entry, one byte short of the smallest
    b"\x00\x01" + struct.pack(">QIH", 1, 0, 5) + b"ab\x00\x00",  # client runs past the body
    b"\x00\x00\x00",  # trailing byte
    _body([wire.SessionEntry(1, 0, b"", b"")]) + b"\x00",
])
def test_sessions_reply_malformed(body: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode_body(wire.SESSIONS_REPLY, 1, body)


def test_sessions_reply_randomized() -> None:
    """Seeded (WWLY_FUZZ_SEED): valid bodies round-trip in random chunks; every cut, bit flip
    and random byte string either decodes or raises WireError, nothing else."""
    rng = random.Random(SEED)
    deadline = time.monotonic() + 5
    for i in range(300):
        if time.monotonic() > deadline:
            break
        entries = _random_entries(rng)
        body = _body(entries)
        assert wire.decode_body(wire.SESSIONS_REPLY, i, body).sessions == entries, f"seed {SEED} round {i}"
        frame, dec, got, off = wire.HEADER.pack(9 + len(body), wire.SESSIONS_REPLY, i) + body, wire.Decoder(), [], 0
        while off < len(frame):
            n = rng.randint(1, 64)
            got += dec.feed(frame[off:off + n])
            off += n
        assert [f.sessions for f in got] == [entries], f"seed {SEED} round {i}"
        mutated = [body[:rng.randint(0, len(body))], bytearray(body), rng.randbytes(rng.randint(0, 64))]
        if body:
            mutated[1][rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        for m in mutated:
            try:
                f = wire.decode_body(wire.SESSIONS_REPLY, i, bytes(m))
            except wire.WireError:
                continue
            assert f.sessions is not None and len(f.sessions) == struct.unpack_from(">H", m)[0]


@pytest.mark.parametrize("client, want", [
    ("wwly lock jobs/42 host=web-1 pid=4242", ("wwly lock jobs/42", "web-1", 4242)),
    ("svc pid=7 host=b", ("svc", "b", 7)),
    ("host=h pid=1", ("", "h", 1)),
    ("web-1/42", ("web-1/42", "", 0)),
    ("", ("", "", 0)),
    ("x pid=abc", ("x pid=abc", "", 0)),
    ("x pid=-3 host=h", ("x pid=-3", "h", 0)),
    ("a host=h", ("a", "h", 0)),
    ("x pid=\u00b2", ("x pid=\u00b2", "", 0)),  # a digit to str.isdigit, not to Go's Atoi
])
def test_parse_who(client: str, want: tuple) -> None:
    assert tuple(wwly.parse_who(client)) == want


def test_sessions_names_this_process(remote: str) -> None:
    lock = wwly.Lock(remote=remote)
    me = wwly.session_id(remote=remote)
    with lock:
        (info,) = wwly.sessions(me, remote=remote)
        assert info.session == me and info.locks >= 1
        assert (info.name, info.host, info.pid) == ("python", socket.gethostname(), os.getpid())
        assert info.client == f"python host={socket.gethostname()} pid={os.getpid()}"
        assert info.remote.startswith("127.0.0.1:")
        assert me in {s.session for s in wwly.sessions(remote=remote)}
    assert wwly.sessions(2**64 - 1, remote=remote) == []  # no such session: left out


def test_sessions_names_a_go_holder(wwly_bin: str, remote: str, tmpdir_path) -> None:
    name, ready = f"who/{uuid.uuid4().hex}", tmpdir_path / "ready"
    go = subprocess.Popen([wwly_bin, "lock", "--addr", remote, name, "--",
                           "sh", "-c", f"touch {ready}; sleep 30"])
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert time.monotonic() < deadline and go.poll() is None, "wwly lock did not take the lock"
            time.sleep(0.02)
        status = wwly._conn.get(remote, None).request(lambda r: wire.status(r, [name.encode()]))
        (entry,) = status.entries
        (info,) = wwly.sessions(entry.holder, remote=remote)
        assert info.pid == go.pid and info.locks == 1 and info.name.startswith("wwly")
    finally:
        go.kill()
        go.wait(10)


def test_sessions_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectError):
        wwly.sessions(remote=f"127.0.0.1:{port}")
