"""A simulated caseworker: accepts every offer, holds the call, ends it and skips wrap-up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from server.protocol.addresses import caseworker_address
from server.simulate.actor import RACE_CODES, Actor, Options
from server.simulate.cast import CaseworkerRole
from server.simulate.client import Message, ProtocolClient, ProtocolError
from server.simulate.ledger import Ledger, SessionRecord
from server.simulate.peers import CallPeer


class SimCaseworker(Actor):
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
