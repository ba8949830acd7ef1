"""A WebSocket protocol client for tests (docs/protocol.md), over one aiohttp session each."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

PASSWORD = "p" * 12


@dataclass
class Env:
    """An in-process test server, or (with `base_url`) a server running in another process."""

    server: TestServer | None
    kiosk_tokens: list[str]
    base_url: str = ""

    def url(self, path: str) -> str:
        if self.base_url:
            return self.base_url + path
        assert self.server is not None
        return str(self.server.make_url(path))

    @property
    def app(self) -> Any:
        assert self.server is not None
        return self.server.app


class Client:
    """A protocol client over one aiohttp session (its own cookie jar)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        # unsafe=True: the test server is addressed by IP, whose cookies aiohttp ignores by default.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.backlog: list[dict[str, Any]] = []
        self._reader: asyncio.Task[None] | None = None
        self.welcome: dict[str, Any] = {}

    async def kiosk_login(self, token: str) -> Client:
        response = await self.http.post(self.env.url("/api/v1/kiosk/session"), json={"token": token})
        assert response.status == 200
        return self

    async def staff_login(self, username: str, password: str = PASSWORD) -> Client:
        response = await self.http.post(self.env.url("/api/v1/auth/login"),
                                        json={"username": username, "password": password})
        assert response.status == 200
        return self

    async def connect(self, resume: str | None = None) -> dict[str, Any]:
        self.ws = await self.http.ws_connect(self.env.url("/api/v1/ws"))
        self._reader = asyncio.create_task(self._read())
        await self.send({"type": "hello", "v": 1, **({"resume": resume} if resume else {})})
        self.welcome = await self.expect("welcome")
        return self.welcome

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type == aiohttp.WSMsgType.TEXT:
                await self.inbox.put(json.loads(frame.data))

    async def send(self, message: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def expect(self, type_: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next message of this type (and matching fields); earlier others are dropped.

        Messages that arrived while a `request` waited for its answer are looked at first: the
        server may send a request's effects (e.g. `capture_opened`) before or after its `ok`.
        """
        def wanted(message: dict[str, Any]) -> bool:
            return message["type"] == type_ and all(message.get(k) == v for k, v in match.items())

        while self.backlog:
            message = self.backlog.pop(0)
            if wanted(message):
                return message
        async with asyncio.timeout(timeout):
            while True:
                message = await self.inbox.get()
                if wanted(message):
                    return message

    async def request(self, message: dict[str, Any], ref: int) -> dict[str, Any]:
        """Send with an `id`; the answer carrying that `ref` (other messages are kept for `expect`)."""
        await self.send({**message, "id": ref})
        async with asyncio.timeout(5):
            while True:
                reply = await self.inbox.get()
                if reply.get("ref") == ref:
                    return reply
                self.backlog.append(reply)

    def drain(self) -> list[dict[str, Any]]:
        """Everything received and not yet consumed, in arrival order: the kept `backlog` first."""
        messages, self.backlog = self.backlog, []
        while not self.inbox.empty():
            messages.append(self.inbox.get_nowait())
        return messages

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
        await self.http.close()
