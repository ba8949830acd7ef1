"""The calendar and availability endpoints and the closed-centre join, on a real server with a fixed clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import Callback, ServiceSession, SessionEvent
from server.hours.calendar import hours_from_text
from server.hours.callbacks import blank_old_phones
from server.hours.phone_purge import run_daily_phone_purge
from server.hours.service import HOURS
from server.hours.store import remove_override, set_override, set_week
from server.hours.sweeper import SWEEPER
from server.http import app_keys
from server.runtime.district_time import DISTRICT_TZ
from tests.district import add_staff, add_street
from tests.helpers import make_settings, prepare_database
from tests.protocol_client import Client, Env

MATTER = "gaj-jlks-01"
SKILL = "police-general"
HOLIDAY_MORNING = "2026-02-16T10:00:00+08:00"  # 春节 2026, a Monday
WORKING_MORNING = "2026-03-02T10:00:00+08:00"  # an ordinary Monday


@dataclass
class HoursEnv:
    env: Env
    site_id: int
    centre_id: int


@contextlib.asynccontextmanager
async def hours_env(tmp_path: Path, clock: str, *, with_hours: bool = True, sites: int = 2) -> AsyncIterator[HoursEnv]:
    """A street whose centre works 09:00-17:00 Mon-Fri with lunch, a caseworker and a supervisor."""
    settings = make_settings(tmp_path, JINGLIN_CLOCK_START=clock, JINGLIN_WRAP_UP_S="0")
    await prepare_database(settings)
    app = create_app(settings)
    server = TestServer(app)
    await server.start_server()
    async with app[app_keys.DB_SESSIONS]() as session, session.begin():
        street = await add_street(session, sites=sites)
        await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL]}, supervisors=["boss"])
        if with_hours:
            await set_week(session, street.centre_id, list(range(5)), hours_from_text("09:00", "17:00", "12:00-13:00"))
    try:
        yield HoursEnv(Env(server=server, kiosk_tokens=street.kiosk_tokens), street.site_ids[0], street.centre_id)
    finally:
        await server.close()


async def signed_in(h: HoursEnv, kiosks: int) -> tuple[list[Client], Client]:
    """The first `kiosks` kiosks and caseworker cw1, signed in and connected."""
    clients = [Client(h.env) for _ in range(kiosks)]
    cw = Client(h.env)
    for kiosk, token in zip(clients, h.env.kiosk_tokens, strict=False):
        await kiosk.kiosk_login(token)
        await kiosk.connect()
    await cw.staff_login("cw1")
    await cw.connect()
    return clients, cw


async def _get(client: Client, path: str) -> tuple[int, Any]:
    async with client.http.get(client.env.url(path)) as response:
        return response.status, await response.json()


async def test_closed_on_a_holiday_shows_the_next_opening_and_refuses_the_join(tmp_path: Path) -> None:
    async with hours_env(tmp_path, HOLIDAY_MORNING) as h:
        kiosk = Client(h.env)
        try:
            await kiosk.kiosk_login(h.env.kiosk_tokens[0])
            status, body = await _get(kiosk, f"/api/v1/calendar?site={h.site_id}&days=10")
            assert status == 200, body
            assert body["centre_id"] == h.centre_id and not body["always_open"] and not body["open_now"]
            assert body["next_open"] == "2026-02-24T09:00:00+08:00"
            days = {day["date"]: day for day in body["days"]}
            assert days["2026-02-17"]["reason"] == "holiday" and days["2026-02-17"]["holiday"] == "春节"
            assert days["2026-02-24"]["periods"] == ["09:00-12:00", "13:00-17:00"]
            status, own = await _get(kiosk, "/api/v1/calendar")  # a kiosk's own site
            assert status == 200 and own["centre_id"] == h.centre_id

            status, body = await _get(kiosk, f"/api/v1/availability?matter={MATTER}")
            assert (status, body["state"], body["next_open"]) == (200, "closed", "2026-02-24T09:00:00+08:00")

            await kiosk.connect()
            reply = await kiosk.request({"type": "join", "matter_id": MATTER, "mode": "handle"})
            assert reply["type"] == "error" and reply["code"] == "closed", reply
            assert "2月24日（周二）09:00 开始服务" in reply["message"]
            async with h.env.app[app_keys.DB_SESSIONS]() as session:
                assert await session.scalar(select(func.count()).select_from(ServiceSession)) == 0
        finally:
            await kiosk.close()


async def test_open_with_nobody_signed_in_then_with_a_caseworker(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING) as h:
        kiosk, cw = Client(h.env), Client(h.env)
        try:
            await kiosk.kiosk_login(h.env.kiosk_tokens[0])
            status, body = await _get(kiosk, f"/api/v1/availability?matter={MATTER}")
            assert (status, body["state"], body["est_wait_s"]) == (200, "no_staff", None)
            await cw.staff_login("cw1")
            await cw.connect()
            await cw.send({"type": "set_status", "status": "available"})
            await cw.expect("agent")
            status, body = await _get(kiosk, f"/api/v1/availability?matter={MATTER}")
            assert (status, body["state"]) == (200, "queue") and 0 < body["est_wait_s"] <= body["wait_limit_s"]
            await kiosk.connect()
            await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle", "priority": "elderly"})
            assert (await kiosk.expect("ticket"))["ticket"]["state"] in {"waiting", "offered"}
            offer = (await cw.expect("offer"))["offer"]
            assert offer["priority"] == "elderly"
        finally:
            await kiosk.close()
            await cw.close()


async def test_a_date_override_opens_a_holiday(tmp_path: Path) -> None:
    async with hours_env(tmp_path, HOLIDAY_MORNING) as h:
        async with h.env.app[app_keys.DB_SESSIONS]() as session, session.begin():
            day = datetime.fromisoformat(HOLIDAY_MORNING).date()
            await set_override(session, h.centre_id, day, hours_from_text("09:00", "11:00"), "春节值班")
        kiosk = Client(h.env)
        try:
            await kiosk.kiosk_login(h.env.kiosk_tokens[0])
            status, body = await _get(kiosk, f"/api/v1/calendar?site={h.site_id}")
            assert status == 200 and body["open_now"] and body["days"][0]["note"] == "春节值班"
            status, body = await _get(kiosk, f"/api/v1/availability?matter={MATTER}")
            assert body["state"] == "no_staff"
        finally:
            await kiosk.close()


async def test_a_centre_without_hours_is_always_open(tmp_path: Path) -> None:
    async with hours_env(tmp_path, HOLIDAY_MORNING, with_hours=False) as h:
        kiosk = Client(h.env)
        try:
            await kiosk.kiosk_login(h.env.kiosk_tokens[0])
            status, body = await _get(kiosk, f"/api/v1/calendar?site={h.site_id}")
            assert status == 200 and body["always_open"] and body["open_now"]
            assert body["next_open"].startswith("2026-02-16T10:0")  # open now: the next opening is now
            assert all(day["open"] and day["reason"] == "always_open" for day in body["days"])
        finally:
            await kiosk.close()


async def test_bad_input_gets_clear_errors(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING) as h:
        kiosk, cw, nobody = Client(h.env), Client(h.env), Client(h.env)
        try:
            await kiosk.kiosk_login(h.env.kiosk_tokens[0])
            await cw.staff_login("cw1")
            for path, status, code in [
                ("/api/v1/calendar?site=abc", 400, "bad_site"),
                ("/api/v1/calendar?site=99999", 404, "unknown_site"),
                ("/api/v1/calendar?site=1&days=0", 400, "bad_days"),
                ("/api/v1/calendar?site=1&days=999", 400, "bad_days"),
                ("/api/v1/availability", 400, "unknown_matter"),
                ("/api/v1/availability?matter=nope", 404, "unknown_matter"),
            ]:
                got, body = await _get(kiosk, path)
                assert (got, body["error"]["code"]) == (status, code), path
                assert body["error"]["message"]
            got, body = await _get(cw, f"/api/v1/availability?matter={MATTER}")
            assert got == 403
            got, body = await _get(cw, "/api/v1/calendar")
            assert (got, body["error"]["code"]) == (400, "missing_site")
            got, body = await _get(nobody, f"/api/v1/calendar?site={h.site_id}")
            assert got == 401
        finally:
            for client in (kiosk, cw, nobody):
                await client.close()


async def test_follow_up_is_due_on_the_centres_next_working_day(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING) as h:
        hours = h.env.app[HOURS]
        friday_before_spring_festival = datetime(2026, 2, 13, 15, tzinfo=DISTRICT_TZ)
        due = await hours.next_working_day(h.centre_id, friday_before_spring_festival)
        assert due == datetime(2026, 2, 14, 15, tzinfo=DISTRICT_TZ)  # the make-up Saturday
        # The service clock runs on from its start.
        now = hours.clock.now()
        assert abs(now - datetime.fromisoformat(WORKING_MORNING).astimezone(UTC)) < timedelta(minutes=5)

        # A 1-star rating now: its follow-up and the 回访 number left for it are due on the next
        # working day of the service clock (Tuesday morning), not of real time.
        (kiosk,), cw = await signed_in(h, 1)
        boss = Client(h.env)
        try:
            await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
            await cw.send({"type": "set_status", "status": "available"})
            offer = (await cw.expect("offer"))["offer"]
            await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
            await kiosk.expect("call")
            await cw.send({"type": "end_call", "ticket_id": offer["ticket_id"], "outcome": "completed"})
            await kiosk.expect("call_ended")
            rating = {"type": "rate", "session_id": offer["ticket_id"], "score": 1}
            assert (await kiosk.request(rating))["type"] == "ok"
            phone = {"type": "followup_phone", "session_id": offer["ticket_id"], "phone": "13812341234"}
            assert (await kiosk.request(phone))["type"] == "ok"
            await boss.staff_login("boss")
            status, followups = await _get(boss, "/api/v1/followups")
            assert status == 200, followups
            [followup] = followups["items"]
            assert followup["due_at"].startswith("2026-03-03T10:0") and not followup["overdue"], followup
            status, callbacks = await _get(boss, "/api/v1/callbacks")
            [callback] = callbacks["items"]
            assert callback["due_at"][:16] == followup["due_at"][:16] and not callback["overdue"], callback
        finally:
            for client in (kiosk, cw, boss):
                await client.close()


async def _ticket_in(kiosk: Client, state: str) -> dict[str, Any]:
    while True:
        ticket: dict[str, Any] = (await kiosk.expect("ticket"))["ticket"]
        if ticket["state"] == state:
            return ticket


async def _sweep(h: HoursEnv) -> int:
    sweeper = h.env.app[SWEEPER]
    await h.env.app[app_keys.REDIS].delete(h.env.app[app_keys.REDIS_KEYS].hours_sweep_lock)  # the loop's round
    return await sweeper.sweep()


async def test_sweeper_ends_waiting_tickets_when_the_centre_closes_or_nobody_can_serve(tmp_path: Path) -> None:
    async with hours_env(tmp_path, WORKING_MORNING) as h:
        kiosks, cw = await signed_in(h, 2)
        try:
            await cw.send({"type": "set_status", "status": "break", "reason": "meeting"})
            await cw.expect("agent")
            await kiosks[0].send({"type": "join", "matter_id": MATTER, "mode": "handle"})
            first = (await kiosks[0].expect("ticket"))["ticket"]["session_id"]
            # Open, a caseworker with the skill signed in (on a break): nothing to end.
            assert await _sweep(h) == 0
            # The centre closes for the rest of today: the waiting ticket ends, the kiosk is told when it opens.
            async with h.env.app[app_keys.DB_SESSIONS]() as session, session.begin():
                today = datetime.fromisoformat(WORKING_MORNING).date()
                await set_override(session, h.centre_id, today, None, "停电")
            assert await _sweep(h) == 1
            assert (await _ticket_in(kiosks[0], "cancelled"))["session_id"] == first
            notice = await kiosks[0].expect("service_notice")
            assert (notice["reason"], notice["session_id"]) == ("centre_closed", first)
            assert notice["next_open"] == "2026-03-03T09:00:00+08:00"
            async with h.env.app[app_keys.DB_SESSIONS]() as session, session.begin():
                await remove_override(session, h.centre_id, today)
            # Open again; the caseworker signs out and nobody with the skill is left past the grace.
            await cw.send({"type": "set_status", "status": "offline"})
            await kiosks[1].send({"type": "join", "matter_id": MATTER, "mode": "handle"})
            second = (await kiosks[1].expect("ticket"))["ticket"]["session_id"]
            h.env.app[SWEEPER].grace_s = 0.0
            assert await _sweep(h) == 1
            await _ticket_in(kiosks[1], "cancelled")
            notice = await kiosks[1].expect("service_notice")
            assert (notice["reason"], notice["session_id"], notice["next_open"]) == ("no_staff", second, None)
            await asyncio.sleep(0.5)  # the recorder writes the transition
            async with h.env.app[app_keys.DB_SESSIONS]() as session:
                rows = {r.id: r for r in (await session.scalars(select(ServiceSession))).all()}
                events = (await session.scalars(select(SessionEvent).where(SessionEvent.kind == "cancel"))).all()
            assert rows[first].state == rows[second].state == "cancelled"
            reasons = {event.session_id: (event.actor, event.data.get("reason")) for event in events}
            assert reasons == {first: ("system", "centre_closed"), second: ("system", "no_staff")}
        finally:
            for client in (*kiosks, cw):
                await client.close()


async def _post(client: Client, path: str, body: Any) -> tuple[int, Any]:
    async with client.http.post(client.env.url(path), json=body) as response:
        return response.status, await response.json()


async def test_callbacks_left_at_a_closed_kiosk_are_taken_and_closed_by_staff(tmp_path: Path) -> None:
    async with hours_env(tmp_path, HOLIDAY_MORNING) as h:
        (kiosk,), cw = await signed_in(h, 1)
        boss = Client(h.env)
        try:
            await boss.staff_login("boss")
            for phone in ("12345678901", "138123412345", "010-1234567", ""):
                reply = await kiosk.request({"type": "callback_request", "matter_id": MATTER, "phone": phone})
                assert (reply["type"], reply["code"]) == ("error", "bad_phone"), phone
                assert "手机号" in reply["message"]
            reply = await kiosk.request({"type": "callback_request", "matter_id": "nope", "phone": "13812341234"})
            assert reply["code"] == "unknown_matter"
            reply = await kiosk.request({"type": "callback_request", "matter_id": MATTER, "phone": "138 1234 1234",
                                         "preferred": "上午"})
            assert reply["type"] == "ok", reply
            # The kiosk is told when the call is due, and the service clock's now to say it against.
            assert reply["callback"]["due_at"] == "2026-02-24T10:00:00+08:00"
            assert reply["callback"]["now"].startswith("2026-02-16T10:00")
            # The same request again (its answer was lost and the resident pressed once more) is the same 回电.
            again = await kiosk.request({"type": "callback_request", "matter_id": MATTER, "phone": "13812341234"})
            # (`now` is the service clock's time of each answer, a second apart at times.)
            assert {**again["callback"], "now": ""} == {**reply["callback"], "now": ""}
            status, body = await _get(boss, "/api/v1/callbacks?state=open")
            assert status == 200 and body["total"] == 1
            [item] = body["items"]
            assert (item["phone"], item["phone_full"], item["preferred"]) == ("138****1234", False, "上午")
            assert item["due_at"] == "2026-02-24T10:00:00+08:00"  # an hour after the holiday ends
            # The board counts overdue callbacks on the service clock (2月16日 10:00 here), as the list does,
            # not in real time (months later): not overdue yet.
            status, live = await _get(boss, "/api/v1/stats/live")
            assert status == 200 and all(a["code"] != "overdue_callbacks" for a in live["alerts"])
            async with h.env.app[app_keys.DB_SESSIONS]() as session, session.begin():  # the due time passes
                (await session.get(Callback, item["id"])).due_at = datetime.fromisoformat(HOLIDAY_MORNING) - timedelta(
                    minutes=1)
            status, listed = await _get(boss, "/api/v1/callbacks?state=open")
            assert listed["overdue"] == 1
            status, live = await _get(boss, "/api/v1/stats/live")
            assert {"code": "overdue_callbacks", "level": "warn", "value": 1, "limit": 0} in [
                {k: a[k] for k in ("code", "level", "value", "limit")} for a in live["alerts"]]
            status, taken = await _post(cw, f"/api/v1/callbacks/{item['id']}", {"state": "taken"})
            assert (status, taken["phone"], taken["phone_full"]) == (200, "13812341234", True)
            status, seen = await _get(boss, "/api/v1/callbacks")
            assert seen["items"][0]["phone"] == "138****1234"  # only the taker sees the number
            # A number typed into the note is masked where it enters: the list goes to every colleague.
            status, done = await _post(cw, f"/api/v1/callbacks/{item['id']}",
                                       {"state": "done", "note": "已回电，另留 13912345678"})
            assert (status, done["state"]) == (200, "done")
            assert done["note"].startswith("已回电，另留 ") and "13912345678" not in done["note"]
            for path, body_in, want in [
                (f"/api/v1/callbacks/{item['id']}", {"state": "taken"}, (409, "wrong_state")),
                ("/api/v1/callbacks/99999", {"state": "taken"}, (404, "unknown_callback")),
                ("/api/v1/callbacks/abc", {"state": "taken"}, (404, "unknown_callback")),
            ]:
                status, err = await _post(cw, path, body_in)
                assert (status, err["error"]["code"]) == want, path
            status, err = await _post(cw, f"/api/v1/callbacks/{item['id']}", {"state": "called"})
            assert status == 422
            assert (await _get(cw, "/api/v1/callbacks?state=nope"))[0] == 400
            assert (await _get(kiosk, "/api/v1/callbacks"))[0] == 403
            # The server's daily purge blanks the numbers of closed callbacks, and only those (run
            # here a day later by its clock, with its first pass at once).
            stop = asyncio.Event()
            sessions = h.env.app[app_keys.DB_SESSIONS]
            async with sessions() as session, session.begin():  # an old request nobody has closed yet
                first = await session.get(Callback, item["id"])
                session.add(Callback(centre_id=first.centre_id, kiosk_id=first.kiosk_id, matter_id=first.matter_id,
                                     phone="13900001111", preferred="", state="open", due_at=first.due_at, note="",
                                     created_at=first.created_at, updated_at=first.updated_at))
            purge = asyncio.create_task(run_daily_phone_purge(
                sessions, 0, stop, lambda: datetime.now(UTC) + timedelta(days=1), first_delay_s=0.01))
            for _ in range(100):
                status, seen = await _get(boss, "/api/v1/callbacks?state=done")
                if seen["items"][0]["phone"] == "":
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(purge, 5)
            assert seen["items"][0]["phone"] == ""
            status, still = await _get(boss, "/api/v1/callbacks?state=open")
            assert [i["phone"] for i in still["items"]] == ["139****1111"]  # an open request keeps its number
            async with sessions() as session, session.begin():
                assert await blank_old_phones(session, datetime.now(UTC) + timedelta(days=1)) == 0  # done already
            # Ten requests a minute from one kiosk (the refused ones count too), then a clear refusal.
            codes = [(await kiosk.request({"type": "callback_request", "matter_id": MATTER,
                                           "phone": "13912345678"})).get("code") for _ in range(7)]
            assert codes[:4] == [None] * 4 and codes[4:] == ["too_many_requests"] * 3
        finally:
            for client in (kiosk, cw, boss):
                await client.close()
