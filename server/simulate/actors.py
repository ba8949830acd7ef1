"""Simulated kiosks and caseworkers: protocol clients that queue, accept and hold real calls.

A kiosk drives its sessions one after another (join → call → call_ended → rate → ticket done);
a caseworker reacts to what it is sent (offer → accept → call → offer SDP → hold → end_call →
finish_wrap_up). Both can "blip": close the WebSocket and come back with `hello` + `resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from server.protocol.addresses import caseworker_address, kiosk_address
from server.simulate.cast import CaseworkerRole, KioskRole
from server.simulate.client import Message, ProtocolClient, ProtocolError
from server.simulate.ledger import Ledger, SessionRecord
from server.simulate.peers import CallPeer, Role, SignalData

# Refusals a caseworker may legitimately get when an offer moved on before its accept arrived.
RACE_CODES = frozenset({"stale_fence", "wrong_state", "not_holder", "unknown_ticket"})
# Refusals of a `signal` that a Redis restart or a killed process explains (chaos runs only).
CHAOS_SIGNAL_CODES = frozenset({"unavailable", "not_in_call"})
JOIN_ATTEMPTS = 25
JOIN_RETRY_S = 0.2


@dataclass(frozen=True)
class Options:
    """Timings and media of simulated actors."""

    hold_s: float = 2.0
    reconnect_delay_s: float = 0.5
    session_timeout_s: float = 90.0
    first_frame_timeout_s: float = 20.0
    video: tuple[int, int, float] = (640, 480, 15.0)
    trickle: bool = True
    # Chaos runs (scripts/chaos.py): refusals caused by a killed process or a Redis restart are
    # expected; a session that outlives `session_timeout_s` is cancelled rather than abandoned.
    chaos: bool = False
    # With failover: a caseworker idle this long reconnects to re-read its queue state (after a
    # Redis restart the server forgets it, without telling the connected console).
    idle_refresh_s: float | None = None


class _Actor:
    """What kiosks and caseworkers share: a client, its peers, signal routing, blips."""

    def __init__(self, client: ProtocolClient, ledger: Ledger, options: Options) -> None:
        self.client = client
        self.ledger = ledger
        self.options = options
        self.peers: dict[str, CallPeer] = {}
        self._early: dict[str, list[SignalData]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._signal_refs: dict[str, str] = {}
        self._signal_ids = itertools.count(1)
        client.on("signal", self._on_signal)
        client.on("error", self._on_error)
        client.on("ok", self._on_ok)

    @property
    def name(self) -> str:
        """Who this is, for error messages."""
        return self.client.name

    def _on_signal(self, message: Message) -> None:
        call_id, data = message.get("call_id", ""), message.get("data") or {}
        peer = self.peers.get(call_id)
        if peer is None:
            # The `call` message and the first signal can be processed in either order.
            self._early.setdefault(call_id, []).append(data)
        else:
            peer.feed(data)

    def _on_ok(self, message: Message) -> None:
        ref = message.get("ref")
        if isinstance(ref, str):
            self._signal_refs.pop(ref, None)

    def _on_error(self, message: Message) -> None:
        ref = message.get("ref")
        call_id = self._signal_refs.pop(ref, None) if isinstance(ref, str) else None
        if call_id is not None and call_id not in self.peers:
            return  # a late candidate for a call that has ended meanwhile: nothing lost
        if self.options.chaos and call_id is not None and message.get("code") in CHAOS_SIGNAL_CODES:
            # Redis down for a moment, or the call taken back by a rebuild: the signal is re-sent
            # on the next reconnect or the call is offered again.
            self.ledger.count_chaos_refusal(str(message.get("code")))
            return
        if ref is None or call_id is not None:  # other answers are handled by the requester
            self.ledger.error(f"{self.name}: unsolicited error {message.get('code')}: {message.get('message')}")

    def spawn(self, coro: Any) -> None:
        """Run a background task owned by this actor (awaited in close())."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._report_crash)

    def _report_crash(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        frames = traceback.extract_tb(exc.__traceback__) if exc is not None else []
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        self.ledger.error(f"{self.name}: {type(exc).__name__}: {exc}{where}")

    def open_peer(self, call: Message, role: Role) -> CallPeer:
        """A peer connection for `call`, fed with any signal that arrived before it."""
        call_id = call["call_id"]
        peer = CallPeer(call_id, role, partial(self.send_signal, call_id), self.client.welcome.get("ice_servers"),
                        video=self.options.video, trickle=self.options.trickle)
        self.peers[call_id] = peer
        for data in self._early.pop(call_id, []):
            peer.feed(data)
        return peer

    async def close_peer(self, call_id: str) -> int:
        """Close the call's peer connection; return the video frames it decoded."""
        self._early.pop(call_id, None)
        peer = self.peers.pop(call_id, None)
        if peer is None:
            return 0
        frames = peer.video_frames
        if peer.failure:
            self.ledger.error(f"{self.name}: signaling of call {call_id} failed: {peer.failure}")
        await peer.close()
        return frames

    async def send_signal(self, call_id: str, data: SignalData) -> None:
        """Send a `signal`, waiting out a blip (a real client would buffer the same way)."""
        await self.client.wait_connected(10)
        # With an id, a refusal names the call it was about (a late signal after the end is fine).
        ref = f"s{next(self._signal_ids)}"
        self._signal_refs[ref] = call_id
        await self.client.send({"type": "signal", "call_id": call_id, "data": data, "id": ref})

    async def request_again(self, message: Message) -> Message:
        """A request; under chaos, sent again once the connection is back when it dropped first."""
        for attempt in range(6 if self.options.chaos else 1):
            if attempt:
                await asyncio.sleep(min(0.25 * 2 ** attempt, 2.0))
            try:
                if self.client.failover:
                    await self.client.wait_connected(30)
                reply = await self.client.request(message)
            except ProtocolError as exc:
                reply = {"type": "error", "code": exc.code}
            except TimeoutError:
                if not self.options.chaos:
                    raise
                reply = {"type": "error", "code": "no_answer"}  # e.g. the process died under it
            # `unavailable`: Redis is down for a moment (restart); the request changed nothing.
            if reply.get("code") not in {"disconnected", "not_connected", "unavailable", "no_answer"}:
                break
        return reply

    async def blip(self) -> Message:
        """Drop the WebSocket, wait, reconnect with `resume`; return the new `welcome`."""
        # A drop would swallow the answer to a request in flight; that is not what is tested.
        await self.client.settle(5)
        await self.client.drop()
        await asyncio.sleep(self.options.reconnect_delay_s)
        return await self.client.connect(resume=True)

    async def close(self) -> None:
        """Cancel background work, close peers and the client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for call_id in list(self.peers):
            await self.close_peer(call_id)
        await self.client.close()


class SimKiosk(_Actor):
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


class SimCaseworker(_Actor):
    """A caseworker who accepts every offer, holds the call, ends it `completed`, skips wrap-up."""

    def __init__(self, role: CaseworkerRole, url: str, ledger: Ledger, options: Options,
                 urls: Sequence[str] | None = None) -> None:
        super().__init__(ProtocolClient(url, caseworker_address(role.username), urls=urls, failover=bool(urls)),
                         ledger, options)
        self.role = role
        self.refreshes = 0  # idle reconnects (failover only)
        self.found_offline = 0  # reconnects whose welcome said the queue had forgotten this caseworker
        self._busy_at = time.monotonic()  # last offer, call, call end or idle refresh

    async def start(self) -> None:
        """Sign in, connect and become available."""
        await self.client.login_staff(self.role.username, self.role.password)
        await self.client.connect()
        await self._available()

    async def _available(self) -> None:
        available = {"type": "set_status", "status": "available"}
        reply = await (self.request_again(available) if self.options.chaos else self.client.request(available))
        if reply["type"] == "error":
            self.ledger.error(f"{self.name}: set_status available refused: {reply.get('code')}")

    async def run(self, stop: asyncio.Event) -> None:
        """Handle messages until `stop` is set."""
        index = 0
        first = self.client.welcome
        while not stop.is_set():
            if self._idle_for_refresh():
                self._busy_at = time.monotonic()
                self.spawn(self._refresh())
            try:
                index, message = await self.client.next_matching(lambda m: True, 0.25, start=index)
            except TimeoutError:
                continue
            if message.get("type") in {"offer", "call", "call_ended"}:
                self._busy_at = time.monotonic()
            try:
                await self._handle(message, first)
            except (ProtocolError, TimeoutError) as exc:  # the connection dropped under a request
                if not self.client.failover:
                    raise
                # Failover reconnects; the next welcome (or the idle refresh) puts things right.
                self.ledger.release_all(self.name)
                if isinstance(exc, ProtocolError) and exc.code != "not_connected":
                    self.ledger.error(f"{self.name}: {exc}")

    def _idle_for_refresh(self) -> bool:
        # Idle = no offer, call or call end for a while (other messages, e.g. position updates,
        # keep coming while the queue has forgotten this caseworker).
        refresh = self.options.idle_refresh_s
        return (refresh is not None and self.client.failover and self.client.connected and not self.peers
                and time.monotonic() - self._busy_at > refresh)

    async def _refresh(self) -> None:
        """Reconnect to re-read the queue state (the welcome is handled like any other)."""
        self.refreshes += 1
        await self.client.sever()

    async def _after_reconnect(self, state: Message) -> None:
        self.ledger.release_all(self.name)
        agent = (state.get("agent") or {}).get("state")
        if agent in {"offline", "break"}:
            self.found_offline += agent == "offline"
            await self._available()
        offer, call = state.get("offer"), state.get("call")
        if offer:
            await self._on_offer(offer)
        if call and call["call_id"] not in self.peers:
            self.ledger.hold(call["call_id"], self.name)
            self.spawn(self._conduct(call, self.open_peer(call, "offerer")))
        elif call:
            self.ledger.hold(call["call_id"], self.name)
            self.spawn(self.peers[call["call_id"]].resend())

    async def _handle(self, message: Message, first: Message) -> None:
        kind = message.get("type")
        if kind == "welcome" and self.client.failover and message is not first:
            await self._after_reconnect(message.get("state") or {})
        elif kind == "error" and message.get("local"):
            self.ledger.release_all(self.name)
        if kind == "offer":
                await self._on_offer(message["offer"])
        elif kind == "offer_withdrawn":
            self.ledger.release(message["ticket_id"], self.name)
        elif kind == "call" and message["call"]["call_id"] not in self.peers:
            call = message["call"]
            self.spawn(self._conduct(call, self.open_peer(call, "offerer")))
        elif kind == "call_ended":
            self.ledger.release(message["session_id"], self.name)
        elif kind == "peer" and message.get("online") and message.get("call_id") in self.peers:
            # Signals sent while the kiosk was away are lost (nothing is replayed): offer again.
            self.spawn(self.peers[message["call_id"]].resend())
        elif kind == "agent" and message["agent"].get("reason") == "missed_offer":
            if not self.options.chaos:  # under chaos the offer may have gone out while this side was away
                self.ledger.error(f"{self.name}: an offer timed out unanswered")
            await self._available()

    async def _record(self, ticket_id: str) -> SessionRecord | None:
        # The offer can overtake the kiosk's `ticket` message that registers the session.
        for _ in range(100):
            rec = self.ledger.by_session.get(ticket_id)
            if rec is not None:
                return rec
            await asyncio.sleep(0.01)
        return None

    async def _on_offer(self, offer: Message) -> None:
        ticket_id = offer["ticket_id"]
        self.ledger.hold(ticket_id, self.name)
        rec = await self._record(ticket_id)
        if rec is not None and rec.drop == ("caseworker", "wait") and not rec.drop_done:
            rec.drop_done = True
            self.ledger.release(ticket_id, self.name)
            welcome = await self.blip()
            if welcome["state"]["agent"]["state"] == "offline":
                await self._available()
            return
        sent = time.monotonic()
        reply = await self.client.request({"type": "accept", "ticket_id": ticket_id, "fence": offer["fence"]})
        if reply["type"] == "ok":
            self.ledger.accepts.setdefault(ticket_id, []).append(sent)
            return
        self.ledger.release(ticket_id, self.name)
        if reply.get("code") not in RACE_CODES and not (self.options.chaos and reply.get("code") in {
                "disconnected", "unavailable"}):
            self.ledger.error(f"{self.name}: accept {ticket_id} refused: {reply.get('code')}")

    async def _conduct(self, call: Message, peer: CallPeer) -> None:
        sid = call["call_id"]
        try:
            await self._hold_call(sid, peer)
        finally:
            if self.options.chaos and sid in self.peers:
                # The call broke off (no answer while a process or Redis was down): drop it
                # locally so that the idle refresh signs this caseworker in again.
                await self.close_peer(sid)
                self.ledger.release(sid, self.name)
                self._busy_at = time.monotonic()

    async def _hold_call(self, sid: str, peer: CallPeer) -> None:
        await peer.start()
        rec = await self._record(sid)
        if not await peer.wait_first_frame(self.options.first_frame_timeout_s):
            self.ledger.error(f"{self.name}: no video decoded in call {sid}")
        if rec is not None:
            # A kiosk without video reports it itself; the call still ends normally.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rec.kiosk_video.wait(), self.options.first_frame_timeout_s)
        if rec is not None and rec.drop == ("caseworker", "call") and not rec.drop_done:
            rec.drop_done = True
            await asyncio.sleep(self.options.hold_s / 2)
            welcome = await self.blip()
            if not welcome["state"].get("call"):
                self.ledger.error(f"{self.name}: after a drop in call {sid}, welcome has no call")
            await peer.resend()
            await asyncio.sleep(self.options.hold_s / 2)
        else:
            await asyncio.sleep(self.options.hold_s)
        await self._end(sid, rec)

    async def _end(self, sid: str, rec: SessionRecord | None) -> None:
        # Under chaos the call may have been taken back meanwhile (Redis rebuilt it to the queue).
        # `unknown_caseworker`: the restarted Redis forgot this caseworker (it signs in again when idle).
        tolerated = RACE_CODES | {"unknown_caseworker", "no_answer"} if self.options.chaos else frozenset()
        reply = await self.request_again({"type": "end_call", "ticket_id": sid, "outcome": "completed"})
        if reply["type"] == "error" and reply.get("code") not in tolerated:
            self.ledger.error(f"{self.name}: end_call {sid} refused: {reply.get('code')}")
        frames = await self.close_peer(sid)
        if rec is not None:
            rec.caseworker_frames = frames
        self.ledger.release(sid, self.name)
        self._busy_at = time.monotonic()
        reply = await self.request_again({"type": "finish_wrap_up"})
        if reply["type"] == "error" and reply.get("code") not in tolerated:
            self.ledger.error(f"{self.name}: finish_wrap_up refused: {reply.get('code')}")
