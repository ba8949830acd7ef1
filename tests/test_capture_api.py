"""Capture over HTTP and the WebSocket: upload validation, access to images, audit, review, purge.

Full app with the capture pipeline (tests/test_capture_support.py), real Redis and database;
stills are synthetic document photos from tests/quality_fixtures.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError
from sqlalchemy import select

from server.capture.context import CAPTURE
from server.capture.health import DEVICE_CHECKS_PER_HOUR, HISTORY_DAYS, delete_old_samples
from server.capture.purge import purge_expired
from server.capture.storage import VARIANTS, CaptureStore, variant_path
from server.db.models import AuditLog, Capture, Kiosk, KioskHealthSample, ServiceSession
from server.db.types import utcnow
from server.http import app_keys
from server.protocol import messages as m
from server.quality import guidance_text
from tests.test_capture_support import (
    Client,
    Env,
    capture_env,
    good_sample,
    good_still,
    into_call,
    jpeg,
    request_capture,
)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with capture_env(tmp_path) as running:
        yield running


@pytest.fixture
async def made(env: Env) -> AsyncIterator[list[Client]]:
    clients: list[Client] = []
    yield clients
    for client in clients:
        await client.close()


async def _stored(env: Env, made: list[Client]) -> tuple[Client, Client, str, dict[str, Any]]:
    """A call with one accepted upload; returns kiosk, caseworker, call id and capture_ready's capture."""
    kiosk, cw, call_id = await into_call(env, made)
    request = await request_capture(kiosk, cw, call_id)
    response = await kiosk.upload(request["capture_id"], jpeg(good_still()))
    body = await response.json()
    assert response.status == 200, body
    assert body["ok"] is True, body
    result = await kiosk.expect("capture_result", capture_id=request["capture_id"])
    assert result["ok"] is True
    ready = (await cw.expect("capture_ready"))["capture"]
    return kiosk, cw, call_id, ready


async def _other(env: Env, made: list[Client], *, kiosk: int | None = None, staff: str | None = None) -> Client:
    client = Client(env)
    made.append(client)
    if kiosk is not None:
        await client.kiosk_login(env.kiosk_tokens[kiosk])
    if staff is not None:
        await client.staff_login(staff)
    return client


async def test_upload_round_trip_is_watermarked_audited_and_not_cached(env: Env, made: list[Client]) -> None:
    _, cw, call_id, ready = await _stored(env, made)
    assert ready["image_url"].endswith("variant=rectified")
    assert ready["rectified"] is True
    # Rectified to the document's own aspect (ID-1 card, ISO page or certificate).
    aspect = good_sample().aspect
    assert aspect is not None
    long_short = max(ready["width"], ready["height"]) / min(ready["width"], ready["height"])
    assert long_short == pytest.approx(max(aspect, 1 / aspect), rel=0.03)
    images = {}
    for key in ("image_url", "original_url"):
        response = await cw.http.get(env.url(ready[key]))
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.content_type == "image/jpeg"
        data = await response.read()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        images[key] = image
    assert images["image_url"].shape[:2] == (ready["height"], ready["width"])
    original = good_still()
    assert images["original_url"].shape == original.shape
    # The overlay band at the bottom differs from what the camera saw; the top half barely does.
    band = slice(original.shape[0] - original.shape[0] // 20, original.shape[0])
    changed = np.abs(images["original_url"][band].astype(int) - original[band].astype(int)).mean()
    untouched = np.abs(images["original_url"][:40].astype(int) - original[:40].astype(int)).mean()
    assert changed > 30 > untouched * 3
    async with env.app[app_keys.DB_SESSIONS]() as session:
        views = (await session.scalars(select(AuditLog).where(AuditLog.action == "capture_viewed"))).all()
        assert {v.data["variant"] for v in views} == {"rectified", "original"}
        assert all(v.actor.startswith("caseworker:") and v.object_id == ready["capture_id"] for v in views)
    listing = await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/captures"))
    assert listing.status == 200
    captures = (await listing.json())["captures"]
    assert [c["capture_id"] for c in captures] == [ready["capture_id"]]
    assert captures[0]["state"] == "pending"


async def test_files_on_disk_are_encrypted(env: Env, made: list[Client]) -> None:
    _, _, _, ready = await _stored(env, made)
    async with env.app[app_keys.DB_SESSIONS]() as session:
        row = await session.get(Capture, ready["capture_id"])
        assert row is not None
    settings = env.app[app_keys.SETTINGS]
    store = CaptureStore(settings.data_dir, settings.resolved_secret_key())
    for variant in VARIANTS:
        blob = variant_path(settings.data_dir, row.storage_name, variant).read_bytes()
        plaintext = store.read(row.storage_name, variant)
        assert plaintext.startswith(b"\xff\xd8\xff")  # it decrypts back to a JPEG ...
        assert blob.startswith(b"JLC1")  # ... stored in our envelope,
        # ... and no stretch of the image appears in the file (a short magic number could turn up
        # in random ciphertext by chance; 32 bytes cannot).
        for offset in (0, len(plaintext) // 2, len(plaintext) - 32):
            assert plaintext[offset:offset + 32] not in blob
        assert ready["capture_id"] not in row.storage_name


async def test_only_the_sessions_caseworker_and_supervisors_see_images(env: Env, made: list[Client]) -> None:
    _, _, call_id, ready = await _stored(env, made)
    strangers = {
        "other caseworker": (await _other(env, made, staff="cw2"), 403),
        "the call's own kiosk": (await _other(env, made, kiosk=0), 403),
        "admin": (await _other(env, made, staff="root"), 403),
        "anonymous": (await _other(env, made), 401),
    }
    for who, (stranger, expected) in strangers.items():
        for url in (ready["image_url"], ready["original_url"], f"/api/v1/sessions/{call_id}/captures"):
            response = await stranger.http.get(env.url(url))
            assert response.status == expected, (who, url)
            assert "error" in await response.json()
    boss = await _other(env, made, staff="boss")
    assert (await boss.http.get(env.url(ready["image_url"]))).status == 200
    unknown = await boss.http.get(env.url("/api/v1/captures/" + "0" * 32 + "/image"))
    assert unknown.status == 404
    assert (await unknown.json())["error"]["code"] == "unknown_capture"


async def test_upload_validation(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made)
    capture_id = (await request_capture(kiosk, cw, call_id))["capture_id"]
    image = good_still()
    png = io.BytesIO()
    Image.new("L", (6000, 4100)).save(png, format="PNG")  # 24.6 megapixels, a small file
    gif = io.BytesIO()
    Image.new("RGB", (64, 64)).save(gif, format="GIF")
    cases: list[tuple[bytes, int, str]] = [
        (b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024), 413, "too_large"),
        (b"%PDF-1.7 hello", 415, "unsupported_type"),
        (gif.getvalue(), 415, "unsupported_type"),
        (jpeg(image)[:5000], 422, "not_an_image"),
        # Cut and closed again with an end-of-image marker: libjpeg would grey-fill the rest.
        (jpeg(image)[: len(jpeg(image)) // 2] + b"\xff\xd9", 422, "not_an_image"),
        (png.getvalue(), 422, "too_many_pixels"),
    ]
    for data, status, code in cases:
        response = await kiosk.upload(capture_id, data)
        body = await response.json()
        assert (response.status, body["error"]["code"]) == (status, code), body
        assert body["error"]["message"]
    # A field of another name is no image at all.
    form = aiohttp.FormData()
    form.add_field("file", jpeg(image), filename="x.jpg", content_type="image/jpeg")
    response = await kiosk.http.post(env.url(f"/api/v1/captures/{capture_id}/image"), data=form)
    assert (response.status, (await response.json())["error"]["code"]) == (400, "missing_image")
    wrong_kiosk = await _other(env, made, kiosk=1)
    response = await wrong_kiosk.upload(capture_id, jpeg(image))
    assert (response.status, (await response.json())["error"]["code"]) == (403, "wrong_kiosk")
    response = await kiosk.upload("f" * 32, jpeg(image))
    assert (response.status, (await response.json())["error"]["code"]) == (404, "unknown_capture")
    response = await cw.upload(capture_id, jpeg(image))
    assert response.status == 403
    # After all that, the request is still open and a good PNG still is accepted.
    _, encoded = cv2.imencode(".png", image)
    response = await kiosk.upload(capture_id, encoded.tobytes(), "still.png", "image/png")
    assert (await response.json())["ok"] is True


async def test_bad_multipart_is_a_400_and_an_unknown_capture_a_404_before_the_body(
        env: Env, made: list[Client], caplog: pytest.LogCaptureFixture) -> None:
    kiosk, cw, call_id = await into_call(env, made)
    capture_id = (await request_capture(kiosk, cw, call_id))["capture_id"]
    url = env.url(f"/api/v1/captures/{capture_id}/image")
    body = b"--abc\r\nContent-Disposition: form-data; name=image\r\n\r\nxx\r\n--abc--\r\n"
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=zzz", "multipart/form-data; boundary="):
        response = await kiosk.http.post(url, data=body, headers={"Content-Type": content_type})
        assert (response.status, (await response.json())["error"]["code"]) == (400, "bad_multipart"), content_type
    # A part the body ends inside, with no closing boundary (an upload cut off).
    cut = b"--abc\r\nContent-Disposition: form-data; name=image; filename=a.jpg\r\n\r\n\xff\xd8\xff\xe0abc"
    response = await kiosk.http.post(url, data=cut, headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert (response.status, (await response.json())["error"]["code"]) == (400, "bad_multipart")
    # Thousands of empty parts before the image (100,000 kept the event loop busy ~10 s): refused
    # after the ninth.
    many = b"".join(b"--abc\r\nContent-Disposition: form-data; name=x\r\n\r\na\r\n" for _ in range(20_000))
    response = await kiosk.http.post(url, data=many + b"--abc--\r\n",
                                     headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert (response.status, (await response.json())["error"]["code"]) == (400, "bad_multipart")
    assert not [r for r in caplog.records if r.exc_info]
    # Headers announcing 5 MB and no body at all: the answer comes without waiting for it.
    cookie = next(c.value for c in kiosk.http.cookie_jar if c.key == "jl_session")
    assert env.server is not None
    reader, writer = await asyncio.open_connection(env.server.host, env.server.port)
    writer.write((f"POST /api/v1/captures/{'f' * 32}/image HTTP/1.1\r\nHost: x\r\nCookie: jl_session={cookie}\r\n"
                  "Content-Type: multipart/form-data; boundary=abc\r\nContent-Length: 5000000\r\n\r\n").encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert b" 404 " in status_line


async def test_a_bad_still_is_refused_with_the_reason_and_guidance_text(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made)
    capture_id = (await request_capture(kiosk, cw, call_id))["capture_id"]
    blurred = cv2.GaussianBlur(good_still(), (0, 0), 6)
    response = await kiosk.upload(capture_id, jpeg(blurred))
    body = await response.json()
    assert response.status == 200
    assert body["ok"] is False and "blurry" in body["reasons"]
    assert body["text"] == guidance_text(body["reasons"][0])
    for member in (kiosk, cw):
        result = await member.expect("capture_result", capture_id=capture_id)
        assert result == {"type": "capture_result", **body}
    # The request stays open for the next attempt.
    response = await kiosk.upload(capture_id, jpeg(good_still()))
    assert (await response.json())["ok"] is True


async def test_manual_capture_keeps_a_poor_still(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made)
    capture_id = (await request_capture(kiosk, cw, call_id))["capture_id"]
    await cw.send({"type": "capture_now", "capture_id": capture_id})
    take = await kiosk.expect("capture_take", capture_id=capture_id)
    assert take["manual"] is True
    response = await kiosk.upload(capture_id, jpeg(cv2.GaussianBlur(good_still(), (0, 0), 6)))
    body = await response.json()
    assert body["ok"] is True and "blurry" in body["reasons"]
    ready = (await cw.expect("capture_ready"))["capture"]
    assert ready["manual"] is True


async def test_an_image_never_reviewed_is_closed_with_its_request(env: Env, made: list[Client]) -> None:
    _kiosk, cw, call_id, ready = await _stored(env, made)
    listing = await (await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/captures"))).json()
    assert [c["state"] for c in listing["captures"]] == ["pending"]  # waiting for the review
    reply = await cw.request({"type": "capture_cancel", "capture_id": ready["capture_id"]}, ref=31)
    assert reply["type"] == "ok", reply
    listing = await (await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/captures"))).json()
    assert [c["state"] for c in listing["captures"]] == ["closed"]  # a reloaded console offers no review


async def test_listing_shows_the_request_still_waiting_for_its_still(env: Env, made: list[Client]) -> None:
    """A console reloaded mid-capture learns the open request (nothing uploaded yet) from the listing."""
    kiosk, cw, call_id = await into_call(env, made)
    url = env.url(f"/api/v1/sessions/{call_id}/captures")
    assert (await (await cw.http.get(url)).json())["open_request"] is None
    request = await request_capture(kiosk, cw, call_id)
    listing = await (await cw.http.get(url)).json()
    assert listing["captures"] == []
    assert listing["open_request"] == {"capture_id": request["capture_id"], "material": request["material"],
                                       "document_type": request["document_type"], "state": "open"}
    response = await kiosk.upload(request["capture_id"], jpeg(good_still()))
    assert response.status == 200, await response.text()
    await cw.expect("capture_ready")
    listing = await (await cw.http.get(url)).json()
    assert [c["state"] for c in listing["captures"]] == ["pending"]  # now the review, not the request
    assert listing["open_request"] is None
    reply = await cw.request({"type": "capture_cancel", "capture_id": request["capture_id"]}, ref=41)
    assert reply["type"] == "ok", reply
    assert (await (await cw.http.get(url)).json())["open_request"] is None


async def test_review_retake_opens_a_new_request_and_accept_closes(env: Env, made: list[Client]) -> None:
    kiosk, cw, _, ready = await _stored(env, made)
    first = ready["capture_id"]
    reply = await cw.request({"type": "capture_review", "capture_id": first, "decision": "retake"}, ref=5)
    assert reply["type"] == "ok"
    assert (await kiosk.expect("capture_done", capture_id=first))["decision"] == "retake"
    again = await kiosk.expect("capture_request")
    assert again["capture_id"] != first
    response = await kiosk.upload(first, jpeg(good_still()))
    assert (response.status, (await response.json())["error"]["code"]) == (409, "capture_closed")
    await kiosk.upload(again["capture_id"], jpeg(good_still()))
    await cw.expect("capture_ready")
    reply = await cw.request({"type": "capture_review", "capture_id": again["capture_id"], "decision": "accept"},
                             ref=6)
    assert reply["type"] == "ok"
    async with env.app[app_keys.DB_SESSIONS]() as session:
        states = {row.id: row.state for row in (await session.scalars(select(Capture))).all()}
    assert states == {first: "retake", again["capture_id"]: "accepted"}
    stranger = await _other(env, made, staff="cw2")
    await stranger.connect()
    reply = await stranger.request({"type": "capture_cancel", "capture_id": again["capture_id"]}, ref=7)
    assert reply["code"] == "not_capture_member"


async def test_capture_request_checks_the_call_and_the_material(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made)
    reply = await cw.request({"type": "capture_request", "call_id": call_id, "material": "户口本"}, ref=1)
    assert reply["code"] == "unknown_material"
    stranger = await _other(env, made, staff="cw2")
    await stranger.connect()
    reply = await stranger.request({"type": "capture_request", "call_id": call_id, "material": "身份证原件"}, ref=2)
    assert reply["code"] == "not_in_call"
    capture_id = (await request_capture(kiosk, cw, call_id))["capture_id"]
    reply = await kiosk.request({"type": "capture_cancel", "capture_id": capture_id}, ref=3)
    assert reply["type"] == "ok"
    assert (await cw.expect("capture_done", capture_id=capture_id))["decision"] == "cancelled"


async def test_purge_removes_images_and_keeps_the_session(env: Env, made: list[Client]) -> None:
    _, cw, call_id, ready = await _stored(env, made)
    sessions = env.app[app_keys.DB_SESSIONS]
    settings = env.app[app_keys.SETTINGS]
    async with sessions() as session:
        row = await session.get(Capture, ready["capture_id"])
        assert row is not None
    files = [variant_path(settings.data_dir, row.storage_name, v) for v in VARIANTS]
    assert all(f.exists() for f in files)
    early = await purge_expired(sessions, settings.data_dir, 30, row.created_at + timedelta(days=29))
    assert early.captures == 0
    dry = await purge_expired(sessions, settings.data_dir, 30, row.created_at + timedelta(days=31), dry_run=True)
    assert dry.captures == 1 and all(f.exists() for f in files)
    report = await purge_expired(sessions, settings.data_dir, 30, row.created_at + timedelta(days=31))
    assert (report.captures, report.files_removed) == (1, 2)
    assert not any(f.exists() for f in files)
    async with sessions() as session:
        purged = await session.get(Capture, ready["capture_id"])
        assert purged is not None and purged.purged_at is not None
        assert await session.get(ServiceSession, call_id) is not None
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "captures_purged"))
        assert audit is not None and audit.data["count"] == 1
    response = await cw.http.get(env.url(ready["image_url"]))
    assert (response.status, (await response.json())["error"]["code"]) == (410, "purged")
    listing = await (await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/captures"))).json()
    assert listing["captures"][0]["image_url"] is None
    again = await purge_expired(sessions, settings.data_dir, 30, row.created_at + timedelta(days=40))
    assert again.captures == 0


async def test_device_check_builds_the_camera_health_history(env: Env, made: list[Client]) -> None:
    kiosk = await _other(env, made, kiosk=0)
    await kiosk.connect()
    checks = [{"brightness": 140.0, "contrast": 40.0, "sharpness": 90.0},
              {"brightness": 130.0, "contrast": 20.0, "sharpness": 35.0}]
    for n, metrics in enumerate(checks):
        # Checks are coalesced per kiosk for a few seconds; these stand for two residents' visits.
        gate = env.app[app_keys.REDIS_KEYS].device_check_gate(kiosk.welcome["kiosk"]["id"])
        await env.app[app_keys.REDIS].delete(gate)
        reply = await kiosk.request({"type": "device_check", "camera_ok": True, "microphone_ok": True,
                                     "speaker_ok": None, "metrics": metrics}, ref=n + 1)
        assert reply["type"] == "ok"
    async with env.app[app_keys.DB_SESSIONS]() as session:
        samples = (await session.scalars(select(KioskHealthSample).order_by(KioskHealthSample.id))).all()
        kiosk_row = await session.get(Kiosk, samples[0].kiosk_id)
    assert [s.source for s in samples] == ["device_check", "device_check"]
    first, second = (s.camera_score for s in samples)
    assert first == 1.0 and second is not None and second < 0.8
    assert kiosk_row is not None and kiosk_row.camera_health is not None
    assert second < kiosk_row.camera_health < 1.0
    cw = await _other(env, made, staff="cw1")
    await cw.connect()
    reply = await cw.request({"type": "device_check", "camera_ok": True, "microphone_ok": True}, ref=9)
    assert reply["code"] == "forbidden"


async def test_device_checks_are_coalesced_and_finite(env: Env, made: list[Client]) -> None:
    kiosk = await _other(env, made, kiosk=0)
    await kiosk.connect()
    check = {"type": "device_check", "camera_ok": True, "microphone_ok": True, "metrics": {"brightness": 140.0}}
    for n in range(30):
        assert (await kiosk.request(check, ref=n))["type"] == "ok"
    # A changed verdict is stored at once; repeating it is not.
    for n in range(30, 33):
        assert (await kiosk.request({**check, "camera_ok": False}, ref=n))["type"] == "ok"
    async with env.app[app_keys.DB_SESSIONS]() as session:
        samples = (await session.scalars(select(KioskHealthSample).order_by(KioskHealthSample.id))).all()
    assert [s.camera_ok for s in samples] == [True, False]
    # A verdict that alternates passes the repeat gate each time: the hourly cap holds it.
    for n in range(40):
        await asyncio.sleep(0.1)  # under the socket's message rate
        assert (await kiosk.request({**check, "camera_ok": n % 2 == 0}, ref=100 + n))["type"] == "ok"
    async with env.app[app_keys.DB_SESSIONS]() as session:
        stored = (await session.scalars(select(KioskHealthSample))).all()
    assert len(stored) == DEVICE_CHECKS_PER_HOUR
    with pytest.raises(ValidationError):  # a metric's name is a word, not a payload
        m.DeviceCheck.model_validate({**check, "metrics": {"x" * 41: 1.0}})
    with pytest.raises(ValidationError):
        m.DeviceCheck.model_validate({**check, "metrics": {"brightness": float("nan")}})
    with pytest.raises(ValidationError):
        m.DeviceCheck.model_validate({**check, "metrics": {"brightness": float("inf")}})


async def test_old_camera_health_samples_are_purged(env: Env) -> None:
    """The daily purge deletes samples older than HISTORY_DAYS and keeps the rest (the trend's)."""
    sessions = env.app[app_keys.DB_SESSIONS]
    now = utcnow()
    async with sessions() as session, session.begin():
        kiosk_id = (await session.scalars(select(Kiosk.id))).first()
        assert kiosk_id is not None
        for days in (HISTORY_DAYS + 30, HISTORY_DAYS + 1, HISTORY_DAYS - 1, 3):
            session.add(KioskHealthSample(kiosk_id=kiosk_id, at=now - timedelta(days=days), source="live",
                                          camera_ok=True, camera_score=0.9))
    assert await delete_old_samples(sessions, now, dry_run=True) == 2
    assert await delete_old_samples(sessions, now) == 2
    assert await delete_old_samples(sessions, now) == 0
    async with sessions() as session:
        kept = (await session.scalars(select(KioskHealthSample.at))).all()
    assert len(kept) == 2 and min(kept) > now - timedelta(days=HISTORY_DAYS)


async def test_the_end_of_the_call_cancels_its_request_and_nothing_is_stored_after(
        env: Env, made: list[Client]) -> None:
    """docs/capture.md: the end of the call moves a live request to done (`capture_done`
    `cancelled`); a manual capture or an upload after it is refused and stores nothing."""
    kiosk, cw, call_id = await into_call(env, made)
    capture_id = (await request_capture(kiosk, cw, call_id))["capture_id"]
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "answered"}, ref=51)
    assert reply["type"] == "ok", reply
    for member in (kiosk, cw):
        assert (await member.expect("capture_done", capture_id=capture_id))["decision"] == "cancelled"
    reply = await cw.request({"type": "capture_now", "capture_id": capture_id}, ref=52)
    assert reply["type"] == "error" and reply["code"] == "capture_closed", reply
    response = await kiosk.upload(capture_id, jpeg(good_still()))
    assert (response.status, (await response.json())["error"]["code"]) == (409, "capture_closed")
    # Refused before its body is read: what the body is does not matter.
    response = await kiosk.http.post(env.url(f"/api/v1/captures/{capture_id}/image"), data=b"not multipart",
                                     headers={"Content-Type": "application/octet-stream"})
    assert (response.status, (await response.json())["error"]["code"]) == (409, "capture_closed")
    listing = await (await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/captures"))).json()
    assert listing == {**listing, "captures": [], "open_request": None}
    async with env.app[app_keys.DB_SESSIONS]() as session:
        assert (await session.scalars(select(Capture))).all() == []
        stored = (await session.scalars(select(AuditLog).where(AuditLog.action == "capture_stored"))).all()
    assert stored == []


async def test_a_request_whose_calls_end_was_missed_is_closed_by_the_upload(env: Env, made: list[Client]) -> None:
    """Had a process missed the call's end (its events channel down), the upload still checks the
    call: the request is cancelled and the still refused."""
    kiosk, cw, call_id = await into_call(env, made)
    request = await request_capture(kiosk, cw, call_id)
    service = env.app[CAPTURE]
    state = await service.states.get(request["capture_id"])
    assert state is not None
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "answered"}, ref=53)
    assert reply["type"] == "ok", reply
    await kiosk.expect("capture_done", capture_id=request["capture_id"])
    # The request as it would stand had its end been missed: open, for the ended call.
    await service.states.create(replace(state, capture_id="f" * 32, state="open"))
    for action in ("capture_now", "upload"):
        if action == "capture_now":
            reply = await cw.request({"type": "capture_now", "capture_id": "f" * 32}, ref=54)
            assert reply["type"] == "error" and reply["code"] == "capture_closed", reply
            assert (await kiosk.expect("capture_done", capture_id="f" * 32))["decision"] == "cancelled"
            await service.states.create(replace(state, capture_id="f" * 32, state="open"))
        else:
            response = await kiosk.upload("f" * 32, jpeg(good_still()))
            assert (response.status, (await response.json())["error"]["code"]) == (409, "capture_closed")
            assert (await kiosk.expect("capture_done", capture_id="f" * 32))["decision"] == "cancelled"
            after = await service.states.get("f" * 32)
            assert after is not None and after.state == "done"
    async with env.app[app_keys.DB_SESSIONS]() as session:
        assert (await session.scalars(select(Capture))).all() == []
