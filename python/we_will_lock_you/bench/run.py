"""The benchmark behind ``python -m we_will_lock_you.bench``: the Python client against a raw socket round trip, and
against the Python locks users pick, on one machine in one run.

1. Uncontended: one process, N acquire+release cycles of a wwly Lock vs N 16-byte round trips
   to a Python echo server (another process): p50/mean and their ratio; beside them the floor
   of the protocol in Python: the same cycle as hand-made frames on a bare socket (RELEASE and
   the next ACQUIRE in one write), so what the client adds over the wire is visible in one run.
2. Contended: P worker processes (default 8) on ONE name, each looping acquire -> release for
   --duration seconds after a common start; per backend: ops/s, acquire latency p50/p99,
   Jain's fairness index over the workers' op counts, and an occupancy check (violations).

Servers (wwly, redis-server, etcd) are started on free loopback ports with temp dirs and
stopped after, unless --remote names a running wwly server.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import signal
import socket
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import servers
from .backends import Spec, available, make_lock
from .stats import jain, pct, summary

BACKENDS = ["wwly", "redis", "etcd", "filelock", "fasteners", "mp"]


class _RawCycle:
    """The acquire+release cycle with nothing but a socket: pre-built frames, RELEASE of the
    last grant and the next ACQUIRE in one sendall, reply read until its GRANTED. No pipelining
    of other threads, no failure handling: a floor, not a client."""

    def __init__(self, addr: str) -> None:
        from we_will_lock_you import _dial

        self.sock, _, _ = _dial.dial(addr, b"", 1)
        self.req, self.token, self.name = 1, 0, b"bench/raw-floor"

    def cycle(self) -> None:
        from we_will_lock_you import _wire as wire

        self.req += 2
        out = wire.acquire(self.req, self.name, -1, 0)
        if self.token:
            out = wire.release(self.req - 1, self.name, self.token) + out
        self.sock.sendall(out)
        want = 21 + (13 if self.token else 0)  # GRANTED, after the RELEASE's OK
        buf = b""
        while len(buf) < want:
            buf += self.sock.recv(4096)
        if len(buf) != want or buf[-17] != wire.GRANTED:
            raise RuntimeError(f"raw floor: unexpected reply {buf.hex()}")
        self.token = int.from_bytes(buf[-8:], "big")

    def close(self) -> None:
        self.sock.close()


def uncontended(addr: str, echo_addr: str, n: int) -> Dict[str, Any]:
    """Echo round trips and acquire+release cycles, interleaved in blocks so a noisy neighbour
    hits all alike; the cycles both with the RELEASE pipelined into the next request's write
    (the default) and with it written at once (``_lock.PIPELINE_RELEASE = False``), in one run."""
    from we_will_lock_you import Lock
    from we_will_lock_you import _lock

    host, port = echo_addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * servers.ECHO_SIZE
    lock = Lock(name="bench/uncontended", remote=addr)
    raw = _RawCycle(addr)
    rt: List[float] = []
    cyc: List[float] = []
    at_once: List[float] = []
    floor: List[float] = []
    for _ in range(10):
        for _ in range(n // 10):
            t0 = time.perf_counter()
            raw.cycle()
            floor.append(time.perf_counter() - t0)
        for _ in range(n // 10):
            t0 = time.perf_counter()
            s.sendall(msg)
            got = 0
            while got < len(msg):
                got += len(s.recv(64))
            rt.append(time.perf_counter() - t0)
        for pipelined, out in ((False, at_once), (True, cyc)):
            _lock.PIPELINE_RELEASE = pipelined
            for _ in range(n // 10):
                t0 = time.perf_counter()
                lock.acquire()
                lock.release()
                out.append(time.perf_counter() - t0)
    _lock.PIPELINE_RELEASE = True
    s.close()
    raw.close()
    echo, wwly, once, fl = summary(rt), summary(cyc), summary(at_once), summary(floor)
    return {"echo_round_trip": echo, "wwly_cycle": wwly, "wwly_cycle_release_at_once": once,
            "raw_frames_cycle": fl, "ratio_p50_raw_frames": fl["p50_us"] / echo["p50_us"],
            "ratio_p50": wwly["p50_us"] / echo["p50_us"], "ratio_mean": wwly["mean_us"] / echo["mean_us"],
            "ratio_p50_release_at_once": once["p50_us"] / echo["p50_us"]}


def profile(addr: str, n: int, top: int = 15) -> int:
    """cProfile of n uncontended acquire+release cycles (after 500 to warm up): Python calls per
    cycle and the functions with the most own time. Returns the calls per cycle."""
    import cProfile
    import pstats

    from we_will_lock_you import Lock

    lock = Lock(name="bench/profile", remote=addr)
    for _ in range(500):
        lock.acquire()
        lock.release()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        lock.acquire()
        lock.release()
    prof.disable()
    st = pstats.Stats(prof)
    per = round(st.total_calls / n)  # type: ignore[attr-defined]
    print(f"profile: {n} cycles, {per} Python calls per acquire+release")
    st.sort_stats("tottime").print_stats(top)
    return per


def _worker(spec: Spec, start: Any, duration: float, occ: Any, q: Any) -> None:
    lock = make_lock(spec)
    lock.acquire()  # warm up the client's connection outside the measurement
    lock.release()
    start.wait()
    lat: List[float] = []
    viol = 0
    deadline = time.perf_counter() + duration
    while True:
        t0 = time.perf_counter()
        if t0 >= deadline:
            break
        lock.acquire()
        t1 = time.perf_counter()
        occ[0] += 1
        if occ[0] != 1:
            viol += 1
        occ[0] -= 1
        lock.release()
        lat.append(t1 - t0)
    q.put((len(lat), viol, pct(lat, 50), pct(lat, 99), lat[:: max(1, len(lat) // 2000)]))


def contended(spec: Spec, procs: int, duration: float) -> Dict[str, Any]:
    ctx = mp.get_context("spawn")
    if spec.kind == "mp":
        spec.mp_lock = ctx.Lock()
    start = ctx.Barrier(procs + 1)
    occ = ctx.RawArray("q", 1)
    q = ctx.Queue()
    ps = [ctx.Process(target=_worker, args=(spec, start, duration, occ, q)) for _ in range(procs)]
    for p in ps:
        p.start()
    start.wait(timeout=120)
    t0 = time.perf_counter()
    results = [q.get(timeout=duration + 120) for _ in ps]
    wall = time.perf_counter() - t0
    for p in ps:
        p.join(30)
    counts = [r[0] for r in results]
    sample = sorted(x for r in results for x in r[4])
    return {
        "backend": spec.kind,
        "ops_per_s": sum(counts) / max(wall, duration),
        "p50_us": pct(sample, 50) * 1e6,
        "p99_us": pct(sample, 99) * 1e6,
        "jain": jain(counts),
        "violations": sum(r[1] for r in results),
        "per_worker_ops": counts,
    }


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m we_will_lock_you.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--remote", help="a running wwly server (default: start one)")
    ap.add_argument("--wwly-bin", help="the wwly binary to start (default $WWLY_BIN, PATH, bin/wwly)")
    ap.add_argument("--cycles", type=int, default=5000, help="uncontended cycles per side")
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per contended backend")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--profile", type=int, metavar="N",
                    help="only profile N uncontended cycles with cProfile (calls per cycle, hot functions)")
    args = ap.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the servers started below are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    res: Dict[str, Any] = {"processes": args.processes, "duration_s": args.duration, "skipped": {}}
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="wwly-bench-") as tmp:
        addr = args.remote
        if not addr:
            binary = servers.find_wwly(args.wwly_bin)
            if not binary:
                ap.error("no wwly binary: pass --wwly-bin or --remote (or `make build`)")
            addr = stack.enter_context(servers.start_wwly(binary)).addr
        if args.profile:
            profile(addr, args.profile)
            return 0
        echo = stack.enter_context(servers.start_echo())
        res["uncontended"] = u = uncontended(addr, echo.addr, args.cycles)
        w, e = u["wwly_cycle"], u["echo_round_trip"]
        print(f"uncontended, {args.cycles} each: wwly acquire+release p50 {w['p50_us']:.1f} us "
              f"(mean {w['mean_us']:.1f}); echo round trip p50 {e['p50_us']:.1f} us (mean {e['mean_us']:.1f}); "
              f"ratio p50 {u['ratio_p50']:.2f}x, mean {u['ratio_mean']:.2f}x; with the release written at "
              f"once p50 {u['wwly_cycle_release_at_once']['p50_us']:.1f} us ({u['ratio_p50_release_at_once']:.2f}x); "
              f"floor (hand-made frames, bare socket) p50 {u['raw_frames_cycle']['p50_us']:.1f} us "
              f"({u['ratio_p50_raw_frames']:.2f}x)", flush=True)
        rows = []
        for kind in [b for b in args.backends.split(",") if b]:
            why = available(kind)
            if why:
                res["skipped"][kind] = why
                print(f"{kind}: skipped: {why}", flush=True)
                continue
            spec = Spec(kind=kind, name=f"bench/{kind}", path=str(Path(tmp) / f"{kind}.lock"))
            if kind == "wwly":
                spec.addr = addr
            elif kind == "redis":
                spec.addr = stack.enter_context(servers.start_redis()).addr
            elif kind == "etcd":
                spec.addr = stack.enter_context(servers.start_etcd()).addr
            row = contended(spec, args.processes, args.duration)
            rows.append(row)
            print(f"{kind:10s} {row['ops_per_s']:10.0f} ops/s  p50 {row['p50_us']:9.0f} us  "
                  f"p99 {row['p99_us']:9.0f} us  Jain {row['jain']:.3f}  violations {row['violations']}",
                  flush=True)
        res["contended"] = rows
    _table(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 1 if any(r["violations"] for r in res["contended"]) else 0


def _table(res: Dict[str, Any]) -> None:
    print(f"\n| backend ({res['processes']} processes, one name) | ops/s | acquire p50 | p99 | Jain |")
    print("|---|---:|---:|---:|---:|")
    for r in res["contended"]:
        print(f"| {r['backend']} | {r['ops_per_s']:.0f} | {r['p50_us']:.0f} µs | {r['p99_us']:.0f} µs "
              f"| {r['jain']:.3f} |")
