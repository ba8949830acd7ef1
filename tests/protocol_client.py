"""The tests' view of the simulator's protocol client (docs/protocol.md): consume messages in order.

`ProtocolClient` keeps every message it receives; a test reads them like an inbox instead:
`expect` takes the next message of a type (dropping the others before it), `request` takes the
answer to one request and leaves whatever arrived meanwhile for `expect`, and `drain` takes the
rest. Messages are handed out without the client's receive timestamp, as the server sent them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from server.simulate.client import ProtocolClient
from server.simulate.message_log import Message, Predicate

PASSWORD = "p" * 12
EXPECT_TIMEOUT_S = 5.0


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


def _as_sent(message: Message) -> Message:
    return {k: v for k, v in message.items() if k != "_at"}


class Client(ProtocolClient):
    """A protocol client over its own aiohttp session (its own cookie jar), read as an inbox."""

    def __init__(self, env: Env) -> None:
        super().__init__(env.url(""), "test")
        self.env = env
        self._cursor = 0  # messages before this index were consumed (or passed over)
        self._taken: set[int] = set()  # ids of request answers consumed out of order

    async def kiosk_login(self, token: str) -> Client:
        await self.login_kiosk(token)
        return self

    async def staff_login(self, username: str, password: str = PASSWORD) -> Client:
        await self.login_staff(username, password)
        return self

    async def connect(self, *, resume: bool | str = False, timeout: float = 10.0) -> Message:
        """Connect (see ProtocolClient.connect); what came before the `welcome` is passed over."""
        self._cursor = self.mark()
        await super().connect(resume=resume, timeout=timeout)
        self.welcome = await self.expect("welcome")
        return self.welcome

    async def send(self, message: Message | str) -> None:
        """Send a message as JSON, or a text frame as it is (for malformed input)."""
        await (self.send_raw(message) if isinstance(message, str) else super().send(message))

    def _unread(self, message: Message) -> bool:
        # Local `disconnected` notes are the client's own, not something the server sent.
        return id(message) not in self._taken and not message.get("local")

    async def _take(self, predicate: Predicate, timeout: float, what: str) -> Message:
        self._cursor, message = await self.next_matching(lambda m: self._unread(m) and predicate(m), timeout,
                                                         start=self._cursor, what=what)
        return _as_sent(message)

    async def expect(self, type_: str, timeout: float = EXPECT_TIMEOUT_S, **match: Any) -> Message:
        """The next message of this type (and matching fields); earlier others are dropped.

        Messages that arrived while a `request` waited for its answer are looked at too: the
        server may send a request's effects (e.g. `capture_opened`) before or after its `ok`.
        """
        return await self._take(lambda m: m["type"] == type_ and all(m.get(k) == v for k, v in match.items()),
                                timeout, type_)

    async def next_message(self, timeout: float = EXPECT_TIMEOUT_S) -> Message:
        """The next message, whatever its type."""
        return await self._take(lambda m: True, timeout, "message")

    async def request(self, message: Message, timeout: float = EXPECT_TIMEOUT_S, *, ref: int | None = None) -> Message:
        """Send with an `id`; the answer carrying it (other messages are kept for `expect`)."""
        reply = await super().request(message, timeout, ref=ref)
        self._taken.add(id(reply))
        return _as_sent(reply)

    def drain(self) -> list[Message]:
        """Everything received and not yet consumed, in arrival order."""
        rest = [_as_sent(m) for m in self.messages[self._cursor:] if self._unread(m)]
        self._cursor = len(self.messages)
        return rest


@contextlib.asynccontextmanager
async def street_env(data_dir: Path, sites: int = 2, **settings: object) -> AsyncIterator[Env]:
    """An in-process server with one street of `sites` kiosks (no staff) and these settings."""
    from server.app import create_app
    from server.http import app_keys
    from tests.district import add_street
    from tests.helpers import make_settings, prepare_database

    config = make_settings(data_dir, **settings)
    await prepare_database(config)
    app = create_app(config)
    server = TestServer(app)
    await server.start_server()
    try:
        async with app[app_keys.DB_SESSIONS]() as session, session.begin():
            street = await add_street(session, sites=sites)
        yield Env(server=server, kiosk_tokens=street.kiosk_tokens)
    finally:
        await server.close()
