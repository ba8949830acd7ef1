"""A simulated kiosk: joins the queue, takes its call, rates it, and starts the next session."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from server.protocol.addresses import kiosk_address
from server.simulate.actor import Actor, Options
from server.simulate.cast import KioskRole
from server.simulate.client import Message, ProtocolClient, ProtocolError
from server.simulate.ledger import Ledger, SessionRecord
from server.simulate.peers import CallPeer

JOIN_ATTEMPTS = 25
JOIN_RETRY_S = 0.2


class SimKiosk(Actor):
    """A kiosk that runs its share of the requested sessions one after another."""

    def __init__(self, role: KioskRole, url: str, ledger: Ledger, options: Options, rng: random.Random,
                 urls: Sequence[str] | None = None) -> None:
        super().__init__(ProtocolClient(url, kiosk_address(role.name), urls=urls, failover=bool(urls)), ledger, options)
        self.role = role
        self.rng = rng
        self.finished: set[str] = set()
        self._fences: dict[str, Any] = {}

    async def start(self) -> None:
        """Sign in with the device token and connect."""
        await self.client.login_kiosk(self.role.token)
        await self.client.connect()

    async def run_session(self, rec: SessionRecord) -> None:
        """One session from join to rating; the record says how it ended."""
        matter_id, mode = self.rng.choice(self.role.matters)
        rec.joined_at = time.monotonic()
        joined = await self._join(matter_id, mode)
        if joined is None:
            return
        start, ticket = joined
        rec.ticket_at = ticket.get("_at", time.monotonic())
        sid = ticket["ticket"]["session_id"]
        rec.session_id = sid
        self.ledger.by_session[sid] = rec
        if rec.drop == ("kiosk", "wait"):
            rec.drop_done = True
            self.spawn(self._blip_waiting(sid))
        try:
            index = await self._follow(rec, sid, start)
        except TimeoutError as exc:
            self.ledger.error(str(exc))
            index = self.client.mark()
            if self.options.chaos:
                rec.timed_out = True
                await self._give_up(rec)
        finally:
            rec.kiosk_frames = max(rec.kiosk_frames, await self.close_peer(sid))
        self.finished.add(sid)
        if rec.outcome == "completed":
            await self._after_call(sid, index)

    async def _give_up(self, rec: SessionRecord) -> None:
        """The resident leaves after waiting too long: `cancel` (the outcome is read from the database)."""
        for _ in range(3):
            with contextlib.suppress(Exception):
                await self.client.wait_connected(30)
                reply = await self.client.request({"type": "cancel"})
                if reply.get("code") != "disconnected":
                    return

    async def _join(self, matter_id: str, mode: str) -> tuple[int, Message] | None:
        """(message index, ticket) of a new ticket; None (error recorded) when none came."""
        attempts = 0
        deadline = time.monotonic() + self.options.session_timeout_s
        while attempts < JOIN_ATTEMPTS:
            start = self.client.mark()
            try:
                if self.client.failover:
                    await self.client.wait_connected(max(1.0, deadline - time.monotonic()))
                reply = await self.client.request({"type": "join", "matter_id": matter_id, "mode": mode})
                if reply.get("code") in {"disconnected", "unavailable"} and time.monotonic() < deadline:
                    await asyncio.sleep(JOIN_RETRY_S)
                    continue  # join is idempotent: a ticket made before the drop comes back
                if reply["type"] == "error":
                    self.ledger.error(f"{self.name}: join {matter_id}/{mode} refused: {reply.get('code')}")
                    return None
                _, ticket = await self.client.next_matching(
                    lambda m: m.get("type") == "ticket", 10, start=start, what="ticket after join")
            except (TimeoutError, ProtocolError):
                if self.client.failover and time.monotonic() < deadline:
                    continue
                raise
            attempts += 1
            if ticket["ticket"]["session_id"] not in self.finished:
                return start, ticket
            # The server can still count the previous (done) ticket as open: see docs/simulate.md.
            await asyncio.sleep(JOIN_RETRY_S)
        self.ledger.error(f"{self.name}: join kept returning the previous ticket {ticket['ticket']}")
        return None

    async def _follow(self, rec: SessionRecord, sid: str, start: int) -> int:
        index = start
        deadline = time.monotonic() + self.options.session_timeout_s
        verified = False
        while True:
            index, message = await self.client.next_matching(
                partial(_about, sid), deadline - time.monotonic(), start=index, what=f"end of session {sid}")
            kind = message["type"]
            state = message.get("state") or {}
            call = message.get("call") or state.get("call")
            if kind == "welcome" and self.client.failover and message is not self._first_welcome:
                ended = self._after_reconnect(sid, state)
                if ended is not None and not verified:
                    # Right after a Redis restart a welcome can show no ticket although the
                    # database holds it open (it is rebuilt within half a second): ask again.
                    verified = True
                    self.ledger.welcome_without_ticket += 1
                    self.spawn(self._verify_soon())
                    continue
                if ended is not None:
                    rec.kiosk_frames = max(rec.kiosk_frames, await self.close_peer(sid))
                    rec.outcome = ended
                    return index
            if call and sid in self.peers and kind == "call" and call.get("fence") != self._fences.get(sid):
                # A new call for the same ticket without `call_ended` (the queue was rebuilt after a
                # Redis loss and the ticket accepted again): the old peer connection is dead weight.
                rec.kiosk_frames = max(rec.kiosk_frames, await self.close_peer(sid))
            if call and sid not in self.peers:
                self._fences[sid] = call.get("fence")
                self._start_call(rec, call)
            elif kind == "call_ended":
                rec.kiosk_frames = max(rec.kiosk_frames, await self.close_peer(sid))
                if message.get("reason") == "peer_gone":
                    continue  # requeued at the front: another caseworker will be offered it
                outcome = message.get("outcome")
                rec.outcome = outcome if outcome in {"completed", "abandoned"} else "lost"
                if rec.outcome == "completed":
                    rec.completed_at = time.monotonic()
                if rec.outcome == "lost":
                    self.ledger.error(f"{self.name}: session {sid} ended with {message}")
                return index
            elif kind == "peer" and message.get("online") and sid in self.peers:
                self.spawn(self.peers[sid].resend())
            elif kind == "ticket" and message["ticket"]["state"] in {"abandoned", "cancelled"}:
                rec.outcome = message["ticket"]["state"]
                return index

    async def _verify_soon(self) -> None:
        await asyncio.sleep(1.5)
        await self.client.sever()  # failover reconnects: a second welcome

    @property
    def _first_welcome(self) -> Message | None:
        return next((m for m in self.client.messages if m.get("type") == "welcome"), None)

    def _after_reconnect(self, sid: str, state: Message) -> str | None:
        """After a failover `welcome`: None if the session goes on, else how it ended while away."""
        ticket = state.get("ticket") or {}
        if ticket.get("session_id") != sid:
            return "ended_away"  # the outcome is read from the database at the end of a chaos run
        if ticket.get("state") in {"abandoned", "cancelled"}:
            return str(ticket["state"])
        if ticket.get("state") in {"done", "wrap_up"}:
            return "ended_away"
        if state.get("call") and sid in self.peers:
            self.spawn(self.peers[sid].resend())
        return None

    def _start_call(self, rec: SessionRecord, call: Message) -> None:
        peer = self.open_peer(call, "answerer")
        rec.calls += 1
        self.spawn(self._note_setup(rec, peer))
        if rec.drop == ("kiosk", "call") and not rec.drop_done:
            rec.drop_done = True
            self.spawn(self._blip_in_call(peer))

    async def _note_setup(self, rec: SessionRecord, peer: CallPeer) -> None:
        if await peer.wait_first_frame(self.options.first_frame_timeout_s):
            rec.kiosk_video.set()
            accepted = self.ledger.accepts.get(peer.call_id)
            if accepted and peer.counter.first_video_at is not None:
                rec.setup_s = peer.counter.first_video_at - accepted[-1]
        else:
            self.ledger.error(f"{self.name}: no video decoded in call {peer.call_id}")

    async def _blip_waiting(self, sid: str) -> None:
        welcome = await self.blip()
        held = (welcome.get("state") or {}).get("ticket") or {}
        if held.get("session_id") != sid:
            self.ledger.error(f"{self.name}: after a drop while waiting, welcome holds {held or 'nothing'}, not {sid}")
        if sid in self.peers:  # the "wait" was short: the call had already begun
            await self.peers[sid].resend()

    async def _blip_in_call(self, peer: CallPeer) -> None:
        await peer.wait_first_frame(self.options.first_frame_timeout_s)
        await asyncio.sleep(self.options.hold_s / 3)
        welcome = await self.blip()
        if not (welcome.get("state") or {}).get("call"):
            self.ledger.error(f"{self.name}: after a drop in call {peer.call_id}, welcome has no call")
        await peer.resend()

    async def _after_call(self, sid: str, index: int) -> None:
        rate = {"type": "rate", "session_id": sid, "score": self.rng.choice((4, 5, 5))}
        reply = await self.request_again(rate) if self.options.chaos else await self.client.request(rate)
        # Under chaos a rating sent just before a drop may have landed: the retry finds it rated.
        if reply["type"] == "error" and not (self.options.chaos and reply.get("code") == "already_rated"):
            self.ledger.error(f"{self.name}: rate {sid} refused: {reply.get('code')}")
        # The next join must not get this ticket back: wait until the caseworker's wrap-up ends it.
        try:
            await self.client.next_matching(
                lambda m: m.get("type") == "ticket" and m["ticket"]["session_id"] == sid
                and m["ticket"]["state"] == "done", 15, start=index, what=f"ticket {sid} done")
        except TimeoutError as exc:
            if not self.options.chaos:  # the message may have gone to a dead process; join retries
                self.ledger.error(str(exc))


def _about(sid: str, message: Message) -> bool:
    kind = message.get("type")
    if kind == "call":
        return bool(message["call"]["session_id"] == sid)
    if kind == "call_ended":
        return bool(message.get("session_id") == sid)
    if kind == "ticket":
        return bool(message["ticket"]["session_id"] == sid)
    if kind == "peer":
        return bool(message.get("call_id") == sid)
    # A `welcome` carries the whole state again: the session is still on, or it ended while away.
    return kind == "welcome"
