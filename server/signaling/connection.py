"""One client's WebSocket: its principal, its outgoing messages, its limits."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.auth.principal import Principal
from server.protocol import outbound as out
from server.signaling.rate_limit import TokenBucket

log = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 20.0
BURST = 60.0
# A connection that keeps flooding after being told is closed.
MAX_REFUSED = 200
# ... within any REFUSED_WINDOW_S seconds: bursts hours apart (or a sibling socket spending the
# shared budget now and then) never add up to a close.
REFUSED_WINDOW_S = 60.0
CLOSE_FLOOD = 4429
CLOSE_SETUP = 4400
CLOSE_REVOKED = 4401
# WebSocket ping interval, and how often each connection's presence and sign-in session are re-checked.
HEARTBEAT_S = 20.0


def first_check_at() -> float:
    """When a new connection's first keep-alive check is due (monotonic time).

    Randomised within the first interval so that connections opened together (a server restart,
    a burst of reconnects) are not all due in the same moment every interval afterwards."""
    return time.monotonic() + HEARTBEAT_S * random.uniform(0.25, 1.0)


@dataclass(eq=False)
class Connection:
    """A live WebSocket of a signed-in principal."""

    ws: web.WebSocketResponse
    principal: Principal
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(MESSAGES_PER_SECOND, BURST))
    # When the last MAX_REFUSED + 1 refusals happened (time.monotonic()), for the flood rule.
    refusals: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_REFUSED + 1))
    # Per-connection facts filled after hello: the caseworker's street and skills, the kiosk's ticket.
    street_id: int | None = None
    skills: list[str] = field(default_factory=list)
    # What the caseworker last asked to be (available / break + reason), to sign them in to the
    # queue again if Redis loses its state while their console stays connected.
    desired_status: str | None = None
    desired_reason: str = ""
    ticket_id: str | None = None
    last_ticket_view: dict[str, Any] | None = None
    # Calls this connection may signal in, with the other member's address. A kiosk's signal can
    # fill this before its `call` is sent (the caseworker's offer is relayed directly and may
    # overtake the queue's event), so it does not say whether `call` went out.
    call_peers: dict[str, str] = field(default_factory=dict)
    # Calls whose `call` message (or welcome state) this connection has had.
    calls_announced: set[str] = field(default_factory=set)
    # How many times a call of this connection has ended: a lookup of a call's peer that spans an
    # end (it awaits the queue) must not put the ended call back into call_peers.
    call_ends: int = 0
    # When this connection last refreshed its presence (monotonic; welcome touches it first).
    presence_touched_at: float = field(default_factory=time.monotonic)
    # When the keep-alive sweep next re-checks this connection (monotonic; see signaling.keepalive).
    check_due_at: float = field(default_factory=first_check_at)
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Messages for this connection made while its welcome is being built (it is registered before,
    # so a ticket or peer event may come first): sent right after the welcome, in order. None once
    # the welcome is out.
    _held: list[str] | None = field(default_factory=list)

    @property
    def key(self) -> str:
        """The principal's address."""
        return self.principal.address

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send one message; a closed socket is ignored (its handler is already cleaning up)."""
        await self.send_text(json.dumps(message, ensure_ascii=False, separators=(",", ":")))

    async def send_text(self, data: str) -> None:
        """Send one message already serialised as JSON text (see `send`); held until the welcome."""
        if self._held is not None:
            self._held.append(data)
            return
        await self._write(data)

    async def send_welcome(self, welcome: Mapping[str, Any]) -> None:
        """Send the welcome, then whatever was held for the connection meanwhile."""
        held, self._held = self._held or [], None
        await self._write(json.dumps(welcome, ensure_ascii=False, separators=(",", ":")))
        for data in held:
            await self._write(data)

    async def _write(self, data: str) -> None:
        if self.ws.closed:
            return
        async with self._send_lock:
            try:
                await self.ws.send_str(data)
            except (ConnectionResetError, RuntimeError) as exc:
                log.debug("send to closed websocket", extra={"error": type(exc).__name__})

    def count_refusal(self) -> bool:
        """Count one refused (rate-limited) frame; True when the connection is flooding: more than
        MAX_REFUSED refusals within any REFUSED_WINDOW_S (a sliding window)."""
        now = time.monotonic()
        self.refusals.append(now)
        return len(self.refusals) > MAX_REFUSED and now - self.refusals[0] <= REFUSED_WINDOW_S

    async def error(self, code: str, message: str, ref: Any = None, details: Mapping[str, str] | None = None) -> None:
        """Send an error (with `ref` when answering a request, and the code's own details); not
        held: before the welcome it answers the client's own first frame."""
        await self._write(json.dumps(out.error(code, message, ref, details), ensure_ascii=False,
                                     separators=(",", ":")))
