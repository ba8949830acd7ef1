"""Fan-out between server processes and the translation of queue events into client messages.

Every message for a client goes through one Redis channel (`jl:ws`) addressed to a principal
(`kiosk:3`, `caseworker:7`); each process delivers what it receives to its own connections.
Queue transitions arrive on the engine's channel; each process turns those that concern its own
connections into `ticket`, `agent`, `offer`, `call` and `call_ended` messages. No sticky sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from session_queue import QueueEvent, SessionQueue, Transition, parse_event

from server import redis_keys
from server.protocol.messages import out
from server.signaling.connection import CLOSE_REVOKED, Connection
from server.signaling.presence import Presence
from server.signaling.views import ViewBuilder

log = logging.getLogger(__name__)

RESUBSCRIBE_DELAY_S = 0.5


def call_end_reason(tr: Transition) -> str:
    """Why a call ended, from the ticket transition that ended it."""
    if tr.kind == "transfer":
        return "transferred"
    if tr.to_state in ("requeued", "waiting"):
        return "peer_gone"  # the caseworker dropped; the ticket went back to the front
    return "ended"


class Hub:
    """This process's connections, and the listener that feeds them."""

    def __init__(self, redis: aioredis.Redis, queue: SessionQueue, views: ViewBuilder) -> None:
        self.redis = redis
        self.queue = queue
        self.views = views
        self.presence = Presence(redis)
        self.local: dict[str, set[Connection]] = defaultdict(set)
        self.kiosk_of_ticket: dict[str, str] = {}
        self._ready = asyncio.Event()

    # -- registry ---------------------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        """Register a connection for delivery."""
        self.local[connection.key].add(connection)

    def remove(self, connection: Connection) -> None:
        """Forget a closed connection."""
        connections = self.local.get(connection.key)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self.local[connection.key]

    def watch_ticket(self, connection: Connection, ticket_id: str | None) -> None:
        """Route this ticket's queue events to the kiosk connection."""
        connection.ticket_id = ticket_id
        connection.last_ticket_view = None
        if ticket_id is not None:
            self.kiosk_of_ticket[ticket_id] = connection.key

    # -- sending ----------------------------------------------------------------------------

    async def send_to(self, keys: Iterable[str], message: dict[str, Any]) -> None:
        """Deliver a message to every connection of these principals, in whichever process."""
        payload = json.dumps({"to": list(keys), "msg": message}, ensure_ascii=False, separators=(",", ":"))
        await self.redis.publish(redis_keys.WS_CHANNEL, payload)

    async def _deliver(self, keys: Iterable[str], message: dict[str, Any]) -> None:
        for key in keys:
            for connection in list(self.local.get(key, ())):
                await connection.send(message)

    async def close_sessions(self, key: str, token_hash: str | None = None) -> None:
        """Close, in every process, the WebSockets of a principal (only one sign-in session's if given)."""
        payload = json.dumps({"to": [key], "close": {"token_hash": token_hash}})
        await self.redis.publish(redis_keys.WS_CHANNEL, payload)

    async def _close_local(self, keys: Iterable[str], token_hash: str | None) -> None:
        for key in keys:
            for connection in list(self.local.get(key, ())):
                if token_hash is None or connection.principal.token_hash == token_hash:
                    await connection.ws.close(code=CLOSE_REVOKED, message=b"signed out")

    # -- listening --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Listen to both channels until stopped; resubscribe after Redis restarts."""
        while not stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(redis_keys.WS_CHANNEL, self.queue.keys.channel)
                self._ready.set()
                while not stop.is_set():
                    message = await pubsub.get_message(timeout=0.5)
                    if message is not None:
                        await self._dispatch(message)
            except (RedisError, OSError) as exc:
                log.warning("hub subscription lost; resubscribing", extra={"error": type(exc).__name__})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESUBSCRIBE_DELAY_S)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until the listener is subscribed (so no message published after this is missed)."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        try:
            if channel == redis_keys.WS_CHANNEL:
                envelope = json.loads(message["data"])
                if "close" in envelope:
                    await self._close_local(envelope["to"], envelope["close"].get("token_hash"))
                else:
                    await self._deliver(envelope["to"], envelope["msg"])
            else:
                await self._on_queue_event(parse_event(message["data"]))
        except Exception:
            # One bad event must not stop delivery of every later one.
            log.exception("hub failed to handle a message", extra={"channel": channel})

    # -- queue events -> client messages ----------------------------------------------------

    async def _on_queue_event(self, event: QueueEvent) -> None:
        for tr in event.transitions:
            if tr.entity == "ticket" and tr.ticket_id:
                await self._ticket_transition(tr)
            elif tr.entity == "caseworker" and tr.caseworker_id:
                await self._caseworker_transition(tr)
        if event.moved_skills:
            await self._refresh_positions(set(event.moved_skills))

    async def _ticket_transition(self, tr: Transition) -> None:
        assert tr.ticket_id is not None
        kiosk_key = self.kiosk_of_ticket.get(tr.ticket_id)
        call_ended = tr.from_state == "in_call" and tr.to_state != "in_call"
        if call_ended:
            message = out("call_ended", call_id=tr.ticket_id, session_id=tr.ticket_id,
                          reason=call_end_reason(tr), outcome=tr.extra.get("outcome"),
                          case_number=await self.views.case_number(tr.ticket_id) if tr.kind == "end_call" else "")
            for connections in [self.local.get(kiosk_key, set()) if kiosk_key else set(),
                                self.local.get(f"caseworker:{tr.caseworker_id}", set())]:
                for connection in list(connections):
                    connection.call_peers.pop(tr.ticket_id, None)
                    await connection.send(message)
        if kiosk_key is None or kiosk_key not in self.local:
            return
        if tr.to_state == "in_call" and tr.from_state != "in_call":
            call = await self.views.call(tr.ticket_id, "answerer", peer_online=True)
            for connection in list(self.local.get(kiosk_key, ())):
                if call is not None and tr.caseworker_id:
                    connection.call_peers[tr.ticket_id] = f"caseworker:{tr.caseworker_id}"
                    await connection.send(out("call", call=call))
        await self._send_ticket(kiosk_key, tr.ticket_id)
        if tr.to_state in ("done", "cancelled", "abandoned"):
            self.kiosk_of_ticket.pop(tr.ticket_id, None)

    async def _send_ticket(self, kiosk_key: str, ticket_id: str) -> None:
        view = await self.views.ticket(ticket_id)
        if view is None:
            return
        data = view.model_dump(mode="json")
        for connection in list(self.local.get(kiosk_key, ())):
            if connection.ticket_id == ticket_id and connection.last_ticket_view != data:
                connection.last_ticket_view = data
                await connection.send({"type": "ticket", "ticket": data})

    async def _caseworker_transition(self, tr: Transition) -> None:
        key = f"caseworker:{tr.caseworker_id}"
        connections = self.local.get(key)
        if not connections:
            return
        assert tr.caseworker_id is not None
        messages: list[dict[str, Any]] = []
        if tr.from_state == "offered" and tr.to_state != "in_call" and tr.ticket_id:
            messages.append(out("offer_withdrawn", ticket_id=tr.ticket_id, reason=tr.kind))
        if tr.to_state == "offered" and tr.ticket_id:
            offer = await self.views.offer(tr.ticket_id)
            if offer is not None:
                messages.append(out("offer", offer=offer))
        if tr.to_state == "in_call" and tr.ticket_id:
            call = await self.views.call(tr.ticket_id, "offerer", peer_online=True)
            if call is not None:
                ticket = await self.queue.ticket(tr.ticket_id)
                for connection in list(connections):
                    if ticket is not None:
                        connection.call_peers[tr.ticket_id] = f"kiosk:{ticket.kiosk_id}"
                messages.append(out("call", call=call))
        messages.append(out("agent", agent=await self.views.agent(int(tr.caseworker_id))))
        for message in messages:
            for connection in list(connections):
                await connection.send(message)

    async def _refresh_positions(self, skills: set[str]) -> None:
        """Send new places in line to local waiting kiosks: one Redis round trip, no database."""
        waiting = [c for key, cs in self.local.items() if key.startswith("kiosk:") for c in cs
                   if c.ticket_id is not None and c.last_ticket_view is not None
                   and c.last_ticket_view.get("state") in ("waiting", "offered", "requeued")]
        if not waiting:
            return
        places = await self.queue.positions([c.ticket_id for c in waiting if c.ticket_id])
        for connection in waiting:
            place = places.get(connection.ticket_id or "")
            if place is None or place.position is None or connection.last_ticket_view is None:
                continue
            data = {**connection.last_ticket_view, "position": place.position,
                    "est_wait_s": None if place.est_wait_s is None else round(place.est_wait_s)}
            if data != connection.last_ticket_view:
                connection.last_ticket_view = data
                await connection.send({"type": "ticket", "ticket": data})
