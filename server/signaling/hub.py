"""Fan-out between server processes: this process's connections and its one Redis subscription.

Every message for a client goes through one Redis channel (`{prefix}ws`, the prefix from
`JINGLIN_REDIS_PREFIX`) addressed to a principal (`kiosk:3`, `caseworker:7`); each process
delivers what it receives to its own connections. Other channels (queue events, capture
candidates) reach their features through `listen_to`/`subscribe` on the same subscription. No
sticky sessions.

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
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from server.runtime.redis_keys import RedisKeys
from server.signaling.connection import CLOSE_REVOKED, Connection
from server.signaling.presence import Presence

log = logging.getLogger(__name__)

# A feature's listener for one Redis channel: called with each message's data, in order.
ChannelHandler = Callable[[bytes], Awaitable[None]]

RESUBSCRIBE_DELAY_S = 0.5
# How long the listener waits for a message before it looks again at channels asked for meanwhile
# and at its stop event: a feature that subscribes, or a process that stops, waits this long at most.
LISTEN_POLL_S = 0.05
# How long "not all of this principal's connections are here" is kept: after a remote tab leaves,
# messages to the principal go through Redis (correct, only slower) at most this long.
LOCAL_ONLY_TTL_S = 2.0
# How long "all of them are here" is trusted without asking presence again. A hello anywhere drops it
# at once and a resubscription drops them all, so this only bounds the effect of a missed notice;
# asking every 2 s made presence reads a tenth of the relay's CPU.
ALL_HERE_TTL_S = 10.0


def _dumps(message: Mapping[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))




class Hub:
    """This process's connections, and the listener that feeds them."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys
        self.presence = Presence(redis, keys)
        self.local: dict[str, set[Connection]] = defaultdict(set)
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
        # Called with (address, token hash or None) for every close notice (a sign-in ended), in
        # every process: the sign-in session cache forgets what was revoked.
        self.on_revoked: list[Callable[[str, str | None], None]] = []

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

    # -- sending ----------------------------------------------------------------------------

    async def send_to(self, keys: Iterable[str], message: Mapping[str, Any]) -> None:
        """Deliver a message to every connection of these principals, in whichever process."""
        to = list(keys)
        payload = json.dumps({"to": to, "msg": message, "origin": self.origin}, ensure_ascii=False,
                             separators=(",", ":"))
        for key in to:
            self._in_flight[key] += 1
        try:
            await self.redis.publish(self.keys.ws_channel, payload)
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
        async with self.redis.pipeline(transaction=False) as pipe:
            self.announce_in(pipe, key)
            await pipe.execute()

    def announce_in(self, pipe: Pipeline, key: str) -> None:
        """`announce` queued on a pipeline, after the commands that record the presence."""
        self._forget_local_only(key)
        pipe.publish(self.keys.ws_channel, json.dumps({"to": [key], "hello": True}))

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
        for forget in self.on_revoked:  # here at once; the other processes when the notice arrives
            forget(key, token_hash)
        await self.redis.publish(self.keys.ws_channel, payload)

    async def _close_local(self, keys: Iterable[str], token_hash: str | None) -> None:
        for key in keys:
            for connection in list(self.local.get(key, ())):
                if token_hash is None or connection.principal.token_hash == token_hash:
                    await connection.ws.close(code=CLOSE_REVOKED, message=b"signed out")

    async def close_all_local(self, code: int, message: bytes) -> int:
        """Close every WebSocket of this process at once (the process is stopping); returns how many."""
        connections = [connection for group in self.local.values() for connection in group]
        await asyncio.gather(*(connection.ws.close(code=code, message=message) for connection in connections),
                             return_exceptions=True)
        return len(connections)

    # -- listening --------------------------------------------------------------------------

    def listen_to(self, channel: str, handler: ChannelHandler) -> None:
        """Call `handler` with the data of every message on `channel`, through the hub's one
        subscription per process (resubscribed with the others after Redis restarts). Before `run`
        starts, the channel is part of its first subscription."""
        first = channel not in self._handlers
        self._handlers[channel].append(handler)
        if first and self._ready.is_set():
            self._subscribed.clear()
            self._pending.add(channel)

    async def subscribe(self, channel: str, handler: ChannelHandler, timeout: float = 5.0) -> None:
        """`listen_to`, then wait until the listener is subscribed, so nothing published after this
        returns is missed."""
        self.listen_to(channel, handler)
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen to the delivery channel and every registered one until stopped; resubscribe after
        Redis restarts."""
        while not stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                self._pending.clear()
                others = [channel for channel in self._handlers if channel != self.keys.ws_channel]
                await pubsub.subscribe(self.keys.ws_channel, *others)
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
                    message = await pubsub.get_message(timeout=LISTEN_POLL_S)
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
            if channel == self.keys.ws_channel:
                envelope = json.loads(message["data"])
                if "close" in envelope:
                    for key in envelope["to"]:
                        for forget in self.on_revoked:
                            forget(key, envelope["close"].get("token_hash"))
                    await self._close_local(envelope["to"], envelope["close"].get("token_hash"))
                elif "hello" in envelope:
                    for key in envelope["to"]:
                        self._forget_local_only(key)
                else:
                    if envelope.get("origin") == self.origin:
                        for key in envelope["to"]:
                            self._count_back(key)
                    await self._deliver(envelope["to"], envelope["msg"])
            for handler in self._handlers.get(channel, ()):
                await handler(message["data"])
        except Exception:
            # One bad event must not stop delivery of every later one.
            log.exception("hub failed to handle a message", extra={"channel": channel})
