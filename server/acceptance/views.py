"""HTTP endpoints of the acceptance feature: the notice a kiosk shows before queueing, the receipt."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import select

from server.acceptance import texts
from server.acceptance.access import audit, readable_session
from server.acceptance.context import RECEIPTS
from server.acceptance.notices import NoticeFacts, RenderedNotice, notice_book, render
from server.acceptance.receipt_pdf import render_pdf
from server.acceptance.receipts import ReceiptView
from server.auth.principal import Principal, require_role
from server.catalog.service import CATALOG
from server.db.models import Centre, Kiosk, Site
from server.http import app_keys
from server.http.errors import ApiError
from server.http.qr import qr_svg
from server.http.routing import Param, Route
from server.runtime.district_time import local
from server.signaling.context import SIGNALING

NO_STORE = {"Cache-Control": "no-store"}


async def get_notice(request: web.Request) -> web.Response:
    """Kiosk: the current notice for a matter, naming this kiosk's centre."""
    principal = require_role(request, "kiosk")
    matter = (await request.app[CATALOG].current()).by_id(request.query.get("matter_id", ""))
    if matter is None:
        raise ApiError(404, "unknown_matter", texts.HTTP_ERRORS["unknown_matter"])
    async with request.app[app_keys.DB_SESSIONS]() as db:
        centre = await db.scalar(
            select(Centre.name).join(Site, Site.street_id == Centre.street_id).join(Kiosk, Kiosk.site_id == Site.id)
            .where(Kiosk.id == principal.kiosk_id))
    if centre is None:
        raise ApiError(404, "unknown_kiosk", texts.HTTP_ERRORS["unknown_kiosk"])
    settings = request.app[app_keys.SETTINGS]
    facts = NoticeFacts(centre=centre, materials=[x.name for x in matter.materials if x.capture],
                        retention_days=settings.capture_retention_days, recording=settings.recording_enabled)
    return web.json_response(render(notice_book(), facts).model_dump(), headers=NO_STORE)


async def _receipt(request: web.Request, *, kiosk: bool) -> tuple[ReceiptView, Principal]:
    principal = require_role(request, *(("kiosk",) if kiosk else ()), "caseworker", "supervisor")
    session_id = request.match_info["session_id"]
    await readable_session(request, principal, session_id, "receipt", kiosk=kiosk)
    receipt = await request.app[RECEIPTS].get(session_id)
    if receipt is None:
        raise ApiError(404, "no_receipt", texts.HTTP_ERRORS["no_receipt"])
    return receipt, principal


class SessionResultOut(BaseModel):
    """What came of a session: its state and, once its call has ended, the outcome and 受理编号."""

    session_id: str
    state: str
    outcome: str | None
    case_number: str | None


async def get_result(request: web.Request) -> web.Response:
    """The session's kiosk, caseworker and supervisors: what came of the session. A kiosk whose socket
    was down when its call ended (so `call_ended` never reached it) reads the outcome here."""
    principal = require_role(request, "kiosk", "caseworker", "supervisor")
    row = await readable_session(request, principal, request.match_info["session_id"], "result", kiosk=True)
    # The live queue's state while the ticket is in it: the record follows the queue's transitions
    # a moment later (docs/reliability.md), and a call just accepted must not read as offered.
    try:
        live = await request.app[SIGNALING].queue.ticket(row.id)
    except (RedisError, OSError):
        live = None  # the record's word, then: a kiosk recovering a lost call_ended still reads it
    out = SessionResultOut(session_id=row.id, state=live.state if live is not None else row.state,
                           outcome=row.outcome, case_number=row.case_number or None)
    return web.json_response(out.model_dump(), headers=NO_STORE)


class ReceiptOut(ReceiptView):
    """The receipt with its QR code as an SVG document, ready for the kiosk to show and print."""

    qr_svg: str


async def get_receipt(request: web.Request) -> web.Response:
    """The session's kiosk, caseworker and supervisors: the receipt as JSON (the kiosk shows and prints it)."""
    receipt, _ = await _receipt(request, kiosk=True)
    out = ReceiptOut(**receipt.model_dump(), qr_svg=qr_svg(receipt.qr_text, texts.RECEIPT["title"]))
    return web.json_response(out.model_dump(), headers=NO_STORE)


async def get_receipt_pdf(request: web.Request) -> web.Response:
    """The session's caseworker and supervisors: the receipt as a PDF (audited: it names the resident's case)."""
    receipt, principal = await _receipt(request, kiosk=False)
    await audit(request, principal, "receipt_pdf", receipt.session_id)
    issued = local(datetime.fromisoformat(receipt.issued_at.replace("Z", "+00:00")))
    body = render_pdf(receipt, issued.strftime("%Y-%m-%d %H:%M") if issued else "")
    name = f"receipt-{receipt.case_number or receipt.session_id}.pdf"
    return web.Response(body=body, content_type="application/pdf",
                        headers={**NO_STORE, "Content-Disposition": f'inline; filename="{name}"'})


SESSION = Param("session_id", location="path", description="the session (= call) id")

ROUTES: list[Route] = [
    Route("GET", "/api/v1/kiosk/notice", get_notice,
          "The notice shown before queueing (centre, photographed materials, retention, recording) and its version, "
          "which `join` answers with `consent`", "acceptance", roles=("kiosk",),
          params=(Param("matter_id", description="the matter the resident picked", required=True),),
          response=RenderedNotice, errors=(401, 403, 404)),
]
ROUTES += [
    Route("GET", "/api/v1/sessions/{session_id}/result", get_result,
          "What came of a session: `state` and, once its call has ended, `outcome` and `case_number` (a kiosk that "
          "was offline when its call ended shows them)", "acceptance", roles=("kiosk", "caseworker", "supervisor"),
          params=(SESSION,), response=SessionResultOut, errors=(401, 403, 404)),
    Route("GET", "/api/v1/sessions/{session_id}/receipt", get_receipt,
          "The 受理回执 of a session ended with 受理 or 材料不全 (case number or the missing materials with what each "
          "must show, promise, centre phone, QR text)", "acceptance", roles=("kiosk", "caseworker", "supervisor"),
          params=(SESSION,), response=ReceiptOut, errors=(401, 403, 404)),
    Route("GET", "/api/v1/sessions/{session_id}/receipt.pdf", get_receipt_pdf,
          "The 受理回执 as a PDF (A4, audited)", "acceptance", roles=("caseworker", "supervisor"),
          params=(SESSION,), response_content_type="application/pdf", errors=(401, 403, 404)),
]
