"""The acceptance of uploaded stills: the request's checks, the still's one pass, the record.

The HTTP view (views.py) hands the bytes over; `still.process_still` checks, judges and stores
them; what is kept is recorded (capture row and audit entry) and both members are told.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.capture import texts
from server.capture.analysis_peer import PeerPool
from server.capture.intake import StoredImages
from server.capture.port import CallDirectory
from server.capture.state import CaptureState, CaptureStates
from server.capture.still import process_still
from server.capture.storage import CaptureStore
from server.capture.upload import UploadError
from server.db.models import AuditLog, Capture
from server.db.types import utcnow
from server.protocol import outbound as out
from server.quality import guidance_text


def image_urls(capture_id: str) -> dict[str, str]:
    """The two read-back addresses of a stored capture."""
    base = f"/api/v1/captures/{capture_id}/image"
    return {"image_url": f"{base}?variant=rectified", "original_url": f"{base}?variant=original"}


class StillUploads:
    """Stills uploaded by kiosks for their open capture requests."""

    def __init__(self, calls: CallDirectory, states: CaptureStates, sessions: async_sessionmaker[AsyncSession],
                 store: CaptureStore, pool: PeerPool) -> None:
        self.calls = calls
        self.states = states
        self.sessions = sessions
        self.store = store
        self.pool = pool

    async def accept(self, principal: Principal, capture_id: str, data: bytes) -> dict[str, Any]:
        """Check an uploaded still and store it, or say why not. Raises UploadError."""
        state = await self.states.get(capture_id)
        if state is None:
            async with self.sessions() as session:
                existing = await session.get(Capture, capture_id)
            raise UploadError(409, "capture_closed") if existing is not None else UploadError(404, "unknown_capture")
        if principal.kiosk_id != state.kiosk_id:
            raise UploadError(403, "wrong_kiosk")
        if state.state == "checking":
            raise UploadError(409, "capture_busy")
        if state.state not in ("open", "taking"):
            raise UploadError(409, "capture_closed")
        claimed: CaptureState | None = None

        async def claim() -> bool:
            nonlocal claimed
            claimed = await self.states.move(capture_id, {"open", "taking"}, "checking")
            if claimed is None:
                raise UploadError(409, "capture_busy")
            return claimed.manual

        try:
            verdict = await process_still(data, claim, self.store, capture_id, state.matter_name)
        except BaseException:
            if claimed is not None:
                await self.states.move(capture_id, {"checking"}, "open", next_attempt=True)
            raise
        assert claimed is not None  # a verdict comes only after the claim
        if verdict.stored is None:
            await self.states.move(capture_id, {"checking"}, "open", next_attempt=True, manual="0")
            refused = out.capture_result(capture_id, ok=False, reasons=list(verdict.reasons),
                                         text=guidance_text(verdict.reasons[0]))
            await self.calls.send_to(state.members, refused)
            return _answer(refused)
        return await self._record(principal, claimed, verdict.stored, verdict.reasons, verdict.facts)

    async def _record(self, principal: Principal, state: CaptureState, stored: StoredImages, warnings: Sequence[str],
                      facts: dict[str, float]) -> dict[str, Any]:
        try:
            async with self.sessions() as session, session.begin():
                session.add(Capture(id=state.capture_id, session_id=state.call_id, material_name=state.material,
                                    document_type=state.document_type, state="pending",
                                    storage_name=stored.storage_name, width=stored.width, height=stored.height,
                                    sha256=stored.sha256, created_at=utcnow()))
                session.add(AuditLog(actor=principal.actor, action="capture_stored", object_type="capture",
                                     object_id=state.capture_id,
                                     data={"session_id": state.call_id, "manual": state.manual, **facts}))
        except SQLAlchemyError:
            self.store.delete(stored.storage_name)
            await self.states.move(state.capture_id, {"checking"}, "open", next_attempt=True)
            raise
        if await self.states.move(state.capture_id, {"checking"}, "review") is None:
            # Cancelled while being checked: nothing of it may stay behind.
            self.store.delete(stored.storage_name)
            async with self.sessions() as session, session.begin():
                row = await session.get(Capture, state.capture_id)
                if row is not None:
                    await session.delete(row)
            raise UploadError(409, "capture_closed")
        await self.pool.close(state.capture_id)
        accepted = out.capture_result(state.capture_id, ok=True, reasons=list(warnings), text=texts.ACCEPTED)
        await self.calls.send_to(state.members, accepted)
        await self.calls.send_to([state.caseworker_key], out.capture_ready({
            "capture_id": state.capture_id, "material": state.material, "document_type": state.document_type,
            **image_urls(state.capture_id), "width": stored.width, "height": stored.height,
            "rectified": stored.rectified, "manual": state.manual, "warnings": list(warnings)}))
        return _answer(accepted)


def _answer(result: out.CaptureResult) -> dict[str, Any]:
    """The upload's HTTP answer: the verdict the members were sent, without the message type."""
    return {key: value for key, value in result.items() if key != "type"}
