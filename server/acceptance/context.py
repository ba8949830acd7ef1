"""The acceptance feature's cleanup context: the consent, form, signature and receipt stores and their hooks into
signaling (`join`, `form_send`/`form_reply`, the call view, `end_call`), capture and the session detail.

Appended to `app.cleanup_ctx` after `capture_context` (it needs `app[SIGNALING]` and `app[CAPTURE]`).
Signaling and capture sit below this feature, so it hands them its checks instead of being imported.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from matters_catalog.forms import shipped_forms
from server.acceptance.consent_step import ConsentStep
from server.acceptance.consents import ConsentStore
from server.acceptance.form_step import FormStep
from server.acceptance.forms import FormStore
from server.acceptance.receipt_step import ReceiptStep
from server.acceptance.receipts import ReceiptStore
from server.acceptance.signature_gate import SignatureGate
from server.acceptance.signatures import SignatureFiles, SignatureStore
from server.capture.context import CAPTURE
from server.http import app_keys
from server.reports.queries import SessionRow
from server.reports.session_detail import add_detail_part
from server.signaling.context import SIGNALING

FORMS: web.AppKey[FormStore] = web.AppKey("forms")
CONSENTS: web.AppKey[ConsentStore] = web.AppKey("consents")
RECEIPTS: web.AppKey[ReceiptStore] = web.AppKey("receipts")
SIGNATURES: web.AppKey[SignatureStore] = web.AppKey("signatures")


async def acceptance_context(app: web.Application) -> AsyncIterator[None]:
    """Create the consent store and install the consent step, the capture gate and the detail part."""
    store = ConsentStore(app[app_keys.DB_SESSIONS])
    app[CONSENTS] = store
    step = ConsentStep(store)
    signaling = app[SIGNALING]
    signaling.add_join_step(step)
    signaling.fanout.views.consent_of = store.get
    app[CAPTURE].gates.append(step.capture_refusal)

    async def detail(_: web.Application, row: SessionRow) -> dict[str, object] | None:
        view = await store.get(row.id)
        return view.model_dump() if view else None

    add_detail_part(app, "consent", detail)
    settings = app[app_keys.SETTINGS]
    secret = settings.resolved_secret_key()
    signatures = SignatureStore(app[app_keys.DB_SESSIONS], SignatureFiles(settings.ensure_data_dir(), secret), secret)
    app[SIGNATURES] = signatures
    # Before the case number step: a 受理 refused for want of a signature must not burn a number.
    signaling.add_end_step(SignatureGate(signatures, app[app_keys.DB_SESSIONS], signaling.catalog.current,
                                         shipped_forms))
    receipts = ReceiptStore(app[app_keys.DB_SESSIONS], settings.case_number_format)
    app[RECEIPTS] = receipts
    signaling.add_end_step(ReceiptStep(receipts, app[app_keys.DB_SESSIONS], settings.case_number_typed,
                                       signaling.catalog.current))
    forms = FormStore(app[app_keys.DB_SESSIONS])
    app[FORMS] = forms
    signaling.fanout.views.form_of = forms.last_view
    FormStep(forms, signaling.queue.ticket, signaling.hub.send_to, signaling.catalog.current).register(
        signaling.register)

    async def form_detail(_: web.Application, row: SessionRow) -> dict[str, object] | None:
        return await forms.detail(row.id)

    add_detail_part(app, "form", form_detail)

    async def signature_detail(_: web.Application, row: SessionRow) -> dict[str, object] | None:
        return await signatures.detail(row.id)

    add_detail_part(app, "signature", signature_detail)
    yield
