"""The resident's signature: the HMAC binding (a changed form, image or time fails), the image checks,
the upload and its refusals, the console's `form_status` signed, viewing (audited), the session detail,
`jinglin verify-signature`, and 受理 refused without a required signature. Full app, real Redis.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select, update

from matters_catalog.forms import FieldSet, FormBook, matter_form, shipped_forms
from server.acceptance import cli as acceptance_cli
from server.acceptance.context import SIGNATURES
from server.acceptance.signature_binding import bind, binding_key, canonical_form, verify
from server.acceptance.signature_gate import SignatureGate
from server.acceptance.signature_image import SignatureImageError, check_signature
from server.db.models import AuditLog, FormVersion, Signature
from server.http import app_keys
from server.signaling.context import SIGNALING
from tests.protocol_client import Env
from tests.test_acceptance_forms import CONSENT, values
from tests.test_acceptance_forms import env as env
from tests.test_capture_support import Client, capture_env, into_call
from tests.test_capture_support import made as made

FIELDS: list[dict[str, Any]] = [{"key": "name", "label": "申请人姓名", "type": "text", "required": True,
                                 "value": "张三"}]
AT = datetime(2026, 12, 3, 9, 30, 1, 123456, tzinfo=UTC)


def png_bytes(image: Image.Image) -> bytes:
    """The image encoded as PNG."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def signature_png(width: int = 600, height: int = 200, strokes: int = 3, transparent: bool = False) -> bytes:
    """A drawn signature: a few long zigzag strokes across the canvas (dark ink on white or on nothing)."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0) if transparent else (255, 255, 255, 255))
    draw = ImageDraw.Draw(image)
    for n in range(strokes):
        points = [(40 + 60 * i + 20 * n, 40 + (i % 2) * 100 + 5 * n) for i in range(8)]
        draw.line(points, fill=(20, 20, 40, 255), width=4)
    return png_bytes(image)


def filled_png() -> bytes:
    """A signing area painted over: all black but a thin margin."""
    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 590, 190), fill="black")
    return png_bytes(image)


def dot_png() -> bytes:
    """A tap: one small dot on a signing area."""
    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).ellipse((300, 100, 306, 106), fill="black")
    return png_bytes(image)


# --- the binding -------------------------------------------------------------------------------

def test_the_binding_fails_when_a_form_byte_an_image_byte_or_the_time_changes() -> None:
    key = binding_key("secret-one")
    image = signature_png()
    digest, mac = bind(key, "s1", 2, FIELDS, image, AT)
    assert len(digest) == 64 and len(mac) == 64
    assert verify(key, "s1", 2, FIELDS, image, AT, mac)
    changed_form = [{**FIELDS[0], "value": "张王"}]
    assert not verify(key, "s1", 2, changed_form, image, AT, mac)
    changed_image = bytearray(image)
    changed_image[-20] ^= 1
    assert not verify(key, "s1", 2, FIELDS, bytes(changed_image), AT, mac)
    assert not verify(key, "s1", 2, FIELDS, image, AT + timedelta(microseconds=1), mac)
    assert not verify(key, "s2", 2, FIELDS, image, AT, mac)
    assert not verify(key, "s1", 1, FIELDS, image, AT, mac)
    assert not verify(binding_key("secret-two"), "s1", 2, FIELDS, image, AT, mac)
    # Key order does not matter (canonical JSON); a changed byte of any value does.
    assert canonical_form([dict(reversed(list(FIELDS[0].items())))]) == canonical_form(FIELDS)


def test_the_image_check_refuses_taps_lines_and_what_is_no_png() -> None:
    assert check_signature(signature_png()).pixels > 500
    assert check_signature(signature_png(transparent=True)).pixels > 500  # signature_pad's default background
    with pytest.raises(SignatureImageError) as refused:
        check_signature(dot_png())
    assert refused.value.code == "empty_signature"
    blank = png_bytes(Image.new("RGB", (600, 200), "white"))
    for data, code in [(blank, "empty_signature"), (filled_png(), "not_a_signature"),
                       (b"GIF89a....", "not_png"), (b"", "missing_image"),
                       (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "not_an_image"),
                       (signature_png(width=100, height=50), "bad_canvas"),
                       (b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024), "too_large")]:
        with pytest.raises(SignatureImageError) as refused:
            check_signature(data)
        assert refused.value.code == code
    # A canvas of 16 megapixels compresses to a few kilobytes: refused by its size before it is decoded.
    huge = png_bytes(Image.new("RGB", (4096, 4096), "white"))
    assert len(huge) < 100_000
    with pytest.raises(SignatureImageError) as refused:
        check_signature(huge)
    assert refused.value.code == "bad_canvas"
    line = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(line).line([(50, 100), (550, 100)], fill="black", width=4)  # one flat stroke
    with pytest.raises(SignatureImageError):
        check_signature(png_bytes(line))


# --- over the API ------------------------------------------------------------------------------

async def confirmed(env: Env, made: list[Client], consent: dict[str, str] | None = CONSENT,
                    kiosk_n: int = 0, cw_name: str = "cw1") -> tuple[Client, Client, str]:
    """A call whose form version 1 was sent and confirmed on the kiosk."""
    kiosk, cw, call_id = await into_call(env, made, kiosk_n=kiosk_n, cw_name=cw_name, consent=consent)
    assert (await cw.request({"type": "form_send", "call_id": call_id, "values": values()}))["type"] == "ok"
    await kiosk.expect("form")
    ok = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 1, "choice": "confirmed"})
    assert ok["type"] == "ok", ok
    await cw.expect("form_status", state="confirmed")
    return kiosk, cw, call_id


async def sign(client: Client, call_id: str, version: int | str = 1, data: bytes | None = None) -> tuple[int, Any]:
    response = await client.http.post(client.env.url(f"/api/v1/sessions/{call_id}/signature"),
                                      params={"version": str(version)},
                                      data=io.BytesIO(signature_png() if data is None else data),
                                      headers={"Content-Type": "image/png"})
    return response.status, await response.json()


async def audits(env: Env, action: str) -> int:
    async with env.app[app_keys.DB_SESSIONS]() as db:
        return int(await db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action)) or 0)


async def test_signed_viewed_detailed_and_verified(env: Env, made: list[Client], monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    kiosk, cw, call_id = await confirmed(env, made)
    status, body = await sign(kiosk, call_id)
    assert status == 201 and body["form_version"] == 1 and body["verified"] is True, body
    assert (await cw.expect("form_status", state="signed"))["version"] == 1
    assert (await cw.connect())["state"]["call"]["form_last"]["state"] == "signed"
    assert (await kiosk.connect())["state"]["call"]["form_last"] is None  # signed: nothing to show again
    resent = await cw.request({"type": "form_send", "call_id": call_id, "values": values(address="")})
    assert resent["code"] == "form_signed", resent  # the signed version stays the last one
    assert await sign(kiosk, call_id) == (409, {"error": {"code": "already_signed",
                                                          "message": "这次服务已经签过名了"}})
    # The caseworker and a supervisor see the image, each view audited first.
    image = await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/signature.png"))
    assert image.status == 200 and image.content_type == "image/png"
    assert await image.read() == signature_png()
    boss = Client(env)
    made.append(boss)
    await boss.staff_login("boss")
    assert (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}/signature.png"))).status == 200
    assert await audits(env, "signature_viewed") == 2
    detail = await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json()
    assert detail["signature"]["verified"] is True and detail["signature"]["at"].endswith("Z")
    assert detail["form"]["state"] == "signed" and detail["form"]["confirmed_at"]
    # Another caseworker and the kiosk itself: 403, audited.
    other = Client(env)
    made.append(other)
    await other.staff_login("cw2")
    assert (await other.http.get(env.url(f"/api/v1/sessions/{call_id}/signature.png"))).status == 403
    assert (await kiosk.http.get(env.url(f"/api/v1/sessions/{call_id}/signature.png"))).status == 403
    assert await audits(env, "signature_view_denied") == 2
    # The stored file is encrypted: the PNG's bytes are nowhere on disk.
    stored = list((env.app[app_keys.SETTINGS].data_dir / "signatures").glob("*/*.jls"))
    assert len(stored) == 1 and b"PNG" not in stored[0].read_bytes()

    # jinglin verify-signature against the same data dir and database.
    settings = env.app[app_keys.SETTINGS]
    monkeypatch.setattr(acceptance_cli, "load_settings", lambda: settings)
    args = type("Args", (), {"session_id": call_id, "json": True})()
    assert await _cli(args) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    async with env.app[app_keys.DB_SESSIONS]() as db, db.begin():  # one form value changed afterwards
        row = await db.scalar(select(FormVersion).where(FormVersion.session_id == call_id))
        assert row is not None
        fields = [dict(f) for f in row.fields]
        fields[0]["value"] = "李四"
        await db.execute(update(FormVersion).where(FormVersion.id == row.id).values(fields=fields))
    assert await _cli(args) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verified"] is False and out["reason"] == "binding_mismatch"
    detail = await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json()
    assert detail["signature"]["verified"] is False
    args.session_id = "nope"
    assert await _cli(args) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "no_signature"


async def _cli(args: Any) -> int:
    """`jinglin verify-signature` in this event loop (the command itself runs its own)."""
    result = await acceptance_cli.check(args.session_id)
    real_run = acceptance_cli.asyncio.run
    try:
        acceptance_cli.asyncio.run = lambda coroutine: (coroutine.close(), result)[1]  # type: ignore[assignment]
        return acceptance_cli.run(args)
    finally:
        acceptance_cli.asyncio.run = real_run  # type: ignore[assignment]


async def test_bad_signatures_are_refused_and_nothing_is_kept(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    assert (await sign(kiosk, call_id))[1]["error"]["code"] == "form_version_unknown"  # nothing shown yet
    await cw.request({"type": "form_send", "call_id": call_id, "values": values()})
    await kiosk.expect("form")
    assert (await sign(kiosk, call_id))[1]["error"]["code"] == "form_not_confirmed"  # shown, not confirmed
    await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 1, "choice": "confirmed"})
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"version": 2}, 409, "form_version_unknown"),  # a version never shown
        # Nothing to sign, nothing decoded: the version is checked before the image.
        ({"version": 2, "data": b"GIF89a" + b"\0" * 100}, 409, "form_version_unknown"),
        ({"version": "x"}, 400, "bad_version"),
        ({"version": "0"}, 400, "bad_version"),
        ({"data": b"GIF89a" + b"\0" * 100}, 415, "not_png"),
        ({"data": b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 1)}, 413, "too_large"),
        ({"data": dot_png()}, 422, "empty_signature"),
        ({"data": filled_png()}, 422, "not_a_signature"),
        ({"data": b""}, 400, "missing_image"),
    ]
    for kwargs, status, code in cases:
        got, body = await sign(kiosk, call_id, **kwargs)
        assert (got, body["error"]["code"]) == (status, code), (kwargs.keys(), body)
        assert body["error"]["message"]
    # Another kiosk, a caseworker, nobody signed in.
    stranger = Client(env)
    made.append(stranger)
    await stranger.kiosk_login(env.kiosk_tokens[1])
    assert (await sign(stranger, call_id))[0] == 403
    assert await audits(env, "signature_upload_denied") == 1
    assert (await sign(cw, call_id))[0] == 403
    anonymous = Client(env)
    made.append(anonymous)
    assert (await sign(anonymous, call_id))[0] == 401
    assert (await sign(kiosk, "0" * 32))[0] == 404
    async with env.app[app_keys.DB_SESSIONS]() as db:
        assert await db.scalar(select(func.count()).select_from(Signature)) == 0
        assert await db.scalar(select(FormVersion.state)) == "confirmed"
    assert not list((env.app[app_keys.SETTINGS].data_dir / "signatures").glob("*/*"))
    assert (await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/signature.png"))).status == 404


async def test_no_signature_without_consent(env: Env, made: list[Client]) -> None:
    kiosk, _cw, call_id = await confirmed(env, made, consent=None)  # a client that showed no notice
    status, body = await sign(kiosk, call_id)
    assert (status, body["error"]["code"]) == (409, "consent_required")
    assert await audits(env, "signature_refused") == 1


async def test_acceptance_waits_for_a_required_signature(env: Env, made: list[Client]) -> None:
    # The shipped book asks it of 民政; here the test's matter's department (公安) asks for it too.
    book = shipped_forms()
    police = book.departments["公安"]
    requiring = FormBook(version="t", departments={**book.departments, "公安": FieldSet(
        fields=police.fields, omit=police.omit, signature_required=True)})
    for step in env.app[SIGNALING].caseworker_handlers.end_steps:
        if isinstance(step, SignatureGate):
            step.forms = lambda: requiring
    kiosk, cw, call_id = await confirmed(env, made)
    refused = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"})
    assert refused["code"] == "signature_required" and "签名" in refused["message"], refused
    assert (await sign(kiosk, call_id))[0] == 201
    ended = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"})
    assert ended["type"] == "ok", ended
    assert (await kiosk.expect("call_ended"))["case_number"].endswith("-0001")  # the refusal burnt no number


def test_the_shipped_book_asks_a_signature_of_civil_affairs_only() -> None:
    from matters_catalog.loader import load_catalog

    catalog = load_catalog()
    book = shipped_forms()
    police, civil = catalog.by_id("gaj-jlks-01"), next(m for m in catalog.matters if m.department == "民政")
    assert police is not None
    assert not matter_form(police, book).signature_required and matter_form(civil, book).signature_required


def test_rotate_key_re_encrypts_signature_images(tmp_path: Path) -> None:
    from server.acceptance.signatures import SignatureFiles
    from server.capture.rotate import ROTATIONS
    from server.capture.storage import StorageError
    from server.cli import build_parser

    build_parser()  # registers the signature images with `jinglin rotate-key`
    assert acceptance_cli.rotate_signature_key in ROTATIONS
    old, new = SignatureFiles(tmp_path, "old-secret"), SignatureFiles(tmp_path, "new-secret")
    name = old.new_name()
    old.write(name, signature_png())
    report = acceptance_cli.rotate_signature_key(tmp_path, "old-secret", "new-secret")
    assert (report.rotated, report.already, report.unreadable) == (1, 0, 0)
    assert new.read(name) == signature_png()
    with pytest.raises(StorageError):
        old.read(name)
    assert acceptance_cli.rotate_signature_key(tmp_path, "old-secret", "new-secret").already == 1


async def test_rotate_key_moves_the_binding_to_the_new_key(env: Env, made: list[Client]) -> None:
    from server.acceptance.signatures import SignatureFiles, SignatureStore

    kiosk, _cw, call_id = await confirmed(env, made)
    assert (await sign(kiosk, call_id))[0] == 201
    settings = env.app[app_keys.SETTINGS]
    old, new = settings.resolved_secret_key(), "new-secret-" + "n" * 32
    sessions = env.app[app_keys.DB_SESSIONS]
    assert acceptance_cli.rotate_signature_key(settings.data_dir, old, new).rotated == 1
    images = [SignatureFiles(settings.data_dir, new), SignatureFiles(settings.data_dir, old)]
    report = await acceptance_cli._rebind(sessions, images, binding_key(old), binding_key(new))
    assert (report.rotated, report.already, report.unreadable) == (1, 0, 0)
    renewed = SignatureStore(sessions, SignatureFiles(settings.data_dir, new), new)
    assert (await renewed.verify(call_id)).verified
    stale = await SignatureStore(sessions, SignatureFiles(settings.data_dir, old), old).verify(call_id)
    assert stale.reason == "image_unreadable"
    again = await acceptance_cli._rebind(sessions, images, binding_key(old), binding_key(new))
    assert (again.rotated, again.already) == (0, 1)


async def test_the_binding_survives_the_round_trip_through_each_database(tmp_path: Path, database_url: str,
                                                                         made: list[Client]) -> None:
    # The time (microseconds) and the form's JSON come back from the database exactly as they were bound.
    async with capture_env(tmp_path, DATABASE_URL=database_url) as running:
        kiosk, _cw, call_id = await confirmed(running, made)
        assert (await sign(kiosk, call_id))[0] == 201
        checked = await running.app[SIGNATURES].verify(call_id)
        assert checked.verified and checked.form_version == 1, checked
