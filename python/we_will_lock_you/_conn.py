"""One pipelined connection per (process, server, auth token), shared by every thread.

Writes: whole frames under ``_wlock``. Reads: whoever holds ``_rlock`` reads the socket and
dispatches every reply to the call waiting for it (by ``req``). A thread waiting for a reply
reads the socket itself when nobody else does (leader/follower): the common case -- one thread
doing acquire/release -- then never switches threads, which in CPython costs more than the
network round trip; when nobody else reads it does so without even registering as a waiter
(``_wait``'s fast path). Other waiters sleep on a ``_thread`` lock of their own, made the first
time they must sleep; a leader that got its reply hands the socket to one of them. When no thread waits, the reader thread
reads (pushes: LOST, SHUTDOWN, PONG, connection death); it yields the socket to any caller
through a wake pipe and takes it back only after callers stayed away for ``_IDLE_TAKEOVER``.
A timer thread sends heartbeat PINGs, renews leases and declares a silent server dead.

Fork: a child never touches its parent's connection (its threads do not exist there, and a hold
belongs to the parent's session). ``os.register_at_fork`` drops every connection in the child and
closes the child's copy of each socket, so the server still sees the parent's connection close
when the parent exits, whatever the child does.
"""

from __future__ import annotations

import _thread
import collections
import heapq
import select
import itertools
import os
import socket
import threading
import time
import weakref
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import _dial
from . import _wire as wire
# Re-exported: the primitives call these through this module.
from ._dial import DEFAULT_REMOTE, default_auth, default_remote, encode_name, parse_remote  # noqa: F401
from .errors import error_for as server_error  # noqa: F401
from .errors import ConnectionLostError, ProtocolError


# The reader thread takes the socket back from callers only after none waited this long, so a
# thread doing acquire/release in a loop keeps reading its own replies.
_IDLE_TAKEOVER = 0.01
_IDLE_POLL = 0.05
# Release pipelining (see release_write): a RELEASE followed within _LOOP_GAP by the next request
# puts the connection in loop mode, where RELEASEs wait for the next request's write; the flusher
# thread writes one that waited _FLUSH_TICK (and leaves loop mode). Outside loop mode a RELEASE is
# written at once: no thread wake-up per release (in CPython that costs more than the syscall).
_LOOP_GAP = 0.0002
_FLUSH_TICK = 0.0005
_LOOP_IDLE = 0.05
# Loop mode pays for its polling only while releases come faster than the flusher wakes: a window
# of _RATE_TICKS wake-ups that saw releases, but fewer than one per wake-up (a contended loop,
# where each acquire waits its turn in the queue), ends it, and it is not entered again for
# _LOOP_BACKOFF. Eight contending processes would otherwise wake 16000 times a second to save
# a syscall per 1-2 ms each.
_RATE_TICKS = 10
_LOOP_BACKOFF = 0.1


class Call:
    """One request waiting for its reply. ``done`` is made (acquired) the first time the
    waiter has to sleep -- a caller that reads its own reply never needs it; it is released
    (under the connection's ``_mu``) only while ``blocked``: when the call settles, or when
    the waiter is offered the socket (``offered``)."""

    __slots__ = ("done", "frame", "error", "lock", "abandoned", "settled", "blocked", "offered")

    def __init__(self, lock: Optional[Any] = None) -> None:
        self.done: Optional[Any] = None  # a _thread lock, made by the waiter before it sleeps
        self.frame: Optional[wire.Frame] = None
        self.error: Optional[BaseException] = None
        # The object an ACQUIRE is for: at GRANTED/ACQUIRED the reader calls its
        # _on_granted(conn, req, token, by_op) -> bool (True: track the hold for LOST and failure),
        # or, for an abandoned call, its _give_back(req, token) -> Optional[bytes].
        self.lock = lock
        self.abandoned = False  # the caller gave up: a GRANTED that still comes is released
        self.settled = False  # frame or error is set
        self.blocked = False  # the waiter sleeps on done
        self.offered = False  # the waiter was woken to read the socket itself

    def wake(self) -> None:
        """mu must be held."""
        if self.blocked:
            self.blocked = False
            self.done.release()  # type: ignore[union-attr] (made before blocked was set)


# The pending entry of a request whose reply nobody waits for (a RELEASE): the reader drops the
# reply. One shared object: no allocation per release.
_NO_WAITER = Call()


class Connection:
    """A live session with one server. Safe for use by any number of threads of the process
    that made it; never used after a fork (the child makes its own)."""

    def __init__(self, remote: str, auth: Optional[str]) -> None:
        self.remote = remote
        self._auth = (auth or "").encode("utf-8")
        self._next = itertools.count(1).__next__  # atomic under the GIL
        self._wlock = threading.Lock()  # serialises socket writes; guards _wbuf and loop mode
        self._wbuf = bytearray()  # deferred RELEASEs: they go out with the next write (release_write)
        self._wbuf_since = 0.0  # when _wbuf became non-empty
        self._loop = False  # loop mode; the flusher polls while it is on
        self._last_release = -1.0  # when a RELEASE was last written at once
        self._last_activity = 0.0  # last release_write in loop mode
        self._loop_releases = 0  # release_writes in loop mode since the flusher last counted
        self._no_loop_until = 0.0  # loop mode is not entered before this (see _RATE_TICKS)
        self._kick = _thread.allocate_lock()  # released (once) when loop mode starts
        self._kick.acquire()
        self._mu = threading.Lock()  # guards _pending, _held, _error
        self._pending: Dict[int, Call] = {}
        self._rlock = threading.Lock()  # the right to read the socket, _rbuf and _dec (set by _connect)
        self._rbuf = bytearray(65536)
        self._rview = memoryview(self._rbuf)
        self._waiters: Dict[int, Call] = {}  # calls whose thread is inside wait(), by req
        self._idle = threading.Condition(self._mu)  # the reader thread parks here
        self._last_lead = 0.0  # when a caller last read the socket
        self._reader_polling = False  # the reader thread holds _rlock in poll()
        self._held: Dict[int, Any] = {}  # by the granted ACQUIRE's req (LOST names it)
        self._error: Optional[ConnectionLostError] = None
        self._deferred: Deque[bytes] = collections.deque()  # see defer()
        self._timers: List[Tuple[float, int, Callable[[], None]]] = []
        self._tcv = threading.Condition(threading.Lock())
        self._tseq = itertools.count().__next__
        self._last_send = self._last_recv = time.monotonic()
        self._sock = self._connect()
        self._wake_r, self._wake_w = os.pipe()  # after _connect: nothing to leak if it fails
        os.set_blocking(self._wake_w, False)
        # Closed when the object goes (never earlier: a late _poke must not hit a reused fd).
        self._close_pipe = weakref.finalize(self, _close_fds, self._wake_r, self._wake_w)
        self.pid = os.getpid()
        for f in self._early:  # frames that came right behind WELCOME (a PING, a shutdown)
            try:
                self._dispatch(f)
            except (_ConnClosed, wire.WireError) as e:
                self.fail(e.err if isinstance(e, _ConnClosed) else ProtocolError(str(e)))
        threading.Thread(target=self._read_loop, name=f"wwly-reader {remote}", daemon=True).start()
        threading.Thread(target=self._timer_loop, name=f"wwly-timer {remote}", daemon=True).start()
        threading.Thread(target=self._flush_loop, name=f"wwly-flusher {remote}", daemon=True).start()

    # -- handshake -------------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        sock, welcome, reader = _dial.dial(self.remote, self._auth, self._next())
        _, self.session, hb_ns, timeout_ns = welcome
        # Send something at least every heartbeat; check twice per interval so a PING is never late.
        self.heartbeat = hb_ns / 1e9 if hb_ns > 0 else 0.0
        self.timeout = timeout_ns / 1e9 if timeout_ns > 0 else 0.0
        self._dec, self._early = reader.handover()
        return sock

    # -- requests --------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Writes whole frames; raises ConnectionLostError when the connection is gone."""
        with self._wlock:
            if self._error is not None:
                raise self._error
            if self._wbuf:
                data = bytes(self._wbuf) + data  # deferred frames first: the server keeps the order
                self._wbuf.clear()
            elif not self._loop:
                now = time.monotonic()
                if now - self._last_release < _LOOP_GAP and now >= self._no_loop_until:
                    self._loop = True  # a release-then-request loop: pipeline its next releases
                    self._last_activity = now
                    self._loop_releases = 0
                    self._kick.release()
            try:
                self._sock.sendall(data)
            except OSError as e:
                err = ConnectionLostError(f"wwly: connection to {self.remote} lost: {e}")
            else:
                self._last_send = time.monotonic()
                return
        self.fail(err)
        raise err

    def release_write(self, data: bytes) -> None:
        """Writes a RELEASE: in loop mode it goes out in the same write as the next request (one
        syscall and one server wake-up per acquire/release cycle, as the Go client does), or
        from the flusher after at most _FLUSH_TICK; otherwise at once. Raises
        ConnectionLostError when the connection is gone."""
        with self._wlock:
            if self._loop and self._error is None:
                now = time.monotonic()
                if not self._wbuf:
                    self._wbuf_since = now
                self._wbuf += data
                self._last_activity = now
                self._loop_releases += 1
                return
        self.send(data)
        self._last_release = time.monotonic()

    def _flush_loop(self) -> None:
        """Sleeps until loop mode starts, then polls every _FLUSH_TICK: a RELEASE that waited a
        tick (no request came to carry it) is written and loop mode ends; so does a quiet spell,
        and releases too rare to pay for the polling (_RATE_TICKS)."""
        while True:
            self._kick.acquire()
            ticks = 0
            while True:
                time.sleep(_FLUSH_TICK)
                if self._error is not None:
                    return
                err: Optional[ConnectionLostError] = None
                # Loop mode ends only here, and the flusher then always goes back to _kick:
                # each start of loop mode (one _kick.release()) meets exactly one acquire.
                stop = False
                with self._wlock:
                    now = time.monotonic()
                    ticks += 1
                    stranded = bool(self._wbuf) and now - self._wbuf_since >= _FLUSH_TICK
                    idle = not self._wbuf and now - self._last_activity > _LOOP_IDLE
                    rare = False
                    if ticks >= _RATE_TICKS:
                        rare = 0 < self._loop_releases < ticks
                        ticks, self._loop_releases = 0, 0
                    if stranded or idle or rare:
                        self._loop, stop = False, True
                        if rare:
                            self._no_loop_until = now + _LOOP_BACKOFF
                        if self._wbuf:
                            data = bytes(self._wbuf)
                            self._wbuf.clear()
                            try:
                                self._sock.sendall(data)
                                self._last_send = now
                            except OSError as e:
                                err = ConnectionLostError(f"wwly: connection to {self.remote} lost: {e}")
                if err is not None:
                    self.fail(err)
                    return
                if stop:
                    break

    def start(self, make: Callable[[int], bytes], lock: Optional[Any] = None) -> Tuple[int, Call]:
        """Registers a call under a fresh req and sends the frame ``make(req)``."""
        req = self._next()
        return req, self._register_send(req, make(req), lock)

    def _register_send(self, req: int, frame: bytes, lock: Optional[Any]) -> Call:
        """Registers a call under req and sends frame; a failed send forgets the call again."""
        call = Call(lock)
        with self._mu:
            if self._error is not None:
                raise self._error
            self._pending[req] = call
        try:
            self.send(frame)
        except BaseException:
            with self._mu:
                self._pending.pop(req, None)
            raise
        return call

    def start_deferred(self, make: Callable[[int], bytes]) -> int:
        """As start(), for a RELEASE whose reply nobody waits for, written with release_write."""
        req = self._next()
        with self._mu:
            if self._error is not None:
                raise self._error
            self._pending[req] = _NO_WAITER
        try:
            self.release_write(make(req))
        except BaseException:
            with self._mu:
                self._pending.pop(req, None)
            raise
        return req

    def wait(self, req: int, call: Call) -> wire.Frame:
        """Waits for the reply of ``req``, reading the socket itself when nobody else does.
        If the wait is interrupted (KeyboardInterrupt, ...) an ACQUIRE is cancelled and
        abandoned: a GRANTED that still arrives is released."""
        try:
            self._wait(req, call)
        except BaseException:
            self.abandon(req, call)
            raise
        if call.error is not None:
            raise call.error
        assert call.frame is not None
        return call.frame

    def _wait(self, req: int, call: Call) -> None:
        # Fast path: nobody reads the socket, so this thread does, without registering as a
        # waiter (a thread that comes meanwhile registers first, then finds _rlock free or is
        # offered the socket by _handoff below).
        if not call.settled and self._rlock.acquire(False):
            try:
                while not call.settled:
                    self._read_once()
            finally:
                self._last_lead = time.monotonic()
                self._rlock.release()
                if self._waiters:
                    self._handoff()
            return
        with self._mu:
            if call.settled:
                return
            self._waiters[req] = call
        try:
            while True:
                if self._rlock.acquire(False):
                    try:
                        self._lead(call)
                    finally:
                        self._last_lead = time.monotonic()
                        self._rlock.release()
                        self._handoff()
                    return
                if self._reader_polling:
                    self._poke()  # the reader thread yields the socket and offers it to a waiter
                with self._mu:
                    if call.settled:
                        return
                    if call.offered:  # a leader let go of the socket meanwhile: try again
                        call.offered = False
                        continue
                    if call.done is None:
                        call.done = _thread.allocate_lock()
                        call.done.acquire()
                    call.blocked = True
                call.done.acquire()  # woken by the reply, or by an offer of the socket
                with self._mu:
                    if call.settled:
                        return
                    call.offered = False
        finally:
            with self._mu:
                # No notify: the reader thread re-checks every _IDLE_TAKEOVER on its own; waking
                # it after every call would cost a thread switch per request.
                self._waiters.pop(req, None)

    def _lead(self, call: Call) -> None:
        """Reads and dispatches until call settles. _rlock must be held."""
        while not call.settled:
            if self._error is not None:
                raise self._error  # not reached: fail() settles every registered call
            self._read_once()

    def _read_once(self) -> None:
        """One recv and the dispatch of every frame it completed. _rlock must be held. A
        broken connection fails it (settling every call) instead of raising."""
        if self._error is not None:
            return
        try:
            n = self._sock.recv_into(self._rbuf)  # into one buffer: no 64 KiB allocation per read
            if not n:
                raise _ConnClosed(ConnectionLostError(f"wwly: {self.remote} closed the connection"))
            self._last_recv = time.monotonic()
            for f in self._dec.feed(self._rview[:n]):
                self._dispatch(f)
        except wire.WireError as e:
            self.fail(ProtocolError(f"wwly: {self.remote} broke the protocol: {e}"))
        except _ConnClosed as e:
            self.fail(e.err)
        except OSError as e:
            self.fail(ConnectionLostError(f"wwly: connection to {self.remote} lost: {e}"))

    def _handoff(self) -> None:
        """After letting go of _rlock: offer the socket to one waiter whose reply is still to
        come, so someone reads it; with no waiter the reader thread takes over (later)."""
        with self._mu:
            for c in self._waiters.values():
                if not c.settled:
                    c.offered = True  # seen by the waiter before it sleeps, or wakes it
                    c.wake()
                    return

    def _poke(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # pipe full (already poked) or closed (connection gone)

    def abandon(self, req: int, call: Call) -> None:
        with self._mu:
            if req not in self._pending:
                return
            call.abandoned = True
        try:
            self.start(lambda r: wire.cancel(r, req))
        except ConnectionLostError:
            pass

    def request(self, make: Callable[[int], bytes]) -> wire.Frame:
        req, call = self.start(make)
        return self.wait(req, call)

    def roundtrip(self, req: int, frame: bytes, lock: Optional[Any] = None) -> wire.Frame:
        """start() and wait() for a frame already built with req (from next_req): the hot
        path of Lock.acquire, without a closure per call."""
        return self.wait(req, self._register_send(req, frame, lock))

    def release_hold(self, held_req: int, req: int, frame: bytes, pipelined: bool) -> None:
        """Forgets the hold granted to held_req and sends its RELEASE (built with req), whose
        reply nobody waits for: with release_write when pipelined, else at once."""
        with self._mu:
            self._held.pop(held_req, None)
            if self._error is not None:
                raise self._error
            self._pending[req] = _NO_WAITER
        try:
            if pipelined:
                self.release_write(frame)
            else:
                self.send(frame)
        except BaseException:
            with self._mu:
                self._pending.pop(req, None)
            raise

    def next_req(self) -> int:
        """A fresh request id (for a frame sent later, e.g. by defer())."""
        return self._next()

    def track_held(self, req: int, obj: Any) -> None:
        with self._mu:
            if self._error is None:
                self._held[req] = obj

    def forget_held(self, req: int) -> None:
        with self._mu:
            self._held.pop(req, None)

    def error(self) -> Optional[ConnectionLostError]:
        return self._error

    # -- reader ----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        """Reads while no caller waits; parks while callers lead."""
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while self._error is None:
            with self._mu:
                # Polled, not notified (a notify per call would cost a thread switch per call);
                # 20 wake-ups a second at most while callers lead (a caller on the fast path
                # of _wait is not in _waiters but holds _rlock).
                while self._error is None and (self._waiters or self._rlock.locked()
                                               or time.monotonic() - self._last_lead < _IDLE_TAKEOVER):
                    self._idle.wait(_IDLE_POLL)
            if self._error is not None:
                break
            if not self._rlock.acquire(timeout=_IDLE_TAKEOVER):
                continue
            try:
                self._reader_polling = True
                if self._waiters:
                    continue  # a caller came meanwhile: it leads
                events = poller.poll()
                self._reader_polling = False
                if any(fd == self._wake_r for fd, _ in events):
                    try:
                        os.read(self._wake_r, 512)
                    except OSError:
                        pass
                if any(fd != self._wake_r for fd, _ in events):
                    self._read_once()
            finally:
                self._reader_polling = False
                self._rlock.release()
                # On every way out, the `continue` above too: a caller that found _rlock taken
                # before _reader_polling was set did not poke, and sleeps until offered.
                self._handoff()

    def _dispatch(self, f: wire.Frame) -> None:
        if f.type == wire.PING:
            self.send_quiet(wire.pong(f.req))
            return
        if f.req == 0 and f.type == wire.ERROR:
            name = wire.CODE_NAMES.get(f.code, f"code {f.code}")
            raise _ConnClosed(ConnectionLostError(
                f"wwly: {self.remote} closed the connection: {name}" + (f": {f.msg}" if f.msg else "")))
        if f.type == wire.LOST:
            with self._mu:
                lock = self._held.pop(f.target, None)
            if lock is not None:
                lock._on_lost(f.token, "lease expired" if f.code == wire.LEASE_EXPIRED else
                              wire.CODE_NAMES.get(f.code, str(f.code)))
            return
        give_back: Optional[bytes] = None
        with self._mu:
            call = self._pending.pop(f.req, None)
            if call is _NO_WAITER:
                return
            if call is not None:
                if call.lock is not None and f.type in (wire.GRANTED, wire.ACQUIRED):
                    if call.abandoned:
                        # The caller gave up but holds it (protocol 3.4): give it back.
                        give_back = call.lock._give_back(self._next(), f.token)
                    elif call.lock._on_granted(self, f.req, f.token, f.type == wire.ACQUIRED):
                        self._held[f.req] = call.lock
                call.frame = f
                call.settled = True
                call.wake()
        if give_back is not None:
            self._release_quiet(give_back)
        if call is None and f.type != wire.PONG:
            raise wire.WireError(f"reply 0x{f.type:02x} to unknown req {f.req}")

    def defer(self, frame: bytes) -> None:
        """Sends a fire-and-forget request (its reply is dropped) from the timer thread, within
        a heartbeat. Safe from any context, a finalizer too: it takes no lock."""
        self._deferred.append(frame)

    def _release_quiet(self, frame: bytes) -> None:
        # The RELEASE's own reply (OK) must find a pending entry, so register one.
        (req,) = wire.HEADER.unpack_from(frame, 0)[2:3]
        with self._mu:
            self._pending[req] = _NO_WAITER
        self.send_quiet(frame)

    def send_quiet(self, data: bytes) -> None:
        try:
            self.send(data)
        except ConnectionLostError:
            pass

    # -- timers: heartbeat, lease renewal, silence -----------------------------------------

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        """Runs fn in the timer thread after delay seconds (fn must not block)."""
        with self._tcv:
            heapq.heappush(self._timers, (time.monotonic() + delay, self._tseq(), fn))
            self._tcv.notify()

    def _timer_loop(self) -> None:
        beat = self.heartbeat / 2 if self.heartbeat else 1.0
        while self._error is None:
            now = time.monotonic()
            due: List[Callable[[], None]] = []
            with self._tcv:
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
                nxt = self._timers[0][0] - now if self._timers else beat
                if not due:
                    self._tcv.wait(min(beat, max(nxt, 0.0)))
            for fn in due:
                fn()
            while self._deferred:
                self._release_quiet(self._deferred.popleft())
            now = time.monotonic()
            if self.timeout and now - self._last_recv > self.timeout:
                self.fail(ConnectionLostError(
                    f"wwly: {self.remote} silent for {self.timeout:g}s (no reply to heartbeats)"))
                return
            if self.heartbeat and now - self._last_send >= beat:
                self.send_quiet(wire.ping(0))

    # -- failure ---------------------------------------------------------------------------

    def fail(self, err: ConnectionLostError) -> None:
        """Ends the connection once: every waiting call fails with err, every hold is lost."""
        with self._mu:
            if self._error is not None:
                return
            self._error = err
            pending, self._pending = self._pending, {}
            held, self._held = self._held, {}
        _forget(self)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        with self._tcv:
            self._timers.clear()
            self._tcv.notify()
        with self._mu:
            for call in pending.values():
                if call is _NO_WAITER:
                    continue
                call.error = err
                call.settled = True
                call.wake()
            self._idle.notify_all()
        self._poke()
        with self._wlock:
            if not self._loop:
                self._loop = True
                self._kick.release()  # the flusher wakes, sees _error and ends
        for lock in held.values():
            lock._on_lost(None, str(err))

    def close(self) -> None:
        self.fail(ConnectionLostError(f"wwly: connection to {self.remote} closed by the client"))


def _close_fds(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class _ConnClosed(Exception):
    def __init__(self, err: ConnectionLostError) -> None:
        self.err = err


# -- the per-process registry ----------------------------------------------------------------

_registry: Dict[Tuple[str, str], Connection] = {}
_pid = os.getpid()  # this process's; set again in a forked child (no getpid syscall per call)
_registry_lock = threading.Lock()


def get(remote: str, auth: Optional[str]) -> Connection:
    """The process's live connection to remote, made on first use and after one died."""
    key = (remote, auth or "")
    conn = _registry.get(key)
    if conn is not None and conn._error is None and conn.pid == _pid:
        return conn
    with _registry_lock:
        conn = _registry.get(key)
        if conn is None or conn._error is not None or conn.pid != _pid:
            conn = Connection(remote, auth)
            _registry[key] = conn
        return conn


def _forget(conn: Connection) -> None:
    with _registry_lock:
        key = (conn.remote, conn._auth.decode("utf-8"))
        if _registry.get(key) is conn:
            del _registry[key]


def close_all() -> None:
    """Closes every connection of this process (the server releases their locks)."""
    with _registry_lock:
        conns = list(_registry.values())
    for c in conns:
        c.close()


_after_fork_hooks: "weakref.WeakSet[object]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    global _registry_lock, _pid
    _registry_lock = threading.Lock()
    _pid = os.getpid()
    for conn in list(_registry.values()):
        # Close only this process's copy of the descriptor: no shutdown(), which would end
        # the parent's session too.
        try:
            conn._sock.close()
        except OSError:
            pass
        conn._close_pipe()
        conn._error = ConnectionLostError("wwly: connection belongs to the parent process")
    _registry.clear()
    for obj in list(_after_fork_hooks):
        obj._after_fork()  # type: ignore[attr-defined]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
