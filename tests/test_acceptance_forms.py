"""同屏确认 over signaling: the form definition in the call, `form_send` checked field by field and kept
as versions, `form` on the kiosk with the ID number masked, `form_reply` once per shown version,
and the session detail's `form`. Full app, real Redis, SQLite and PostgreSQL for the main path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from matters_catalog.forms import attach_overrides, matter_form, parse_forms
from matters_catalog.loader import load_catalog
from server.acceptance.checks import ID_CHECK, ID_WEIGHTS
from server.acceptance.notices import notice_book
from server.db.models import FormVersion
from server.http import app_keys
from tests.protocol_client import Env
from tests.test_capture_support import Client, capture_env, into_call
from tests.test_capture_support import made as made

CONSENT = {"version": notice_book().current, "choice": "accepted"}


def id_number(first17: str = "31010619500101123") -> str:
    """A valid 居民身份证号码 (GB 11643 check digit computed here, independently of the server's table)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


GOOD_ID = id_number()


def values(**changes: str) -> dict[str, str]:
    base = {"name": "张三", "id_number": GOOD_ID, "phone": "13812345678", "address": "江宁路1号",
            "birth_date": "1950-01-01", "card_delivery": "邮寄到家"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with capture_env(tmp_path) as running:
        yield running


async def _versions(env: Env) -> int:
    async with env.app[app_keys.DB_SESSIONS]() as db:
        return int(await db.scalar(select(func.count()).select_from(FormVersion)) or 0)


async def _send(cw: Client, call_id: str, filled: dict[str, str]) -> dict[str, Any]:
    return await cw.request({"type": "form_send", "call_id": call_id, "values": filled})


async def test_form_sent_changed_resent_confirmed_every_version_kept(tmp_path: Path, database_url: str,
                                                                      made: list[Client]) -> None:
    async with capture_env(tmp_path, DATABASE_URL=database_url) as env:
        kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
        call = (await cw.connect())["state"]["call"]
        assert [f["key"] for f in call["form"]] == ["name", "id_number", "phone", "address", "birth_date",
                                                    "card_delivery"]
        assert call["form"][-1]["choices"] == ["社区事务受理服务中心领取", "邮寄到家"]
        assert (await _send(cw, call_id, values(phone="13800000000")))["type"] == "ok"
        shown = await kiosk.expect("form")
        assert shown["version"] == 1 and shown["call_id"] == call_id
        by_key = {f["key"]: f for f in shown["fields"]}
        assert by_key["id_number"]["value"] == "*" * 14 + GOOD_ID[-4:]
        assert by_key["name"] == {"key": "name", "label": "申请人姓名", "type": "text", "value": "张三"}
        assert shown["materials"] == []
        assert (await cw.expect("form_status"))["state"] == "sent"
        assert (await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 1,
                                     "choice": "change_requested"}))["type"] == "ok"
        assert (await cw.expect("form_status", version=1))["state"] == "change_requested"
        assert (await _send(cw, call_id, values()))["type"] == "ok"
        assert (await kiosk.expect("form"))["version"] == 2
        assert (await cw.expect("form_status", version=2))["state"] == "sent"
        assert (await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 2,
                                     "choice": "confirmed"}))["type"] == "ok"
        assert (await cw.expect("form_status", version=2))["state"] == "confirmed"
        async with env.app[app_keys.DB_SESSIONS]() as db:
            rows = (await db.scalars(select(FormVersion).order_by(FormVersion.version))).all()
        assert [(r.version, r.state) for r in rows] == [(1, "change_requested"), (2, "confirmed")]
        assert {f["key"]: f["value"] for f in rows[0].fields}["phone"] == "13800000000"
        assert {f["key"]: f["value"] for f in rows[1].fields}["id_number"] == GOOD_ID  # stored in full
        boss = Client(env)
        made.append(boss)
        await boss.staff_login("boss")
        detail = await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json()
        form = detail["form"]
        assert form["version"] == 2 and form["confirmed_at"] and form["state"] == "confirmed"
        assert GOOD_ID not in str(detail) and {f["key"]: f["value"] for f in form["fields"]}["phone"] == "13812345678"


@pytest.mark.parametrize("changes, code, label", [
    ({"id_number": GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")}, "form_bad_id_number", "公民身份号码"),
    ({"birth_date": "2023-02-30"}, "form_bad_date", "出生日期"),
    ({"phone": "1234"}, "form_bad_phone", "联系电话"),
    ({"name": "  "}, "form_field_missing", "申请人姓名"),
    ({"name": "\u200b\u202e"}, "form_field_missing", "申请人姓名"),  # invisible characters are no name
    ({"card_delivery": "飞鸽传书"}, "form_bad_choice", "领卡方式"),
    ({"favourite": "x"}, "form_unknown_field", "favourite"),
])
async def test_a_wrong_field_is_named_and_nothing_is_sent(env: Env, made: list[Client], changes: dict[str, str],
                                                          code: str, label: str) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    reply = await _send(cw, call_id, values(**changes))
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert label in reply["message"]
    assert await _versions(env) == 0
    assert not [m for m in kiosk.drain() if m["type"] == "form"]


async def test_the_kiosk_shows_what_is_stored_without_hidden_characters(env: Env, made: list[Client]) -> None:
    """A right-to-left override in a value would show the resident reversed text while the signed
    form holds the characters as typed: such characters are dropped before the form is kept."""
    kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    reply = await _send(cw, call_id, values(address="江宁路\u202e号1\u200b\x00", name="张\u2066三"))
    assert reply["type"] == "ok", reply
    shown = {f["key"]: f["value"] for f in (await kiosk.expect("form"))["fields"]}
    assert (shown["address"], shown["name"]) == ("江宁路号1", "张三")


async def test_missing_required_field_left_out_entirely(env: Env, made: list[Client]) -> None:
    _kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    filled = values()
    del filled["id_number"]
    reply = await _send(cw, call_id, filled)
    assert reply["code"] == "form_field_missing" and "公民身份号码" in reply["message"]


async def test_bad_replies_are_refused_and_change_nothing(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    reply = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 1, "choice": "confirmed"})
    assert reply["code"] == "form_version_unknown", reply  # nothing shown yet
    await _send(cw, call_id, values())
    await kiosk.expect("form")
    await _send(cw, call_id, values(address="")) # version 2 replaces 1 on screen
    await kiosk.expect("form", version=2)
    reply = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 1, "choice": "confirmed"})
    assert reply["code"] == "form_version_unknown", reply
    # A reloaded kiosk gets the version awaiting its answer (masked); the console its values as typed.
    last = (await kiosk.connect())["state"]["call"]["form_last"]
    assert last["version"] == 2 and last["state"] == "sent" and last["materials"] == []
    assert {f["key"]: f["value"] for f in last["fields"]}["id_number"] == "*" * 14 + GOOD_ID[-4:]
    typed = (await cw.connect())["state"]["call"]["form_last"]
    assert {f["key"]: f["value"] for f in typed["fields"]}["id_number"] == GOOD_ID
    reply = await kiosk.request({"type": "form_reply", "call_id": "nope", "version": 2, "choice": "confirmed"})
    assert reply["code"] == "not_in_call", reply
    ok = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 2, "choice": "confirmed"})
    assert ok["type"] == "ok"
    twice = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 2,
                                 "choice": "change_requested"})
    assert twice["code"] == "form_already_answered", twice
    assert twice["answer"] == "confirmed", twice  # the kiosk follows the answer that stands
    # The same answer again (the first reached the server after the kiosk gave up waiting) stands.
    mark = cw.mark()
    again = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 2, "choice": "confirmed"})
    assert again["type"] == "ok", again
    await asyncio.sleep(0.3)
    assert not [m for m in cw.messages[mark:] if m.get("type") == "form_status"]  # no second status
    signing = (await kiosk.connect())["state"]["call"]["form_last"]  # confirmed: the signing area comes back
    assert (signing["version"], signing["state"]) == (2, "confirmed")
    assert (await cw.connect())["state"]["call"]["form_last"]["state"] == "confirmed"
    bad = await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 2, "choice": "maybe"})
    assert bad["code"] == "invalid", bad
    async with env.app[app_keys.DB_SESSIONS]() as db:
        states = (await db.scalars(select(FormVersion.state).order_by(FormVersion.version))).all()
    assert list(states) == ["sent", "confirmed"]


async def test_wrong_role_and_stranger_are_refused(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    kiosk2, cw2, _ = await into_call(env, made, kiosk_n=1, cw_name="cw2", consent=CONSENT)
    reply = await cw2.request({"type": "form_send", "call_id": call_id, "values": values()})
    assert reply["code"] == "not_in_call", reply
    reply = await kiosk.request({"type": "form_send", "call_id": call_id, "values": values()})
    assert reply["code"] == "forbidden", reply
    await _send(cw, call_id, values())
    await kiosk.expect("form")
    reply = await kiosk2.request({"type": "form_reply", "call_id": call_id, "version": 1, "choice": "confirmed"})
    assert reply["code"] == "not_in_call", reply
    too_many = {f"k{i}": "x" for i in range(41)}
    assert (await cw.request({"type": "form_send", "call_id": call_id, "values": too_many}))["code"] == "invalid"
    assert await _versions(env) == 1


def test_form_book_levels_and_validation() -> None:
    catalog = load_catalog()
    book, errors = parse_forms({"version": "t", "departments": {
        "*": {"fields": [{"key": "name", "label": "姓名", "type": "text", "required": True},
                         {"key": "phone", "label": "电话", "type": "phone"}]},
        "公安": {"omit": ["phone"], "fields": [{"key": "name", "label": "申请人", "type": "text"}]}},
        "matters": {"gaj-jlks-01": {"fields": [{"key": "when", "label": "日期", "type": "date"}]}}}, catalog.matters)
    assert book is not None, errors
    matter = catalog.by_id("gaj-jlks-01")
    assert matter is not None
    [matter] = attach_overrides([matter], book)
    assert [(f.key, f.label) for f in matter_form(matter, book).fields] == [("name", "申请人"), ("when", "日期")]
    _, errors = parse_forms({"version": "t", "departments": {"外星": {}}, "matters": {"no-such": {}}}, catalog.matters)
    assert len(errors) == 2 and "外星" in errors[0] and "no-such" in errors[1]
    _, errors = parse_forms({"version": "t", "departments": {"*": {"fields": [
        {"key": "c", "label": "选", "type": "choice"}]}}}, catalog.matters)
    assert errors and "choices" in errors[0]
    _, errors = parse_forms({"version": "t", "departments": {"*": {"fields": [
        {"key": "c", "label": "选", "type": "colour"}]}}}, catalog.matters)
    assert errors
    _, errors = parse_forms({"version": "t", "departments": {"*": {"fields": [
        {"key": "name", "label": "姓名", "type": "text"}, {"key": "phone", "label": "电话", "type": "phone"}]},
        "公安": {"omit": ["phone"]}},
                             "matters": {"gaj-jlks-01": {"omit": ["name", "phone"]}}}, catalog.matters)
    assert len(errors) == 1 and "gaj-jlks-01" in errors[0] and "phone" in errors[0], errors
