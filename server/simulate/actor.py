"""What simulated kiosks and caseworkers share: options, a protocol client, call peers, blips.

A kiosk (`kiosk.py`) drives its sessions one after another (join → call → call_ended → rate →
ticket done); a caseworker (`caseworker.py`) reacts to what it is sent (offer → accept → call →
offer SDP → hold → end_call → finish_wrap_up). Both can "blip": close the WebSocket and come back
with `hello` + `resume`.
"""

from __future__ import annotations

import asyncio
import itertools
import traceback
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from server.simulate.client import Message, ProtocolClient, ProtocolError
from server.simulate.ledger import Ledger
from server.simulate.peers import CallPeer, Role, SignalData

# Refusals a caseworker may legitimately get when an offer moved on before its accept arrived.
RACE_CODES = frozenset({"stale_fence", "wrong_state", "not_holder", "unknown_ticket"})
# Refusals of a `signal` that a Redis restart or a killed process explains (chaos runs only).
CHAOS_SIGNAL_CODES = frozenset({"unavailable", "not_in_call"})


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


class Actor:
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
