"""The codec against the worked examples of docs/protocol.md (section 7), byte by byte."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from we_will_lock_you import _wire as wire

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def doc_example(name: str) -> bytes:
    """The hex bytes of one `BEGIN GENERATED example NAME` block of the protocol doc."""
    text = DOC.read_text()
    m = re.search(rf"BEGIN GENERATED example {name} -->\n```\n(.*?)```", text, re.S)
    assert m, name
    out = bytearray()
    for line in m.group(1).splitlines():
        hexpart = re.match(r"((?:[0-9a-f]{2} ?)+)", line)
        assert hexpart
        out += bytes.fromhex(hexpart.group(1).replace(" ", ""))
    return bytes(out)


@pytest.mark.parametrize("name, encoded", [
    ("hello", wire.hello(1, b"s3cret", b"deploy host=web-1 pid=42")),
    ("acquire", wire.acquire(7, b"jobs/42", -1, 30_000_000_000)),
    ("release", wire.release(8, b"jobs/42", 1001)),
    ("cancel", wire.cancel(9, 7)),
    ("renew", wire.renew(10, b"jobs/42", 1001, 30_000_000_000)),
    ("status", wire.status(11, [b"jobs/42"])),
    ("ping", wire.ping(12)),
    ("pong", wire.pong(12)),
    ("op_semaphore_acquire", wire.op(20, wire.SEMAPHORE, wire.A_ACQUIRE, b"gpus", n=2, param=4,
                                     wait_ns=5_000_000_000)),
    ("op_rlock_acquire", wire.op(21, wire.RLOCK, wire.A_ACQUIRE, b"db", flags=wire.F_DETECT, owner=7, wait_ns=-1)),
    ("op_condition_wait", wire.op(22, wire.CONDITION, wire.A_ACQUIRE, b"queue/ready", token=1001,
                                  wait_ns=1_000_000_000, lock=b"queue")),
    ("op_event_set", wire.op(23, wire.EVENT, wire.A_SET, b"go")),
])
def test_encoders_match_doc(name: str, encoded: bytes) -> None:
    assert encoded == doc_example(name)


@pytest.mark.parametrize("name, want", [
    ("welcome", wire.Frame(wire.WELCOME, 1, welcome=(2, 42, 1_000_000_000, 5_000_000_000))),
    ("granted", wire.Frame(wire.GRANTED, 7, token=1001)),
    ("ok", wire.Frame(wire.OK, 8)),
    ("lost", wire.Frame(wire.LOST, 0, token=1001, target=7, code=14, name=b"jobs/42")),
    ("error_request", wire.Frame(wire.ERROR, 7, code=6, msg="timeout")),
    ("error_conn", wire.Frame(wire.ERROR, 0, code=11, msg="bye")),
    ("pong", wire.Frame(wire.PONG, 12)),
    ("acquired_barrier", wire.Frame(wire.ACQUIRED, 24, value=2)),
    ("error_deadlock", wire.Frame(wire.ERROR, 21, code=wire.DEADLOCK,
                                  msg='deadlock: 42/7 waits for "db" -> 43/1 waits for "cache"')),
    ("status_reply", wire.Frame(wire.STATUS_REPLY, 11, entries=[
        wire.StatusEntry(42, 1001, 2, 1_500_000, 29_000_000_000, b"jobs/42")])),
])
def test_decoder_one_byte_at_a_time(name: str, want: wire.Frame) -> None:
    data = doc_example(name)
    dec = wire.Decoder()
    got = []
    for i in range(len(data)):
        got += dec.feed(data[i:i + 1])
    assert got == [want]


def test_many_frames_in_random_chunks() -> None:
    rng = random.Random(1977)
    stream = b"".join(doc_example(n) for n in ("granted", "ok", "lost", "error_request") * 50)
    dec, got, i = wire.Decoder(), [], 0
    while i < len(stream):
        n = rng.randint(1, 40)
        got += dec.feed(stream[i:i + n])
        i += n
    assert len(got) == 200 and got[2].type == wire.LOST


@pytest.mark.parametrize("data", [
    bytes.fromhex("00000008"),  # length < 9
    bytes.fromhex("00010001"),  # length > MaxFrame: rejected from the 4 length bytes alone
    bytes.fromhex("0000000903") + bytes(8),  # ACQUIRE is client-only
    bytes.fromhex("0000000a06") + bytes(9),  # OK with a body
    bytes.fromhex("0000000d04") + bytes(12),  # GRANTED with a 4-byte body
])
def test_malformed(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.Decoder().feed(data)


def test_partial_frame_waits() -> None:
    dec = wire.Decoder()
    assert dec.feed(bytes.fromhex("0000001104") + bytes(7)) == []
    assert dec.feed(bytes(9)) == [wire.Frame(wire.GRANTED, 0, token=0)]


def test_status_reply_count_checked_before_allocation() -> None:
    body = b"\xff\xff"  # claims 65535 entries, has none
    with pytest.raises(wire.WireError):
        wire.decode_body(wire.STATUS_REPLY, 1, body)


def test_negative_welcome_duration_rejected() -> None:
    body = (1).to_bytes(2, "big") + (1).to_bytes(8, "big") + (-1).to_bytes(8, "big", signed=True) + bytes(8)
    with pytest.raises(wire.WireError):
        wire.decode_body(wire.WELCOME, 1, body)


def test_decoder_copies_what_it_keeps_from_a_reused_buffer() -> None:
    """The connection feeds views of one receive buffer it reuses: a partial frame the decoder
    keeps must be a copy, and frames decoded in place must not change when the buffer does."""
    stream = doc_example("granted") + doc_example("ok") + doc_example("lost")
    rbuf = bytearray(64)
    view = memoryview(rbuf)
    dec, got, off, rng = wire.Decoder(), [], 0, random.Random(7)
    while off < len(stream):
        n = min(rng.randint(1, 23), len(stream) - off)
        rbuf[:n] = stream[off:off + n]
        got += dec.feed(view[:n])
        rbuf[:] = b"\xff" * len(rbuf)  # the next recv_into overwrites the buffer
        off += n
    assert got == [wire.Frame(wire.GRANTED, 7, token=1001), wire.Frame(wire.OK, 8),
                   wire.Frame(wire.LOST, 0, token=1001, target=7, code=14, name=b"jobs/42")]


@pytest.mark.parametrize("name", ["a", "jobs/42", "é" * 128])
def test_lock_hot_path_frames_match_the_encoders(name: str) -> None:
    from we_will_lock_you import Lock

    lock = Lock(name=name, remote="127.0.0.1:1")  # never connects: frames only
    raw = name.encode()
    for req, flags, owner, wait in [(1, 0, 0, -1), (2**63, wire.F_DETECT, 2**64 - 1, 5_000_000_000)]:
        assert lock._op_acquire(req, flags, owner, wait) == wire.op(
            req, wire.MUTEX, wire.A_ACQUIRE, raw, flags=flags, owner=owner, wait_ns=wait)
        assert lock._release_frame(req, 1001) == wire.release(req, raw, 1001)
