"""A protocol-v1 client (docs/protocol.md): HTTP sign-in, WebSocket hello/welcome, requests, waiting.

Every message received is kept in order (`message_log.py`); handlers registered per message type
run as messages arrive (the peers use them for `signal`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from server.protocol.messages import PROTOCOL_VERSION, WS_PATH
from server.simulate.backoff import reconnect_delay_s
from server.simulate.message_log import Message, MessageLog, Predicate

Handler = Callable[[Message], None]


class ProtocolError(Exception):
    """The server refused a request (`error` message) or broke the protocol."""

    def __init__(self, code: str, message: str = "", retry_after_ms: int = 0) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        # The admission rule's hint with `try_again` (docs/protocol.md "Admission").
        self.retry_after_ms = retry_after_ms


def of_type(type_: str, **fields: Any) -> Predicate:
    """A predicate: message of this type whose top-level fields equal `fields`."""
    def match(message: Message) -> bool:
        return message.get("type") == type_ and all(message.get(k) == v for k, v in fields.items())
    return match


class ProtocolClient(MessageLog):
    """One signed-in actor (kiosk or staff) and its current WebSocket connection."""

    def __init__(self, base_url: str, name: str = "client", *, http: aiohttp.ClientSession | None = None,
                 record: bool = True, urls: Sequence[str] | None = None, failover: bool = False) -> None:
        super().__init__(name)
        self.base_url = base_url.rstrip("/")
        # Failover: every server process of the service; after an unexpected close the client
        # reconnects (hello + resume) to the first that answers, trying its own process first.
        self.urls = [u.rstrip("/") for u in urls] if urls else [self.base_url]
        if self.base_url not in self.urls:
            self.urls.insert(0, self.base_url)
        self.failover = failover
        self.reconnects = 0
        self.refusals = 0  # `try_again` refusals met while reconnecting
        # Reconnect backoff (server.simulate.backoff): fast, since chaos runs measure failover time.
        self.backoff_base_s = 0.1
        self.backoff_cap_s = 1.0
        self.reconnect_timeout_s = 60.0
        self._login: Callable[[], Awaitable[Message]] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False
        self.failover_error: str | None = None
        # 127.0.0.1 is an IP host: the default jar would refuse the session cookie.
        self._owns_http = http is None
        self.http = http or aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.record = record
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.welcome: Message = {}
        self.handlers: dict[str, list[Handler]] = {}
        self.close_code: int | None = None
        self._open = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._in_flight = 0

    # ---- HTTP sign-in --------------------------------------------------------------------

    async def login_kiosk(self, token: str) -> Message:
        """Exchange a kiosk device token for a kiosk session cookie."""
        self._login = lambda: self._post("/api/v1/kiosk/session", {"token": token})
        return await self._login()

    async def login_staff(self, username: str, password: str) -> Message:
        """Sign a staff member in (session cookie)."""
        self._login = lambda: self._post("/api/v1/auth/login", {"username": username, "password": password})
        return await self._login()

    async def _post(self, path: str, body: Message) -> Message:
        async with self.http.post(self.base_url + path, json=body) as response:
            data: Message = await response.json()
            if response.status != 200:
                error = data.get("error", {})
                raise ProtocolError(error.get("code", f"http_{response.status}"), error.get("message", ""))
            return data

    async def get_json(self, path: str) -> Any:
        """GET an API path and return its JSON body (raises for non-200)."""
        async with self.http.get(self.base_url + path) as response:
            response.raise_for_status()
            return await response.json()

    # ---- WebSocket -----------------------------------------------------------------------

    async def open(self, *, origin: str | None = None, timeout: float = 10.0) -> None:
        """Open the WebSocket without saying hello (raises WSServerHandshakeError when refused)."""
        await self.drop()
        headers = {"Origin": origin} if origin else None
        self.ws = await self.http.ws_connect(self.ws_url, headers=headers, timeout=aiohttp.ClientWSTimeout(
            ws_receive=None, ws_close=timeout), heartbeat=None, max_msg_size=0)
        self.close_code = None
        self._open.set()
        self._reader = asyncio.create_task(self._read(self.ws), name=f"ws-read-{self.name}")

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint of the server."""
        return self.base_url.replace("http", "ws", 1) + WS_PATH

    async def connect(self, *, resume: bool | str = False, timeout: float = 10.0) -> Message:
        """Open the WebSocket, send `hello`, return `welcome`.

        `resume=True` resumes with the last welcome's token; a string is the token to resume with.
        """
        await self.open(timeout=timeout)
        mark = self.mark()
        hello: Message = {"type": "hello", "v": PROTOCOL_VERSION}
        token = resume if isinstance(resume, str) else self.welcome.get("resume_token") if resume else None
        if token:
            hello["resume"] = token
        await self.send(hello)
        reply = await self.wait_for(lambda m: m.get("type") in {"welcome", "error"}, timeout, start=mark)
        if reply["type"] == "error":
            raise ProtocolError(reply.get("code", "error"), reply.get("message", ""),
                                int(reply.get("retry_after_ms") or 0))
        self.welcome = reply
        return reply

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            message["_at"] = time.monotonic()
            if self.record:
                self.messages.append(message)
            for handler in self.handlers.get(message.get("type", ""), ()):
                handler(message)
            self._wake()
        if ws is self.ws:
            self.close_code = ws.close_code
            self._open.clear()
            # Requests waiting for an answer get this instead of timing out (handlers do not see it).
            self.messages.append({"type": "error", "code": "disconnected", "local": True, "_at": time.monotonic()})
            if self.failover and not self._closing and self._reconnecting is None:
                self._reconnecting = asyncio.create_task(self._failover(), name=f"failover-{self.name}")
        self._wake()

    async def _failover(self) -> None:
        try:
            await self.reconnect(self.reconnect_timeout_s)
        except Exception as exc:  # reported through `failover_error`
            self.failover_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._reconnecting = None

    async def reconnect(self, timeout: float) -> Message:
        """Reconnect with `hello` + `resume`, trying this process first, then the others, with backoff.

        A refused upgrade (401: the sign-in is gone) signs in again; a refused resume token (e.g.
        lost with Redis) is dropped and a plain `hello` sent. Returns the new `welcome`.
        """
        deadline = time.monotonic() + timeout
        start = self.urls.index(self.base_url) if self.base_url in self.urls else 0
        order = self.urls[start:] + self.urls[:start]
        attempt, last, hint_s = 0, "", 0.0
        while time.monotonic() < deadline and not self._closing:
            url = order[attempt % len(order)]
            attempt += 1
            self.base_url = url
            try:
                if self.close_code == 4401 and self._login is not None:
                    await self._login()
                welcome = await self.connect(resume=True, timeout=5)
                self.reconnects += 1
                return welcome
            except aiohttp.WSServerHandshakeError as exc:
                last = f"{url}: upgrade refused {exc.status}"
                if exc.status == 401 and self._login is not None:
                    with contextlib.suppress(Exception):
                        await self._login()
            except ProtocolError as exc:
                last = f"{url}: {exc}"
                hint_s = max(hint_s, exc.retry_after_ms / 1000)
                self.refusals += exc.code == "try_again"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                last = f"{url}: {type(exc).__name__}"
            await self.drop()
            if attempt % len(order) == 0:
                # Every process tried: back off (full jitter), after the longest hint they gave.
                rounds = attempt // len(order) - 1
                await asyncio.sleep(reconnect_delay_s(rounds, self.backoff_base_s, self.backoff_cap_s, hint_s))
                hint_s = 0.0
        raise TimeoutError(f"{self.name}: no server took the reconnect within {timeout:.0f}s ({last})")

    async def sever(self) -> None:
        """Close the WebSocket as if the network dropped it: with `failover`, the client comes back by itself."""
        ws = self.ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)

    @property
    def connected(self) -> bool:
        """True while the WebSocket is open."""
        return self.ws is not None and not self.ws.closed

    async def wait_connected(self, timeout: float) -> None:
        """Return once a WebSocket is open (e.g. after a reconnect); TimeoutError otherwise."""
        await asyncio.wait_for(self._open.wait(), timeout)

    async def send(self, message: Message) -> None:
        """Send one message as JSON."""
        await self.send_raw(json.dumps(message, ensure_ascii=False))

    async def send_raw(self, text: str) -> None:
        """Send a raw text frame (for malformed-input tests)."""
        if self.ws is None or self.ws.closed:
            raise ProtocolError("not_connected", f"{self.name} has no open WebSocket")
        await self.ws.send_str(text)

    async def request(self, message: Message, timeout: float = 10.0, *, ref: int | None = None) -> Message:
        """Send with an `id` (`ref`, else the next of this client) and return the server's answer to it."""
        ref = next(self._ids) if ref is None else ref
        mark = self.mark()
        self._in_flight += 1
        try:
            await self.send({**message, "id": ref})
            # `ok`/`error`, or a reply of its own kind carrying `ref` (`ping` → `pong`); a local
            # `disconnected` error when the connection dropped before the answer came.
            return await self.wait_for(lambda m: m.get("ref") == ref or bool(m.get("local")), timeout, start=mark,
                                       what=f"reply to {ref}")
        finally:
            self._in_flight -= 1

    async def settle(self, timeout: float) -> None:
        """Wait (at most `timeout`) until no request is waiting for its answer."""
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            await self._arrival(deadline - time.monotonic())

    async def call(self, message: Message, timeout: float = 10.0) -> Message:
        """Like request(), raising ProtocolError when refused."""
        reply = await self.request(message, timeout)
        if reply["type"] == "error":
            raise ProtocolError(reply.get("code", "error"), reply.get("message", ""))
        return reply

    def on(self, type_: str, handler: Handler) -> None:
        """Run `handler(message)` for every message of `type_` as it arrives."""
        self.handlers.setdefault(type_, []).append(handler)

    async def wait_closed(self, timeout: float) -> int | None:
        """Wait until the server closes the WebSocket; return the close code."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def drop(self) -> None:
        """Close the WebSocket (a network drop as the server sees it); keep the sign-in."""
        ws, reader = self.ws, self._reader
        self.ws, self._reader = None, None
        self._open.clear()
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def close(self) -> None:
        """Close the WebSocket and, if this client made it, the HTTP session."""
        self._closing = True
        task = self._reconnecting
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.drop()
        if self._owns_http:
            await self.http.close()
