"""Handlers every member of a call uses: `ping` and `signal` (SDP/ICE relayed to the other member)."""

from __future__ import annotations

from session_queue import SessionQueue

from server.db.types import utcnow
from server.protocol import messages as m
from server.protocol import outbound as out
from server.protocol.addresses import CASEWORKER, KIOSK, caseworker_address, kiosk_address
from server.signaling.connection import Connection
from server.signaling.handlers import HandlerTables, SignalingError
from server.signaling.hub import Hub
from server.signaling.keepalive import KeepAlive


class CallHandlers:
    """`ping` for everyone; `signal` between the two members of a live call only."""

    def __init__(self, hub: Hub, queue: SessionQueue, keepalive: KeepAlive) -> None:
        self.hub = hub
        self.queue = queue
        self.keepalive = keepalive

    def register(self, tables: HandlerTables) -> None:
        """Add these handlers to the role tables."""
        tables.register(m.ALLOWED_TYPES, "ping", self.ping)
        tables.register((KIOSK, CASEWORKER), "signal", self.signal)

    async def ping(self, connection: Connection, message: m.Ping) -> out.Pong:
        """Refresh presence (throttled) and answer `pong`."""
        await self.keepalive.heartbeat(connection)
        return out.pong(utcnow().timestamp())

    async def signal(self, connection: Connection, message: m.Signal) -> None:
        """Relay a description or candidate to the other member of the call."""
        peer = connection.call_peers.get(message.call_id) or await self.call_peer(connection, message.call_id)
        if peer is None:
            raise SignalingError("not_in_call", "不在这个通话中")
        sender = KIOSK if connection.principal.role == KIOSK else CASEWORKER
        await self.hub.relay(peer, out.signal(message.call_id, sender, message.data.model_dump(exclude_unset=True)))

    async def call_peer(self, connection: Connection, call_id: str) -> str | None:
        """The other member of a live call this connection belongs to (checked against the queue);
        remembered in call_peers unless a call of this connection ended while the queue was asked
        (its `call_ended` has already cleared the map, and a stale entry would outlive the call)."""
        ends = connection.call_ends
        live = await self.queue.ticket(call_id)
        if live is None or live.state != "in_call" or not live.caseworker_id:
            return None
        principal = connection.principal
        if principal.role == KIOSK and live.kiosk_id == str(principal.kiosk_id):
            peer = caseworker_address(live.caseworker_id)
        elif principal.role == CASEWORKER and live.caseworker_id == str(principal.user_id):
            peer = kiosk_address(live.kiosk_id)
        else:
            return None
        if connection.call_ends == ends:
            connection.call_peers[call_id] = peer
        return peer
