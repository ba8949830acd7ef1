"""The paced listener: a process takes new connections from the kernel at the rate it can serve them.

asyncio's own server accepts every connection waiting in the listen queue each time the socket is
readable (up to the backlog, 4096, in one go). In a reconnect storm that put a thousand upgrades,
hellos and welcomes, and as many refusals, in front of every message of the calls already on the
process: their relay waited seconds behind the setups. This listener takes connections only as the
admission bucket (server/signaling/admission.py, `JINGLIN_WS_ADMIT_RATE`, bursts of
`JINGLIN_WS_ADMIT_BURST`) allows, and while fewer than `JINGLIN_WS_ADMIT_PENDING` setups are in
progress; the rest wait in the kernel's accept queue, which costs the process nothing, and each
loop turn gets at most `BATCH` new connections. A socket that would wait there longer than
`max_wait_s` (the queue's length over the rate, read from the listening socket's TCP_INFO) is taken
anyway and refused by the admission rule with a return slot behind the queue (close 1013,
`retry_after_ms`), so that no client waits for an answer longer than that.

`PacedSite` is an aiohttp site: `jinglin serve` runs the application on it (server/serve.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import struct

from aiohttp import web

from server.signaling.admission import Admission

log = logging.getLogger(__name__)

# New connections handed to the HTTP server in one loop turn, paced or not: each costs an upgrade,
# a hello and a welcome (~1.5 ms) in the turns that follow, in front of the calls' messages.
BATCH = 8
# Over the wait bound, connections taken per turn to be refused (a refusal costs a bare upgrade).
EXCESS_BATCH = 16
# Errors of accept() that mean "no file descriptor or buffer now": wait, then try again.
_RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_RESOURCE_PAUSE_S = 0.1
# With nothing to accept, the queue's length is still read this often (the wait bound).
_RECHECK_S = 1.0
# struct tcp_info: 8 one-byte fields, then u32s; for a listening socket `tcpi_unacked` (the 5th
# u32) is the accept queue's current length (Linux).
_TCP_INFO = struct.Struct("8B5I")


def accept_queue_length(sock: socket.socket) -> int | None:
    """Connections waiting in a listening socket's accept queue, or None where the kernel does not say."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, option, _TCP_INFO.size)
    except OSError:
        return None
    if len(raw) < _TCP_INFO.size:
        return None
    return int(_TCP_INFO.unpack_from(raw)[12])


class PacedListener:
    """Accepts connections on `sock` as `admission` allows and hands them to `protocol_factory`."""

    def __init__(self, sock: socket.socket, protocol_factory: web.Server, admission: Admission,
                 max_wait_s: float) -> None:
        self.sock = sock
        self._factory = protocol_factory
        self._admission = admission
        self._max_wait_s = max_wait_s
        self._task: asyncio.Task[None] | None = None
        self._attaching: set[asyncio.Task[object]] = set()
        self.accepted = 0
        self.taken_beyond_rate = 0
        self._out_of_resources = False

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening socket (aiohttp's runner reads the bound addresses from here)."""
        return [self.sock]

    def start(self) -> None:
        """Begin taking connections."""
        self.sock.setblocking(False)
        self._admission.paced = True
        self._task = asyncio.get_running_loop().create_task(self._run(), name="paced-listener")

    def close(self) -> None:
        """Stop taking connections and close the listening socket (open connections stay)."""
        if self._task is not None:
            self._task.cancel()
        self._admission.paced = False
        if self.sock.fileno() != -1:
            # Before the socket goes: a reader left on its number would outlive it.
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()

    async def wait_closed(self) -> None:
        """Wait for the accept task to end."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._turn(loop)
            except Exception:
                # Never stop listening over one failure: the process would serve no one new.
                log.exception("paced listener failed; going on")
                await asyncio.sleep(_RESOURCE_PAUSE_S)

    async def _turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take one batch of connections, or wait for a token or a connection."""
        allowance = self._admission.accept_allowance()
        excess = self._excess_allowed()
        if allowance == 0 and excess == 0:
            # Pending setups or an empty bucket: 5 ms at most, so a finished setup is seen soon.
            await asyncio.sleep(min(0.005, self._admission.bucket.seconds_until_token()) or 0.005)
            return
        within = min(allowance, BATCH)
        taken = self._accept(within + excess, loop)
        self._admission.bucket.spend(min(taken, within))
        beyond = max(0, taken - within)
        self._admission.excess += beyond
        self.taken_beyond_rate += beyond
        if self._out_of_resources:
            self._out_of_resources = False
            await asyncio.sleep(_RESOURCE_PAUSE_S)
        elif taken == 0:
            await self._readable(loop)
        else:
            await asyncio.sleep(0)  # one batch a loop turn: the calls' messages go between

    def _excess_allowed(self) -> int:
        """Connections to take beyond the rate now: those that would wait longer than the bound."""
        waiting = accept_queue_length(self.sock)
        if waiting is None:
            return 0
        rate = self._admission.rate
        self._admission.queue_wait_s = waiting / rate
        over = waiting - int(rate * self._max_wait_s)
        return max(0, min(EXCESS_BATCH, over))

    def _accept(self, count: int, loop: asyncio.AbstractEventLoop) -> int:
        taken = 0
        while taken < count:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno in _RESOURCE_ERRORS:
                    log.warning("accept failed, pausing", extra={"errno": exc.errno})
                    self._out_of_resources = True
                    break
                raise
            taken += 1
            self.accepted += 1
            conn.setblocking(False)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = loop.create_task(self._attach(conn, loop))
            self._attaching.add(task)
            task.add_done_callback(self._attaching.discard)
        return taken

    async def _attach(self, conn: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await loop.connect_accepted_socket(self._factory, conn)
        except OSError:
            conn.close()  # the client went away before the transport was made

    async def _readable(self, loop: asyncio.AbstractEventLoop) -> None:
        ready: asyncio.Future[None] = loop.create_future()
        fd = self.sock.fileno()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            # Bounded: the queue's length is read again for the wait bound even if nothing arrives.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready, _RECHECK_S)
        finally:
            if self.sock.fileno() == fd:  # close() removed it already otherwise
                loop.remove_reader(fd)


class PacedSite(web.BaseSite):
    """An aiohttp TCP site whose connections are taken by a `PacedListener`."""

    __slots__ = ("_admission", "_host", "_max_wait_s", "_port")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, admission: Admission,
                 max_wait_s: float, backlog: int = 128) -> None:
        super().__init__(runner, backlog=backlog)
        self._host = host
        self._port = port
        self._admission = admission
        self._max_wait_s = max_wait_s

    @property
    def name(self) -> str:
        """The URL served."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        """Bind, listen with the configured accept queue, and start taking connections."""
        await super().start()
        server = self._runner.server
        assert server is not None  # BaseSite's constructor checked the runner is set up
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.create_server((self._host, self._port), family=family, backlog=self._backlog)
        listener = PacedListener(sock, server, self._admission, self._max_wait_s)
        listener.start()
        self._server = listener  # type: ignore[assignment]  # close() and sockets, as an asyncio server
