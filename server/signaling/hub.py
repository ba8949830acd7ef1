"""Fan-out between server processes and the translation of queue events into client messages.

Every message for a client goes through one Redis channel (`jl:ws`) addressed to a principal
(`kiosk:3`, `caseworker:7`); each process delivers what it receives to its own connections.
Queue transitions arrive on the engine's channel; each process turns those that concern its own
connections into `ticket`, `agent`, `offer`, `call` and `call_ended` messages. No sticky sessions.

Relay fast path (`relay`): when every live connection of the addressee is in this process (presence
says so, cached per principal and dropped whenever a connection of that principal says hello in any
process) and nothing this process published to it is still on its way back, the message is
delivered directly, without a Redis round trip. Otherwise it is published like any other message,
so a principal connected to several processes gets it everywhere, exactly once per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from session_queue import WAITING_TICKET_STATES, QueueEvent, SessionQueue, Transition, parse_event

from server.protocol import outbound as out
from server.protocol.addresses import KIOSK_PREFIX, caseworker_address, kiosk_address
from server.runtime import redis_keys
from server.signaling.connection import CLOSE_REVOKED, Connection
from server.signaling.presence import Presence
from server.signaling.views import ViewBuilder

log = logging.getLogger(__name__)

# A feature's listener for one Redis channel: called with each message's data, in order.
ChannelHandler = Callable[[bytes], Awaitable[None]]

RESUBSCRIBE_DELAY_S = 0.5
# How long "not all of this principal's connections are here" is kept: after a remote tab leaves,
# messages to the principal go through Redis (correct, only slower) at most this long.
LOCAL_ONLY_TTL_S = 2.0
# How long "all of them are here" is trusted without asking presence again. A hello anywhere drops it
# at once and a resubscription drops them all, so this only bounds the effect of a missed notice;
# asking every 2 s made presence reads a tenth of the relay's CPU.
ALL_HERE_TTL_S = 10.0


def _dumps(message: Mapping[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


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
        # Marks this process's own publications, so the listener can count them back in; a new one
        # for every subscription, so what was published before a resubscribe is not counted.
        self._process_tag = secrets.token_hex(6)
        self._subscriptions = 0
        self.origin = f"{self._process_tag}:0"
        # Principal -> messages this process published to it that its listener has not seen yet.
        self._in_flight: dict[str, int] = defaultdict(int)
        # Principal -> (monotonic time until which the answer holds, are all its live connections here).
        self._local_only: dict[str, tuple[float, bool]] = {}
        # Principal -> bumped on every hello notice, so a presence read that raced one is discarded.
        self._generation: dict[str, int] = defaultdict(int)
        self.relayed_locally = 0  # for tests and metrics
        # Channels other features listen to through this process's one subscription (capture relay,
        # stats push), and those registered since the listener last subscribed.
        self._handlers: dict[str, list[ChannelHandler]] = defaultdict(list)
        self._pending: set[str] = set()
        self._subscribed = asyncio.Event()

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

    async def send_to(self, keys: Iterable[str], message: Mapping[str, Any]) -> None:
        """Deliver a message to every connection of these principals, in whichever process."""
        to = list(keys)
        payload = json.dumps({"to": to, "msg": message, "origin": self.origin}, ensure_ascii=False,
                             separators=(",", ":"))
        for key in to:
            self._in_flight[key] += 1
        try:
            await self.redis.publish(redis_keys.WS_CHANNEL, payload)
        except BaseException:
            # Most likely never published (no connection, cancelled): do not wait for it to come back.
            for key in to:
                self._count_back(key)
            raise

    def _count_back(self, key: str) -> None:
        if self._in_flight.get(key, 0) > 1:
            self._in_flight[key] -= 1
        else:
            self._in_flight.pop(key, None)

    async def relay(self, key: str, message: Mapping[str, Any]) -> None:
        """Deliver a message to one principal: directly when all its connections are here, else as send_to."""
        if await self._all_here(key):
            self.relayed_locally += 1
            await self._deliver_text(self.local.get(key, ()), _dumps(message))
        else:
            await self.send_to([key], message)

    async def _all_here(self, key: str) -> bool:
        """True when the principal has live connections, all in this process, and no message from
        this process to it is still passing through Redis (so direct delivery keeps the order)."""
        if not self.local.get(key) or self._in_flight.get(key):
            return False
        known = self._local_only.get(key)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        generation = self._generation[key]
        present = await self.presence.connection_ids(key)
        here = {c.id for c in self.local.get(key, ())}
        all_here = bool(present) and present <= here
        if generation != self._generation[key]:
            return False  # a hello somewhere while presence was read: it may not be counted yet
        # Either answer is kept a while: "not all here" only costs a publish when it is stale.
        self._local_only[key] = (time.monotonic() + (ALL_HERE_TTL_S if all_here else LOCAL_ONLY_TTL_S), all_here)
        return all_here and not self._in_flight.get(key)

    async def announce(self, key: str) -> None:
        """Tell every process that a connection of this principal has said hello (after its presence
        is recorded): none may deliver to that principal directly before reading presence again."""
        self._forget_local_only(key)
        await self.redis.publish(redis_keys.WS_CHANNEL, json.dumps({"to": [key], "hello": True}))

    def _forget_local_only(self, key: str) -> None:
        self._generation[key] += 1
        self._local_only.pop(key, None)

    async def _deliver(self, keys: Iterable[str], message: Mapping[str, Any]) -> None:
        text = _dumps(message)
        for key in keys:
            await self._deliver_text(self.local.get(key, ()), text)

    @staticmethod
    async def _deliver_text(connections: Iterable[Connection], text: str) -> None:
        for connection in list(connections):
            await connection.send_text(text)

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

    async def subscribe(self, channel: str, handler: ChannelHandler, timeout: float = 5.0) -> None:
        """Call `handler` with the data of every message on `channel`, through the hub's one
        subscription per process (resubscribed with the others after Redis restarts). Returns once
        the listener is subscribed, so nothing published after that is missed."""
        self._handlers[channel].append(handler)
        if channel in (redis_keys.WS_CHANNEL, self.queue.keys.channel):
            return
        self._subscribed.clear()
        self._pending.add(channel)
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen to both channels until stopped; resubscribe after Redis restarts."""
        while not stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                self._pending.clear()
                extra = [c for c in self._handlers if c not in (redis_keys.WS_CHANNEL, self.queue.keys.channel)]
                await pubsub.subscribe(redis_keys.WS_CHANNEL, self.queue.keys.channel, *extra)
                # What was in flight before may never come back: start counting afresh, and ask
                # presence again (hello notices may have been missed while unsubscribed).
                self._in_flight.clear()
                self._subscriptions += 1
                self.origin = f"{self._process_tag}:{self._subscriptions}"
                for key in list(self._local_only):
                    self._forget_local_only(key)
                self._ready.set()
                self._subscribed.set()
                while not stop.is_set():
                    if self._pending:
                        # Subscribed from this task: the pubsub connection is only ever used here.
                        channels = list(self._pending)
                        self._pending.clear()
                        await pubsub.subscribe(*channels)
                        self._subscribed.set()
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

    async def _dispatch(self, message: Mapping[str, Any]) -> None:
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        try:
            if channel == redis_keys.WS_CHANNEL:
                envelope = json.loads(message["data"])
                if "close" in envelope:
                    await self._close_local(envelope["to"], envelope["close"].get("token_hash"))
                elif "hello" in envelope:
                    for key in envelope["to"]:
                        self._forget_local_only(key)
                else:
                    if envelope.get("origin") == self.origin:
                        for key in envelope["to"]:
                            self._count_back(key)
                    await self._deliver(envelope["to"], envelope["msg"])
            elif channel == self.queue.keys.channel:
                await self._on_queue_event(parse_event(message["data"]))
            for handler in self._handlers.get(channel, ()):
                await handler(message["data"])
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
            case_number = await self.views.case_number(tr.ticket_id) if tr.kind == "end_call" else ""
            message = out.call_ended(tr.ticket_id, call_end_reason(tr), tr.extra.get("outcome"), case_number)
            for connections in [self.local.get(kiosk_key, set()) if kiosk_key else set(),
                                self.local.get(caseworker_address(tr.caseworker_id), set())]:
                for connection in list(connections):
                    connection.call_peers.pop(tr.ticket_id, None)
                    await connection.send(message)
        if kiosk_key is None or kiosk_key not in self.local:
            return
        if tr.to_state == "in_call" and tr.from_state != "in_call" and tr.caseworker_id:
            await self._send_kiosk_call(kiosk_key, tr.ticket_id, tr.caseworker_id)
        await self.send_ticket(kiosk_key, tr.ticket_id)
        if tr.to_state in ("done", "cancelled", "abandoned"):
            self.kiosk_of_ticket.pop(tr.ticket_id, None)

    async def _send_kiosk_call(self, kiosk_key: str, ticket_id: str, caseworker_id: str) -> None:
        """Send the kiosk's connections the call, once each (a connection that has it is skipped)."""
        call = await self.views.call(ticket_id, "answerer", peer_online=True)
        if call is None:
            return
        for connection in list(self.local.get(kiosk_key, ())):
            # checked after the await: the transition and a catch-up may both be on their way
            if ticket_id not in connection.call_peers:
                connection.call_peers[ticket_id] = caseworker_address(caseworker_id)
                await connection.send(out.call(call.model_dump(mode="json")))

    async def catch_up_call(self, kiosk_key: str, ticket_id: str) -> None:
        """Send the call of a ticket accepted before its events were routed to the kiosk.

        A join routes the ticket's events to the kiosk only once the join is recorded; a
        caseworker who accepts within that moment moved the ticket to `in_call` unseen.
        """
        live = await self.queue.ticket(ticket_id)
        if live is not None and live.state == "in_call" and live.caseworker_id:
            await self._send_kiosk_call(kiosk_key, ticket_id, live.caseworker_id)

    async def send_ticket(self, kiosk_key: str, ticket_id: str) -> None:
        """Send the kiosk its ticket view if it changed since the last one it got."""
        view = await self.views.ticket(ticket_id)
        if view is None:
            return
        data = view.model_dump(mode="json")
        for connection in list(self.local.get(kiosk_key, ())):
            if connection.ticket_id == ticket_id and connection.last_ticket_view != data:
                connection.last_ticket_view = data
                await connection.send(out.ticket(data))

    async def _caseworker_transition(self, tr: Transition) -> None:
        key = caseworker_address(tr.caseworker_id)
        connections = self.local.get(key)
        if not connections:
            return
        assert tr.caseworker_id is not None
        messages: list[out.ServerMessage] = []
        if tr.from_state == "offered" and tr.to_state != "in_call" and tr.ticket_id:
            messages.append(out.offer_withdrawn(tr.ticket_id, tr.kind))
        if tr.to_state == "offered" and tr.ticket_id:
            offer = await self.views.offer(tr.ticket_id)
            if offer is not None:
                messages.append(out.offer(offer.model_dump(mode="json")))
        if tr.to_state == "in_call" and tr.ticket_id:
            call = await self.views.call(tr.ticket_id, "offerer", peer_online=True)
            if call is not None:
                ticket = await self.queue.ticket(tr.ticket_id)
                for connection in list(connections):
                    if ticket is not None:
                        connection.call_peers[tr.ticket_id] = kiosk_address(ticket.kiosk_id)
                messages.append(out.call(call.model_dump(mode="json")))
        messages.append(out.agent((await self.views.agent(int(tr.caseworker_id))).model_dump(mode="json")))
        for message in messages:
            for connection in list(connections):
                await connection.send(message)

    async def _refresh_positions(self, skills: set[str]) -> None:
        """Send new places in line to local waiting kiosks: one Redis round trip, no database."""
        waiting = [c for key, cs in self.local.items() if key.startswith(KIOSK_PREFIX) for c in cs
                   if c.ticket_id is not None and c.last_ticket_view is not None
                   and c.last_ticket_view.get("state") in WAITING_TICKET_STATES]
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
                await connection.send(out.ticket(data))
