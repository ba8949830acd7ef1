"""Notice and consent before queueing: the notice endpoint, `join` with `consent`, the consent in the
call and the session detail, and captures refused after a declined consent.

Full app (tests/test_capture_support.py), real Redis and database.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from server.acceptance.context import CONSENTS
from server.acceptance.notices import notice_book
from server.acceptance.receipts import ReceiptStore
from server.db.engine import make_engine, make_session_factory
from server.db.migrate import upgrade_database
from server.db.models import AuditLog, Capture, CaseCounter, Consent, ServiceSession
from server.db.types import utcnow
from server.district.accounts import upsert_user
from server.http import app_keys
from server.runtime.district_time import local_date
from server.settings import SettingsError
from tests.district import JINGANSI, add_street
from tests.helpers import make_settings
from tests.protocol_client import PASSWORD, Env
from tests.test_capture_support import MATTER, Client, capture_env, into_call, request_capture
from tests.test_capture_support import made as made

CENTRE = "江宁路街道社区事务受理服务中心"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with capture_env(tmp_path, JINGLIN_CAPTURE_RETENTION_DAYS="12") as running:
        yield running


def current(choice: str) -> dict[str, str]:
    return {"version": notice_book().current, "choice": choice}


async def _kiosk(env: Env, made: list[Client], n: int = 0) -> Client:
    kiosk = Client(env)
    made.append(kiosk)
    await kiosk.kiosk_login(env.kiosk_tokens[n])
    return kiosk


async def _notice(client: Client, matter_id: str = MATTER) -> tuple[int, Any]:
    response = await client.http.get(client.env.url("/api/v1/kiosk/notice"), params={"matter_id": matter_id})
    return response.status, await response.json()


async def _sessions(env: Env) -> int:
    async with env.app[app_keys.DB_SESSIONS]() as db:
        return int(await db.scalar(select(func.count()).select_from(ServiceSession)) or 0)


async def test_notice_names_the_centre_the_photographed_materials_retention_and_recording(
        env: Env, made: list[Client]) -> None:
    kiosk = await _kiosk(env, made)
    status, notice = await _notice(kiosk)
    assert status == 200, notice
    assert notice["version"] == notice_book().current
    text = "".join(notice["paragraphs"])
    assert CENTRE in text
    assert "身份证原件" in text  # captured by camera for this matter
    assert "12天" in text  # JINGLIN_CAPTURE_RETENTION_DAYS
    assert notice["recording"] is True and "录像" in text
    assert notice["captures"] is True
    assert "不会拍摄" in notice["decline"]


async def test_notice_without_recording_does_not_mention_it(tmp_path: Path, made: list[Client]) -> None:
    async with capture_env(tmp_path, JINGLIN_RECORDING="false") as env:
        kiosk = await _kiosk(env, made)
        status, notice = await _notice(kiosk)
        assert status == 200
        assert notice["recording"] is False
        assert "录像" not in "".join(notice["paragraphs"])
        for client in made:
            await client.close()
        made.clear()


async def test_notice_refuses_unknown_matter_wrong_role_and_strangers(env: Env, made: list[Client]) -> None:
    kiosk = await _kiosk(env, made)
    status, body = await _notice(kiosk, "no-such-matter")
    assert (status, body["error"]["code"]) == (404, "unknown_matter")
    status, body = await _notice(kiosk, "")
    assert (status, body["error"]["code"]) == (404, "unknown_matter")
    caseworker = Client(env)
    made.append(caseworker)
    await caseworker.staff_login("cw1")
    assert (await _notice(caseworker))[0] == 403
    stranger = Client(env)
    made.append(stranger)
    assert (await _notice(stranger))[0] == 401


async def test_the_consent_is_in_the_call_of_an_offer_accepted_at_once(
        env: Env, made: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    """A caseworker is waiting, so the join is offered at once and accepted at once; the answer to
    the notice is stored before the ticket can be offered, however slow the database is then."""
    store = env.app[CONSENTS]
    record = store.record

    async def slow_record(*args: Any) -> None:
        await asyncio.sleep(0.5)
        await record(*args)

    monkeypatch.setattr(store, "record", slow_record)
    cw = Client(env)
    made.append(cw)
    await cw.staff_login("cw1")
    await cw.connect()
    await cw.request({"type": "set_status", "status": "available"}, ref=1)
    kiosk = await _kiosk(env, made)
    await kiosk.connect()
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle", "consent": current("declined")})
    offer = (await cw.expect("offer"))["offer"]
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    call = (await cw.expect("call"))["call"]
    assert call["consent"] is not None and call["consent"]["choice"] == "declined"


async def test_accepted_consent_travels_with_the_call_and_the_session(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=current("accepted"))
    call = (await cw.connect())["state"]["call"]  # a reloaded console sees it too
    assert call["consent"]["choice"] == "accepted"
    assert call["consent"]["version"] == notice_book().current
    assert call["consent"]["at"].endswith("Z")
    await request_capture(kiosk, cw, call_id)  # captures are allowed
    boss = Client(env)
    made.append(boss)
    await boss.staff_login("boss")
    response = await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))
    detail = await response.json()
    assert response.status == 200, detail
    assert detail["consent"] == call["consent"]


async def test_declined_consent_means_a_consultation_without_capture(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=current("declined"))
    assert (await kiosk.connect())["state"]["call"]["consent"]["choice"] == "declined"
    reply = await cw.request({"type": "capture_request", "call_id": call_id, "material": "身份证原件"})
    assert reply["type"] == "error" and reply["code"] == "consent_declined", reply
    assert "不同意" in reply["message"]
    assert not [m for m in kiosk.drain() if m["type"] == "capture_request"]
    async with env.app[app_keys.DB_SESSIONS]() as db:
        assert await db.scalar(select(func.count()).select_from(Capture)) == 0
        consent = await db.get(Consent, call_id)
    assert consent is not None and consent.choice == "declined"
    # The call itself goes on: signaling still works between the two.
    await cw.send({"type": "signal", "call_id": call_id, "data": {"candidate": {"candidate": ""}}})
    await kiosk.expect("signal")


@pytest.mark.parametrize("consent, code", [
    ({"version": "1999-01-01", "choice": "accepted"}, "unknown_notice"),
    ({"version": "x", "choice": "maybe"}, "invalid"),
    ({"choice": "accepted"}, "invalid"),
    ({"version": "x" * 41, "choice": "accepted"}, "invalid"),
])
async def test_join_with_a_bad_consent_queues_nothing(env: Env, made: list[Client], consent: dict[str, str],
                                                      code: str) -> None:
    kiosk = await _kiosk(env, made)
    await kiosk.connect()
    reply = await kiosk.request({"type": "join", "matter_id": MATTER, "mode": "handle", "consent": consent})
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert await _sessions(env) == 0
    # The kiosk can still join properly afterwards.
    reply = await kiosk.request({"type": "join", "matter_id": MATTER, "mode": "handle",
                                 "consent": current("accepted")})
    assert reply["type"] == "ok", reply
    assert await _sessions(env) == 1


async def test_a_repeated_join_keeps_the_first_answer(env: Env, made: list[Client]) -> None:
    kiosk = await _kiosk(env, made)
    await kiosk.connect()
    for choice in ("declined", "accepted"):
        reply = await kiosk.request({"type": "join", "matter_id": MATTER, "mode": "handle", "consent": current(choice)})
        assert reply["type"] == "ok", reply
    async with env.app[app_keys.DB_SESSIONS]() as db:
        rows = (await db.scalars(select(Consent))).all()
    assert [row.choice for row in rows] == ["declined"]


# ---- case numbers and the receipt ------------------------------------------------------------

CASE_NUMBER = re.compile(r"^JA-(\d{4})-(\d{8})-(\d{4})$")


async def _end(cw: Client, call_id: str, **fields: Any) -> dict[str, Any]:
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, **fields})
    return reply


async def _get(client: Client, path: str) -> tuple[int, Any]:
    response = await client.http.get(client.env.url(path))
    if response.content_type == "application/json":
        return response.status, await response.json()
    return response.status, await response.read()


async def _audited(env: Env, action: str, session_id: str) -> int:
    async with env.app[app_keys.DB_SESSIONS]() as db:
        return int(await db.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == action, AuditLog.object_id == session_id)) or 0)


async def test_accepted_gets_a_server_case_number_and_a_receipt(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=current("accepted"))
    reply = await _end(cw, call_id, outcome="accepted")
    assert reply["type"] == "ok", reply
    ended = await kiosk.expect("call_ended")
    found = CASE_NUMBER.match(ended["case_number"])
    assert found, ended
    assert int(found.group(3)) == 1
    assert found.group(2) == local_date(utcnow()).strftime("%Y%m%d")
    status, receipt = await _get(kiosk, f"/api/v1/sessions/{call_id}/receipt")
    assert status == 200, receipt
    assert receipt["case_number"] == ended["case_number"] == receipt["qr_text"]
    assert receipt["outcome"] == "accepted" and receipt["missing"] == []
    assert receipt["matter_name"] and receipt["centre_name"] == CENTRE
    assert receipt["qr_svg"].startswith("<svg")
    status, pdf = await _get(cw, f"/api/v1/sessions/{call_id}/receipt.pdf")
    assert status == 200 and pdf.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert ended["case_number"] in text and receipt["matter_name"] in text and "受理回执" in text
    assert await _audited(env, "receipt_pdf", call_id) == 1


async def test_incomplete_receipt_lists_each_missing_material_once(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=current("accepted"))
    # 材料不全 names what is missing, from the matter's own checklist; refused, nothing is recorded.
    for missing, code in (([], "missing_required"), (["  "], "missing_required"),
                          (["不存在的材料"], "unknown_material"), (["身份证原件", "不存在的材料"], "unknown_material")):
        reply = await _end(cw, call_id, outcome="incomplete", missing=missing)
        assert (reply["type"], reply["code"]) == ("error", code), (missing, reply)
    assert (await _end(cw, call_id, outcome="incomplete"))["code"] == "missing_required"
    reply = await _end(cw, call_id, outcome="incomplete", missing=["身份证原件", " 身份证原件"])
    assert reply["type"] == "ok", reply
    ended = await kiosk.expect("call_ended")
    assert not ended.get("case_number")
    status, receipt = await _get(kiosk, f"/api/v1/sessions/{call_id}/receipt")
    assert status == 200, receipt
    assert receipt["case_number"] is None and receipt["qr_text"] == call_id
    assert [m["name"] for m in receipt["missing"]] == ["身份证原件"]
    assert "身份证" in receipt["missing"][0]["must_show"]
    assert all(m["must_show"] for m in receipt["missing"])
    boss = Client(env)
    made.append(boss)
    await boss.staff_login("boss")
    status, pdf = await _get(boss, f"/api/v1/sessions/{call_id}/receipt.pdf")
    assert status == 200
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "一次性告知" in text and "身份证原件" in text


async def test_receipts_are_refused_to_other_kiosks_and_caseworkers_and_audited(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=current("accepted"))
    assert (await _end(cw, call_id, outcome="accepted"))["type"] == "ok"
    await kiosk.expect("call_ended")
    other_kiosk = await _kiosk(env, made, 1)
    status, body = await _get(other_kiosk, f"/api/v1/sessions/{call_id}/receipt")
    assert (status, body["error"]["code"]) == (403, "not_allowed")
    other_cw = Client(env)
    made.append(other_cw)
    await other_cw.staff_login("cw2")
    for path in ("receipt", "receipt.pdf"):
        status, body = await _get(other_cw, f"/api/v1/sessions/{call_id}/{path}")
        assert (status, body["error"]["code"]) == (403, "not_allowed")
    assert await _audited(env, "receipt_view_denied", call_id) == 3
    assert (await _get(kiosk, f"/api/v1/sessions/{call_id}/receipt.pdf"))[0] == 403  # caseworker and supervisors only
    assert (await _get(cw, "/api/v1/sessions/nope/receipt"))[0] == 404
    # A session without a receipt (答复): 404 with a reason.
    await cw.request({"type": "set_status", "status": "offline"})
    kiosk2, cw2, call2 = await into_call(env, made, kiosk_n=1, cw_name="cw2")
    assert (await _end(cw2, call2, outcome="answered"))["type"] == "ok"
    status, body = await _get(kiosk2, f"/api/v1/sessions/{call2}/receipt")
    assert (status, body["error"]["code"]) == (404, "no_receipt")


async def test_a_typed_case_number_is_refused_unless_the_setting_allows_it(env: Env, made: list[Client]) -> None:
    _kiosk_client, cw, call_id = await into_call(env, made)
    reply = await _end(cw, call_id, outcome="accepted", case_number="EXT-1")
    assert reply["type"] == "error" and reply["code"] == "case_number_typed", reply
    # Nothing changed: the call is still on and can be closed properly.
    assert (await _end(cw, call_id, outcome="accepted"))["type"] == "ok"
    # The refused attempt issued no number: the one 受理 has sequence 1.
    async with env.app[app_keys.DB_SESSIONS]() as db:
        assert await db.scalar(select(func.max(CaseCounter.seq))) == 1


async def test_typed_case_numbers_when_allowed_must_be_new(tmp_path: Path, made: list[Client]) -> None:
    async with capture_env(tmp_path, JINGLIN_CASE_NUMBER_TYPED="true") as env:
        kiosk, cw, call_id = await into_call(env, made)
        assert (await _end(cw, call_id, outcome="accepted", case_number="EXT-2026-1"))["type"] == "ok"
        assert (await kiosk.expect("call_ended"))["case_number"] == "EXT-2026-1"
        await cw.request({"type": "set_status", "status": "offline"})
        kiosk2, cw2, call2 = await into_call(env, made, kiosk_n=1, cw_name="cw2")
        reply = await _end(cw2, call2, outcome="accepted", case_number="EXT-2026-1")
        assert reply["type"] == "error" and reply["code"] == "case_number_taken", reply
        assert (await _end(cw2, call2, outcome="accepted"))["type"] == "ok"  # empty: the server issues one
        assert CASE_NUMBER.match((await kiosk2.expect("call_ended"))["case_number"])
        for client in made:
            await client.close()
        made.clear()


def test_a_bad_case_number_format_fails_at_start_up(tmp_path: Path) -> None:
    for bad in ("JA-{centre}-{day}-{seq}", "JA-{centre}", "{seq:04d}" + "x" * 40):
        with pytest.raises(SettingsError, match="JINGLIN_CASE_NUMBER_FORMAT"):
            make_settings(tmp_path, JINGLIN_CASE_NUMBER_FORMAT=bad)
    assert make_settings(tmp_path, JINGLIN_CASE_NUMBER_FORMAT="{date}{seq:05d}").case_number_format


async def test_parallel_acceptances_get_distinct_numbers(database_url: str) -> None:
    """Two 'processes' (engines) issuing at once, on SQLite and PostgreSQL: 1..N, no number twice."""
    await upgrade_database(database_url)
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        factories = [make_session_factory(engine) for engine in engines]
        async with factories[0]() as db, db.begin():
            centre = (await add_street(db)).centre_id
        stores = [ReceiptStore(factory, "JA-{centre:04d}-{date}-{seq:04d}") for factory in factories]
        numbers = await asyncio.gather(*(stores[i % 2].issue_case_number(centre) for i in range(24)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(set(numbers)) == 24
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 25))


async def test_a_centre_supervisor_reads_only_their_own_centres_sessions(env: Env, made: list[Client]) -> None:
    """A supervisor of another street's centre gets 403 on the session, its receipt, captures and
    recording, and does not see it in the day's recordings; the session's own centre's supervisor
    does, as a district supervisor does."""
    kiosk, cw, call_id = await into_call(env, made, consent=current("accepted"))
    assert (await _end(cw, call_id, outcome="accepted"))["type"] == "ok"
    await kiosk.expect("call_ended")
    async with env.app[app_keys.DB_SESSIONS]() as db, db.begin():
        own_centre = (await db.get(ServiceSession, call_id)).centre_id  # type: ignore[union-attr]
        other = await add_street(db, JINGANSI)
        for username, centre_id in (("other_boss", other.centre_id), ("own_boss", own_centre)):
            await upsert_user(db, username=username, password=PASSWORD, role="supervisor", centre_id=centre_id)
    paths = (f"/api/v1/sessions/{call_id}", f"/api/v1/sessions/{call_id}/receipt",
             f"/api/v1/sessions/{call_id}/receipt.pdf", f"/api/v1/sessions/{call_id}/captures",
             f"/api/v1/sessions/{call_id}/recording")
    for username, allowed in (("other_boss", False), ("own_boss", True), ("boss", True)):
        supervisor = Client(env)
        made.append(supervisor)
        await supervisor.staff_login(username)
        for path in paths:
            status, _ = await _get(supervisor, path)
            if allowed:
                assert status != 403, (username, path)
            else:
                assert status == 403, (username, path, status)
        status, day = await _get(supervisor, "/api/v1/recordings")
        assert status == 200
        assert (call_id in {item["id"] for item in day["items"]}) is allowed, username
