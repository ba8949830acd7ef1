"""Appointments through the server with a fixed clock: booking at one kiosk, checking in at another
with priority `appointment`, every refusal from the issue, the staff list and a supervisor's cancel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from server.db.models import Appointment
from server.hours.appointments import blank_old_phones, set_capacity
from server.hours.sweeper import SWEEPER
from server.http import app_keys
from server.runtime.district_time import DISTRICT_TZ
from tests.protocol_client import Client
from tests.test_hours_api import MATTER, SKILL, WORKING_MORNING, HoursEnv, hours_env, signed_in

TODAY = date(2026, 3, 2)  # WORKING_MORNING's Monday


def _slot(day: date, hhmm: str) -> str:
    return datetime.combine(day, time.fromisoformat(hhmm), DISTRICT_TZ).isoformat()


async def _get(client: Client, path: str) -> tuple[int, Any]:
    async with client.http.get(client.env.url(path)) as response:
        return response.status, await response.json()


async def _post(client: Client, path: str, body: Any = None) -> tuple[int, Any]:
    async with client.http.post(client.env.url(path), json=body) as response:
        return response.status, await response.json()


async def _book(kiosk: Client, slot: str, phone: str = "13812341234", matter: str = MATTER) -> dict[str, Any]:
    return await kiosk.request({"type": "appointment_book", "matter_id": matter, "slot": slot, "phone": phone})


async def _count(h: HoursEnv) -> int:
    async with h.env.app[app_keys.DB_SESSIONS]() as db:
        return int(await db.scalar(select(func.count()).select_from(Appointment)) or 0)


async def _refused(reply: dict[str, Any], code: str, words: str = "") -> None:
    assert (reply["type"], reply.get("code")) == ("error", code), reply
    assert words in reply["message"], reply


async def test_book_at_one_kiosk_and_check_in_at_another(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING, sites=3) as h:
        (first, second, third), cw = await signed_in(h, 3)
        boss = Client(h.env)
        try:
            await boss.staff_login("boss")
            async with h.env.app[app_keys.DB_SESSIONS]() as db, db.begin():
                await set_capacity(db, h.centre_id, "", 1)
            status, slots = await _get(first, f"/api/v1/appointments/slots?matter={MATTER}")
            assert status == 200 and slots["slot_minutes"] == 30 and len(slots["days"]) == 14
            today = slots["days"][0]
            assert today["date"] == "2026-03-02" and today["slots"][0]["state"] == "past"
            assert [s["state"] for s in today["slots"][:4]] == ["past"] * 3 + ["free"]  # 09:00-10:00 have begun
            assert slots["days"][5]["slots"] == [] and slots["days"][5]["reason"] == "weekend"

            # Bad input first: nothing is written.
            await _refused(await _book(first, _slot(TODAY, "10:30"), "1234"), "bad_phone", "11位手机号")
            await _refused(await _book(first, _slot(TODAY, "09:30")), "slot_past", "已经过了")
            await _refused(await _book(first, _slot(date(2026, 3, 7), "10:00")), "slot_closed", "不开放预约")
            await _refused(await _book(first, "明天上午"), "slot_closed", "无效")
            for far in ("9999-12-31T23:00:00-12:00", "0001-01-01T00:00:00+08:00"):
                await _refused(await _book(first, far), "slot_closed", "无效")
            await _refused(await _book(first, _slot(TODAY, "10:30"), matter="nope"), "unknown_matter")
            assert await _count(h) == 0

            booked = await _book(first, _slot(TODAY, "10:30"))
            assert booked["type"] == "ok", booked
            code = booked["appointment"]["code"]
            assert len(code) == 6 and code.isdigit() and booked["appointment"]["phone"] == "138****1234"
            assert booked["appointment"]["starts_at"] == "2026-03-02T10:30:00+08:00"
            await _refused(await _book(second, _slot(TODAY, "10:30"), "13912345678"), "slot_full", "约满")
            assert await _count(h) == 1
            status, slots = await _get(first, f"/api/v1/appointments/slots?matter={MATTER}")
            assert slots["days"][0]["slots"][3] == {"start": "2026-03-02T10:30:00+08:00",
                                                    "end": "2026-03-02T11:00:00+08:00", "free": 0, "state": "full"}
            later = (await _book(first, _slot(TODAY, "15:00"), "021-12345678"))["appointment"]
            tomorrow = (await _book(first, _slot(date(2026, 3, 3), "10:00")))["appointment"]

            # Check-in refusals, then the check-in at another kiosk: queued with priority `appointment`.
            checkin = {"type": "appointment_checkin"}
            await _refused(await second.request({**checkin, "code": "000000" if code != "000000" else "000001"}),
                           "appointment_unknown", "没有找到")
            await _refused(await second.request({**checkin, "code": "12"}), "appointment_unknown", "6位预约码")
            await _refused(await second.request({**checkin, "code": later["code"]}), "appointment_too_early",
                           "请在 14:30 以后签到")
            await _refused(await second.request({**checkin, "code": tomorrow["code"]}), "appointment_other_day",
                           "明天 10:00")
            # Queueing refused (an unknown notice version): the booking stands, untouched.
            await _refused(await second.request({**checkin, "code": code,
                                                 "consent": {"version": "nope", "choice": "accepted"}}),
                           "unknown_notice")
            await cw.send({"type": "set_status", "status": "available"})
            await cw.expect("agent")
            reply = await second.request({**checkin, "code": code})
            assert reply["type"] == "ok" and reply["appointment"]["matter_id"] == MATTER, reply
            assert (await second.expect("ticket"))["ticket"]["state"] in {"waiting", "offered"}
            offer = (await cw.expect("offer"))["offer"]
            assert offer["priority"] == "appointment"
            await _refused(await third.request({**checkin, "code": code}), "appointment_used", "已经签到")
            await _refused(await third.request({**checkin, "code": "021 12345678"}), "appointment_too_early")

            # Staff see the day's appointments, numbers masked; a caseworker cannot cancel.
            status, day = await _get(cw, "/api/v1/appointments?date=2026-03-02")
            assert status == 200 and day["total"] == 2
            states = {item["id"]: (item["state"], item["phone"], item["phone_full"]) for item in day["items"]}
            assert states[booked["appointment"]["id"]] == ("checked_in", "138****1234", False)
            assert states[later["id"]] == ("booked", "021-****5678", False)
            assert next(i["session_id"] for i in day["items"] if i["state"] == "checked_in")
            assert (await _post(cw, f"/api/v1/appointments/{later['id']}/cancel", {}))[0] == 403
            note = "停电，已致电 13812345678\u202e"  # the note is free text: masked, invisible characters dropped
            status, cancelled = await _post(boss, f"/api/v1/appointments/{later['id']}/cancel", {"note": note})
            assert (status, cancelled["state"], cancelled["phone"], cancelled["phone_full"]) == (
                200, "cancelled", "021-12345678", True)
            assert cancelled["note"] == "停电，已致电 [电话已隐去]", cancelled
            again = await _post(boss, f"/api/v1/appointments/{later['id']}/cancel")
            assert again[1]["error"]["code"] == "wrong_state"
            assert (await _post(boss, "/api/v1/appointments/99999/cancel"))[0] == 404
            await _refused(await third.request({**checkin, "code": later["code"]}), "appointment_cancelled", "取消")
            status, slots = await _get(first, f"/api/v1/appointments/slots?matter={MATTER}")
            assert [s["free"] for s in slots["days"][0]["slots"] if s["start"].endswith("15:00:00+08:00")] == [1]
            for day in ("3月2日", "9999-12-31", "0001-01-01"):
                assert (await _get(cw, f"/api/v1/appointments?date={day}"))[0] == 400, day
            assert (await _get(first, "/api/v1/appointments"))[0] == 403
            assert (await _get(cw, "/api/v1/appointments/slots?matter=" + MATTER))[0] == 403
        finally:
            for client in (first, second, third, cw, boss):
                await client.close()


async def test_late_check_in_no_shows_limits_and_purge(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING) as h:
        (kiosk,), cw = await signed_in(h, 1)
        try:
            now = datetime.fromisoformat(WORKING_MORNING)
            async with h.env.app[app_keys.DB_SESSIONS]() as db, db.begin():  # a booking of 09:00 today
                db.add(Appointment(centre_id=h.centre_id, kiosk_id=1, matter_id=MATTER, skill=SKILL,
                                   starts_at=now - timedelta(hours=1), day=TODAY, code="123456",
                                   phone="13812341234", state="booked", note=""))
            await _refused(await kiosk.request({"type": "appointment_checkin", "code": "123456"}),
                           "appointment_too_late", "09:15 前签到")
            await _refused(await kiosk.request({"type": "appointment_checkin", "code": "13812341234"}),
                           "appointment_too_late")
            redis = h.env.app[app_keys.REDIS]
            await redis.delete(h.env.app[app_keys.REDIS_KEYS].hours_sweep_lock)
            await h.env.app[SWEEPER].sweep()
            async with h.env.app[app_keys.DB_SESSIONS]() as db:
                assert (await db.scalar(select(Appointment.state))) == "no_show"
            # Ten check-in attempts a minute per kiosk (wrong ones count), then a clear refusal.
            codes = [(await kiosk.request({"type": "appointment_checkin", "code": "654321"}))["code"]
                     for _ in range(9)]
            assert codes[:8] == ["appointment_unknown"] * 8 and codes[8] == "too_many_requests", codes
            # Ten bookings a minute per kiosk (shared with 回电 requests; refused ones count).
            replies = [await _book(kiosk, _slot(TODAY, "16:00"), "1") for _ in range(11)]
            assert [r["code"] for r in replies] == ["bad_phone"] * 10 + ["too_many_requests"]
            assert "一分钟后" in replies[-1]["message"]
            async with h.env.app[app_keys.DB_SESSIONS]() as db, db.begin():
                assert await blank_old_phones(db, datetime.now(UTC) + timedelta(days=1)) == 1
                assert (await db.scalar(select(Appointment.phone))) == ""
        finally:
            await kiosk.close()
            await cw.close()
