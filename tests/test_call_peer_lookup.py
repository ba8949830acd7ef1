"""A `signal` handler's lookup of the other call member must not outlive the call: when the call
ends while the lookup waits on the queue, the ended call is not remembered for the connection."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiohttp import web
from session_queue import SessionQueue, TicketStatus

from server.auth.principal import Principal
from server.signaling.call_handlers import CallHandlers
from server.signaling.connection import Connection


def _in_call(ticket_id: str) -> TicketStatus:
    return TicketStatus(id=ticket_id, kiosk_id="7", street_id="1", matter_id="m", skill="s", priority="normal",
                        created_at=0.0, state="in_call", fence=1, caseworker_id="3", widened=False,
                        kiosk_gone=False)


class SlowQueue:
    """A queue whose ticket read waits until released (the Redis round trip, drawn out)."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def ticket(self, ticket_id: str) -> TicketStatus:
        self.asked.set()
        await self.release.wait()
        return _in_call(ticket_id)


def _kiosk_connection() -> Connection:
    principal = Principal(role="kiosk", token_hash="", kiosk_id=7)
    return Connection(ws=cast(web.WebSocketResponse, None), principal=principal)


async def test_a_call_that_ends_during_the_lookup_is_not_remembered() -> None:
    queue = SlowQueue()
    handlers = CallHandlers(hub=cast(Any, None), queue=cast(SessionQueue, queue), keepalive=cast(Any, None))
    connection = _kiosk_connection()
    lookup = asyncio.create_task(handlers.call_peer(connection, "t1"))
    await queue.asked.wait()
    # The queue fan-out's `call_ended` for this connection, while the lookup waits.
    connection.call_peers.pop("t1", None)
    connection.call_ends += 1
    queue.release.set()
    assert await lookup == "caseworker:3"  # what the queue said when asked
    assert "t1" not in connection.call_peers


async def test_a_lookup_without_an_end_is_remembered() -> None:
    queue = SlowQueue()
    queue.release.set()
    handlers = CallHandlers(hub=cast(Any, None), queue=cast(SessionQueue, queue), keepalive=cast(Any, None))
    connection = _kiosk_connection()
    assert await handlers.call_peer(connection, "t1") == "caseworker:3"
    assert connection.call_peers == {"t1": "caseworker:3"}
