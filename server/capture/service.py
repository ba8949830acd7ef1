"""Capture messages over the WebSocket, the analysis peers of this process, and their reports.

Handlers are registered through the capture port (`port.py`); everything about a request lives
in Redis (`state.py`) so any process may handle any message. The analysis peer lives in the
process that received the kiosk's offer; candidates that reach another process are relayed to it
over a Redis channel (context.py, `apply_candidate`). Uploaded stills are accepted by uploads.py.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.capture import signal_check, texts
from server.capture.analysis_peer import AnalysisPeer, PeerPool
from server.capture.health import device_check_due, record_health
from server.capture.port import CallDirectory
from server.capture.state import LIVE_STATES, CaptureState, CaptureStates
from server.capture.storage import CaptureStore
from server.capture.upload import UploadError
from server.capture.uploads import StillUploads
from server.db.models import Capture
from server.protocol import messages as m
from server.protocol import outbound as out
from server.protocol.addresses import CASEWORKER, KIOSK
from server.quality import QualityResult
from server.quality.guidance import LiveState
from server.runtime.redis_keys import RedisKeys
from server.signaling.connection import Connection
from server.signaling.handlers import SignalingError

log = logging.getLogger(__name__)


# Why a session may not capture at all (code, text), or None: set by features above capture
# (the resident's declined consent).
CaptureGate = Callable[[str], Awaitable[tuple[str, str] | None]]


def _refuse(code: str) -> SignalingError:
    return SignalingError(code, texts.SIGNAL_ERRORS[code])


class CaptureService:
    """Capture requests, the analysis peers of this process, and stored stills."""

    def __init__(self, calls: CallDirectory, redis: aioredis.Redis, keys: RedisKeys,
                 sessions: async_sessionmaker[AsyncSession], store: CaptureStore, max_peers: int) -> None:
        self.calls = calls
        self.redis = redis
        self.sessions = sessions
        self.store = store
        self.states = CaptureStates(redis, keys)
        self.keys = keys
        self.pool = PeerPool(max_peers)
        self.uploads = StillUploads(calls, self.states, sessions, store, self.pool)
        self.gates: list[CaptureGate] = []

    def register(self) -> None:
        """Install the message handlers into the signaling service."""
        kiosk, caseworker = (KIOSK,), (CASEWORKER,)
        for roles, message_type, handler in (
            (caseworker, "capture_request", self.on_capture_request), (caseworker, "capture_now", self.on_capture_now),
            (caseworker, "capture_review", self.on_capture_review), ((KIOSK, CASEWORKER), "capture_cancel",
                                                                     self.on_capture_cancel),
            (kiosk, "capture_signal", self.on_capture_signal), (kiosk, "device_check", self.on_device_check),
        ):
            self.calls.register(roles, message_type, handler)

    async def send(self, keys: list[str], message: out.ServerMessage) -> None:
        """Deliver to principals in whichever process holds them."""
        await self.calls.send_to(keys, message)

    # -- opening and closing requests -------------------------------------------------------

    async def on_capture_request(self, connection: Connection, message: m.CaptureRequest) -> None:
        """Caseworker: open a request for one material of the call's matter."""
        live = await self.calls.ticket(message.call_id)
        if (live is None or live.state != "in_call" or live.caseworker_id != str(connection.principal.user_id)):
            raise _refuse("not_in_call")
        for gate in self.gates:
            refusal = await gate(live.id)
            if refusal is not None:
                raise SignalingError(*refusal)
        matter = (await self.calls.catalog()).by_id(live.matter_id)
        material = next((x for x in matter.materials if x.name == message.material), None) if matter else None
        if matter is None or material is None:
            raise _refuse("unknown_material")
        await self.open_capture(CaptureState(
            capture_id=secrets.token_hex(16), call_id=live.id, kiosk_id=int(live.kiosk_id),
            caseworker_id=int(live.caseworker_id), matter_id=matter.id, matter_name=matter.name,
            material=material.name, document_type=str(material.document_type), state="open", attempt=0,
            manual=False, changed_at=0.0))

    async def open_capture(self, capture: CaptureState) -> None:
        """Store a new request (cancelling the call's previous one) and tell both members."""
        replaced = await self.states.create(capture)
        if replaced is not None and replaced != capture.capture_id:
            await self._end(replaced, "cancelled")
        what = (capture.capture_id, capture.call_id, capture.material, capture.document_type)
        await self.send([capture.kiosk_key], out.capture_request(*what, self.calls.ice_servers(capture.kiosk_key)))
        await self.send([capture.caseworker_key], out.capture_opened(*what))

    async def _end(self, capture_id: str, decision: str) -> CaptureState | None:
        """Move a live request to done, close its peer here, tell both members."""
        state = await self.states.move(capture_id, LIVE_STATES, "done")
        if state is None:
            return None
        await self.states.finish(capture_id, state.call_id)
        await self.pool.close(capture_id)
        await self.send(state.members, out.capture_done(capture_id, decision))
        # An image uploaded but never reviewed is closed too, so a reloaded console does not offer
        # a review that can no longer be decided (after telling the members: they need not wait).
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(update(Capture).where(Capture.id == capture_id, Capture.state == "pending")
                                      .values(state="closed"))
        except SQLAlchemyError as exc:
            log.warning("capture row not closed", extra={"capture_id": capture_id, "error": type(exc).__name__})
        return state

    async def _member_state(self, principal: Principal, capture_id: str) -> CaptureState:
        state = await self.states.get(capture_id)
        if state is None:
            raise _refuse("unknown_capture")
        member = ((principal.role == "kiosk" and principal.kiosk_id == state.kiosk_id)
                  or (principal.role == "caseworker" and principal.user_id == state.caseworker_id))
        if not member:
            raise _refuse("not_capture_member")
        return state

    async def on_capture_cancel(self, connection: Connection, message: m.CaptureCancel) -> None:
        """Either member: stop the request."""
        await self._member_state(connection.principal, message.capture_id)
        if await self._end(message.capture_id, "cancelled") is None:
            raise _refuse("capture_closed")

    async def on_capture_now(self, connection: Connection, message: m.CaptureNow) -> None:
        """Caseworker: manual capture — the kiosk takes the still at once, kept whatever its quality."""
        member = await self._member_state(connection.principal, message.capture_id)
        if not await self.call_live(member.call_id):
            raise _refuse("capture_closed")
        state = await self.states.move(message.capture_id, {"open", "taking"}, "taking", next_attempt=True,
                                       manual="1")
        if state is None:
            raise _refuse("wrong_state")
        await self.send([state.kiosk_key], out.capture_take(state.capture_id, manual=True))

    async def on_capture_review(self, connection: Connection, message: m.CaptureReview) -> None:
        """Caseworker: accept the stored image, or discard it and ask for the same material again."""
        state = await self._member_state(connection.principal, message.capture_id)
        if await self.states.move(message.capture_id, {"review"}, "done") is None:
            raise _refuse("wrong_state")
        await self.states.finish(state.capture_id, state.call_id)
        async with self.sessions() as session, session.begin():
            row = await session.get(Capture, message.capture_id)
            if row is not None:
                row.state = "accepted" if message.decision == "accept" else "retake"
        await self.send(state.members, out.capture_done(state.capture_id, message.decision))
        if message.decision == "retake":
            await self.open_capture(CaptureState(**{**state.__dict__, "capture_id": secrets.token_hex(16)}))

    # -- the analysis peer ------------------------------------------------------------------

    async def on_capture_signal(self, connection: Connection, message: m.CaptureSignal) -> None:
        """Kiosk: the offer creates this process's analysis peer; candidates go to wherever it is."""
        state = await self._member_state(connection.principal, message.capture_id)
        if state.state not in ("open", "taking", "checking"):
            raise _refuse("capture_closed")
        if not signal_check.valid_signal(message.data.model_dump(exclude_none=True)):
            raise _refuse("bad_signal")
        description, candidate = message.data.description, message.data.candidate
        if description is not None:
            if description.type != "offer":
                raise _refuse("bad_signal")
            await self._start_peer(state, description.sdp)
        if candidate is not None and not await self.apply_candidate(state.capture_id, candidate):
            await self.redis.publish(self.keys.capture_signal_channel, json.dumps(
                {"capture_id": state.capture_id, "candidate": candidate.model_dump(exclude_none=True)}))

    async def _start_peer(self, state: CaptureState, sdp: str) -> None:
        await self.pool.close(state.capture_id)  # a new offer (kiosk reload) replaces the old peer
        if self.pool.full():
            await self.send([state.caseworker_key], out.capture_guidance(
                state.capture_id, ready=False, reason="analysis_busy", text=texts.ANALYSIS_BUSY, steady_frames=0))
            raise _refuse("analysis_busy")
        peer = AnalysisPeer(state, self.states, self, self.calls.ice_servers("capture-analyser"))
        self.pool.add(peer)
        try:
            answer = await peer.answer(sdp, "offer")
        except (ValueError, RuntimeError) as exc:
            await peer.close()
            log.info("capture offer refused", extra={"capture_id": state.capture_id, "error": type(exc).__name__})
            raise _refuse("bad_signal") from None
        answer_data = {"description": {"type": "answer", "sdp": answer}}
        await self.send([state.kiosk_key], out.capture_signal(state.capture_id, answer_data))

    async def apply_candidate(self, capture_id: str, candidate: m.CandidatePayload) -> bool:
        """Apply a candidate to this process's peer; False when the peer lives elsewhere."""
        peer = self.pool.peers.get(capture_id)
        if peer is None:
            return False
        await peer.add_candidate(candidate)
        return True

    # -- what the analysis peers report (analysis_peer.PeerHost) ---------------------------------

    async def call_live(self, call_id: str) -> bool:
        """True while the call runs; otherwise its capture is cancelled."""
        live = await self.calls.ticket(call_id)
        if live is not None and live.state == "in_call":
            return True
        await self.call_over(call_id)
        return False

    async def call_over(self, call_id: str) -> None:
        """The call ended (or was transferred): its live request is cancelled (`capture_done`
        `cancelled` to both members), so nothing is captured or stored after it. Every process
        hears the end; the request's atomic move lets only one of them end it."""
        current = await self.states.current_of_call(call_id)
        if current is not None:
            await self._end(current, "cancelled")

    async def guidance(self, state: CaptureState, live: LiveState) -> None:
        """Show both members what the camera sees now."""
        await self.send(state.members, out.capture_guidance(state.capture_id, ready=live.ready, reason=live.reason,
                                                            text=live.text, steady_frames=live.steady_frames))

    async def take(self, state: CaptureState) -> None:
        """The page is ready: the kiosk takes the still."""
        await self.send([state.kiosk_key], out.capture_take(state.capture_id, manual=False))

    async def camera_sample(self, state: CaptureState, result: QualityResult) -> None:
        """Record a live look at the kiosk camera in its health history."""
        metrics = {"brightness": round(result.metrics.brightness, 2), "contrast": round(result.metrics.contrast, 2),
                   "sharpness": round(result.metrics.sharpness, 2)}
        await record_health(self.sessions, state.kiosk_id, source="live",
                            camera_ok="camera_blocked" not in result.reasons, microphone_ok=None, metrics=metrics)

    # -- device check -----------------------------------------------------------------------

    async def on_device_check(self, connection: Connection, message: m.DeviceCheck) -> None:
        """Kiosk: record the device check in its health history."""
        kiosk_id = connection.principal.kiosk_id
        assert kiosk_id is not None
        if not await device_check_due(self.redis, self.keys, kiosk_id, message.camera_ok, message.microphone_ok):
            return
        metrics: dict[str, Any] = {k: round(v, 3) for k, v in message.metrics.items()}
        if message.speaker_ok is not None:
            metrics["speaker_ok"] = message.speaker_ok
        await record_health(self.sessions, kiosk_id, source="device_check", camera_ok=message.camera_ok,
                            microphone_ok=message.microphone_ok, metrics=metrics)

    # -- uploads ----------------------------------------------------------------------------

    async def accept_upload(self, principal: Principal, capture_id: str, data: bytes) -> dict[str, Any]:
        """Check an uploaded still and store it, or say why not (see StillUploads.accept). Raises UploadError.

        A request whose call is over is closed first (had its end been missed) and the still
        refused: nothing is stored once the call has ended."""
        state = await self.states.get(capture_id)
        if state is not None and principal.kiosk_id == state.kiosk_id and not await self.call_live(state.call_id):
            raise UploadError(409, "capture_closed")
        return await self.uploads.accept(principal, capture_id, data)
