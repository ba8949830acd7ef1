"""Report endpoints on a seeded history, checked against hand-computed figures.

The history (local day 2026-11-20, Asia/Shanghai, SL threshold 60 s) — waits and handle times:

    id  matter  created   wait   handle  state      notes
    s1  M1      09:00:00   30     300    done       rating 5
    s2  M1      09:10:00   60     600    done       rating 1, follow-up (overdue); wait exactly 60 s
    s3  M2      09:20:00   61     120    done       rating 4; wait 61 s: just outside
    s4  M2      10:00:00   40       -    abandoned  gone past grace after 40 s
    s5  M1      10:05:00  120       -    cancelled  resident gave up after 120 s
    s6  M1      10:30:00  120    1080    done       requeued once; rating 2, follow-up (contacted)
    s7  M2      11:00:00    -       -    waiting    still open
    s9  M2      00:10:00   10      50    done       local 00:10 = 16:10 UTC the day before
    s8  M1      00:30 on 11-21 local (16:30 UTC on 11-20): outside the local day

Offered 8, answered 5, abandoned 2 (1 cancelled), waiting 1. Waits 10,30,40,60,61,120,120:
avg 63.0, p90 (nearest rank 7 of 7) 120, max 120; ASA (answered) 281/5 = 56.2; handle
2150/5 = 430.0. Answered within 60 s: s1, s2, s9 → SL 3/5; abandoned within: s4 → SL2 4/7.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import openpyxl
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.app import create_app
from server.db.models import (
    AuditLog,
    CaseworkerEvent,
    FollowUp,
    Kiosk,
    KioskHealthSample,
    Rating,
    ServiceSession,
    SessionEvent,
)
from server.hours.calendar import hours_from_text
from server.hours.store import set_week
from server.http import app_keys
from server.reports import views as reports_views
from server.runtime.district_time import DISTRICT_TZ
from server.runtime.embedded_redis import EmbeddedRedis
from tests.conftest import SERVER_DATABASE_URL, require_service, reset_postgres
from tests.district import JIANGNINGLU, JINGANSI, add_staff, add_street
from tests.helpers import make_settings, prepare_database

PASSWORD = "p" * 12
M1 = "gaj-jlks-01"  # 公安, 敬老卡申领、发放
M2 = "daj-byda-01"  # 档案, 兵役档案查询
DAY = "2026-11-20"


def at(clock: str, day: str = DAY) -> datetime:
    """A Shanghai local time as the aware UTC datetime the database stores."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=DISTRICT_TZ).astimezone(UTC)


@dataclass
class Env:
    """A running server with the reports wired in, and the ids of what was seeded."""

    server: TestServer
    app: web.Application
    ids: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def client(self, username: str | None = None, kiosk: bool = False) -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        if kiosk:
            response = await http.post(self.url("/api/v1/kiosk/session"), json={"token": self.ids["kiosk_token"]})
            assert response.status == 200
        elif username:
            response = await http.post(self.url("/api/v1/auth/login"), json={"username": username,
                                                                            "password": PASSWORD})
            assert response.status == 200, await response.text()
        return http


async def start_env(tmp_path: Path, database_url: str, redis: EmbeddedRedis) -> Env:
    """Migrate, start the app with the reports wired in, and create places and people."""
    client = aioredis.from_url(redis.url)
    await client.flushdb()
    await client.aclose()
    settings = make_settings(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis.url)
    await prepare_database(settings)
    app = create_app(settings)
    server = TestServer(app)
    await server.start_server()
    env = Env(server=server, app=app)
    async with app[app_keys.DB_SESSIONS]() as db, db.begin():
        await seed_people(db, env.ids)
    return env


async def seed_people(db: AsyncSession, ids: dict[str, Any]) -> None:
    """Two streets with a centre and a kiosk each, two caseworkers, a supervisor and an admin."""
    for n, street_names in enumerate((JIANGNINGLU, JINGANSI), start=1):
        street = await add_street(db, street_names, site_names=[f"{street_names[1]}测试居委"],
                                  kiosk_labels=[f"终端{n}"])
        ids.update({f"street{n}": street.street_id, f"centre{n}": street.centre_id, f"site{n}": street.site_ids[0],
                    f"kiosk{n}": street.kiosk_ids[0]})
        ids.setdefault("kiosk_token", street.kiosk_tokens[0])
        ids.update(await add_staff(db, street.centre_id, caseworkers={f"cw{n}": ["police-general", "archives"]},
                                   display_names={f"cw{n}": f"受理员{n}"}))
    ids.update(await add_staff(db, ids["centre1"], caseworkers={"cw3": ["archives"]}, supervisors=["boss"],
                               admins=["root"], display_names={"cw3": "受理员3", "boss": "值班主管"}))


def _session(sid: str, ids: dict[str, Any], n: int, matter: str, created: datetime, state: str,
             **extra: Any) -> ServiceSession:
    return ServiceSession(id=sid, ticket_number=f"A{sid[1:]:0>4}", kiosk_id=ids[f"kiosk{n}"], site_id=ids[f"site{n}"],
                          street_id=ids[f"street{n}"], matter_id=matter,
                          skill="police-general" if matter == M1 else "archives", mode="handle", state=state,
                          created_at=created, **extra)


async def seed_history(db: AsyncSession, ids: dict[str, Any], day: str = DAY) -> None:
    """The history of the module docstring (on `day`), with events, caseworker states and kiosk health."""
    c1, c2 = ids["centre1"], ids["centre2"]
    cw1, cw2 = ids["cw1"], ids["cw2"]
    next_day = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    before = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()

    def t(clock: str, on: str = day) -> datetime:
        return at(clock, on)
    db.add_all([
        _session("s1", ids, 1, M1, t("09:00:00"), "done", answered_at=t("09:00:30"), ended_at=t("09:05:30"),
                 closed_at=t("09:06:00"), outcome="accepted", case_number="JA-1", caseworker_id=cw1, centre_id=c1),
        _session("s2", ids, 1, M1, t("09:10:00"), "done", answered_at=t("09:11:00"), ended_at=t("09:21:00"),
                 closed_at=t("09:21:30"), outcome="completed", caseworker_id=cw1, centre_id=c1),
        _session("s3", ids, 2, M2, t("09:20:00"), "done", answered_at=t("09:21:01"), ended_at=t("09:23:01"),
                 closed_at=t("09:23:31"), outcome="answered", caseworker_id=cw2, centre_id=c2),
        _session("s4", ids, 2, M2, t("10:00:00"), "abandoned", ended_at=t("10:00:40"), closed_at=t("10:00:40")),
        _session("s5", ids, 1, M1, t("10:05:00"), "cancelled", ended_at=t("10:07:00"), closed_at=t("10:07:00")),
        _session("s6", ids, 2, M1, t("10:30:00"), "done", offered_at=t("10:31:50"), answered_at=t("10:32:00"),
                 ended_at=t("10:50:00"), closed_at=t("10:50:30"), outcome="accepted", case_number="JA-2",
                 caseworker_id=cw2, centre_id=c2, requeue_count=1),
        _session("s7", ids, 1, M2, t("11:00:00"), "waiting"),
        _session("s9", ids, 2, M2, t("00:10:00"), "done", answered_at=t("00:10:10"), ended_at=t("00:11:00"),
                 closed_at=t("00:11:30"), outcome="answered", caseworker_id=cw2, centre_id=c2),
        _session("s8", ids, 1, M1, t("00:30:00", next_day), "done", answered_at=t("00:30:05", next_day),
                 ended_at=t("00:31:00", next_day), closed_at=t("00:31:00", next_day), outcome="answered",
                 caseworker_id=cw1, centre_id=c1),
    ])
    await db.flush()
    db.add_all([Rating(session_id="s1", score=5), Rating(session_id="s2", score=1, comment="等太久"),
                Rating(session_id="s3", score=4), Rating(session_id="s6", score=2)])
    db.add_all([FollowUp(session_id="s2", centre_id=c1, state="open", due_at=t("09:21:30", before)),
                FollowUp(session_id="s6", centre_id=c2, state="contacted",
                         due_at=datetime.now(UTC) + timedelta(days=1))])
    for sid, kind, frm, to, clock in (
        ("s6", "enqueue", None, "waiting", "10:30:00"), ("s6", "offer", "waiting", "offered", "10:30:05"),
        ("s6", "accept", "offered", "in_call", "10:30:10"), ("s6", "caseworker_dropped", "in_call", "requeued",
                                                              "10:31:00"),
        ("s6", "requeue", "requeued", "waiting", "10:31:00"), ("s6", "offer", "waiting", "offered", "10:31:50"),
        ("s6", "accept", "offered", "in_call", "10:32:00"), ("s6", "end_call", "in_call", "wrap_up", "10:50:00"),
        # s7 is still waiting: its enqueue is recorded, so the server's reconciler never takes it for a
        # row whose ticket was lost and puts it back into the live queue mid-test.
        ("s7", "enqueue", None, "waiting", "11:00:00"),
    ):
        db.add(SessionEvent(session_id=sid, at=t(clock), kind=kind, from_state=frm, to_state=to, actor="router",
                            data={"fence": 1}))
        await db.flush()  # one insert at a time: ids in the order written
    cw3 = ids["cw3"]
    for user, clock, on, frm, to in (
        (cw3, "20:00:00", before, None, "available"),  # on duty since the evening before
        (cw1, "08:30:00", day, None, "available"), (cw1, "09:30:00", day, "available", "break"),
        (cw1, "09:45:00", day, "break", "available"), (cw1, "12:00:00", day, "available", "offline"),
        (cw2, "09:15:00", day, None, "available"), (cw2, "11:00:00", day, "available", "offline"),
    ):
        db.add(CaseworkerEvent(user_id=user, at=t(clock, on), from_state=frm, to_state=to))
    kiosk1 = await db.get(Kiosk, ids["kiosk1"])
    assert kiosk1 is not None
    kiosk1.camera_health = 0.4
    now = datetime.now(UTC)
    for days_ago, score in ((6, 0.9), (3, 0.75), (0, 0.6)):
        db.add(KioskHealthSample(kiosk_id=ids["kiosk1"], at=now - timedelta(days=days_ago, minutes=5),
                                 source="device_check", camera_ok=True, camera_score=score))
    db.add(KioskHealthSample(kiosk_id=ids["kiosk2"], at=now - timedelta(hours=1), source="live", camera_ok=True,
                             camera_score=0.95))


# One seeded server per database backend for the whole module: the tests only read, except the
# follow-up test, which is the only one looking at follow-up states.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Like conftest's `database_url`, once per module."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('reports') / 'test.sqlite3'}"
    require_service(SERVER_DATABASE_URL, "PostgreSQL")
    asyncio.run(reset_postgres(SERVER_DATABASE_URL))
    return SERVER_DATABASE_URL


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, module_database_url: str,
              embedded_redis: EmbeddedRedis) -> AsyncIterator[Env]:
    env = await start_env(tmp_path_factory.mktemp("data"), module_database_url, embedded_redis)
    async with env.app[app_keys.DB_SESSIONS]() as db, db.begin():
        await seed_history(db, env.ids)
    yield env
    await env.server.close()


async def get_json(http: aiohttp.ClientSession, env: Env, path: str, status: int = 200) -> Any:
    response = await http.get(env.url(path))
    assert response.status == status, await response.text()
    return await response.json()


async def test_summary_matches_hand_computed_figures(env: Env) -> None:
    http = await env.client("boss")
    try:
        data = await get_json(http, env, f"/api/v1/reports/summary?from={DAY}&to={DAY}&by=matter")
        total = data["total"]
        assert (total["offered"], total["answered"], total["abandoned"], total["cancelled"], total["waiting"]) == (
            8, 5, 2, 1, 1)
        assert total["avg_wait_s"] == 63.0
        assert total["p90_wait_s"] == 120.0
        assert total["max_wait_s"] == 120.0
        assert total["avg_answer_wait_s"] == 56.2
        assert total["avg_handle_s"] == 430.0
        assert total["answered_within"] == 3  # s2 waited exactly the threshold: it counts
        assert total["sl"] == 0.6
        assert total["sl2"] == round(4 / 7, 4)
        assert total["outcomes"] == {"accepted": 2, "answered": 2, "completed": 1}
        assert total["ratings"] == {"5": 1, "4": 1, "3": 0, "2": 1, "1": 1}
        assert total["avg_rating"] == 3.0
        groups = {g["key"]: g for g in data["groups"]}
        assert set(groups) == {M1, M2}
        m1, m2 = groups[M1], groups[M2]
        assert (m1["offered"], m1["answered"], m1["abandoned"], m1["sl"], m1["sl2"]) == (4, 3, 1, 0.6667, 0.5)
        assert (m2["offered"], m2["answered"], m2["abandoned"], m2["waiting"]) == (4, 2, 1, 1)
        assert (m2["sl"], m2["sl2"]) == (0.5, 0.6667)
        assert m1["label"].startswith("敬老卡")

        hours = await get_json(http, env, f"/api/v1/reports/summary?from={DAY}&by=hour")
        assert [(g["key"], g["offered"]) for g in hours["groups"]] == [("00", 1), ("09", 3), ("10", 3), ("11", 1)]
        both = await get_json(http, env, f"/api/v1/reports/summary?from={DAY}&to=2026-11-21&by=day")
        assert [(g["key"], g["offered"]) for g in both["groups"]] == [(DAY, 8), ("2026-11-21", 1)]
        centres = await get_json(http, env, f"/api/v1/reports/summary?from={DAY}&by=centre")
        by_centre = {g["key"]: g["answered"] for g in centres["groups"]}
        assert by_centre == {"": 0, str(env.ids["centre1"]): 2, str(env.ids["centre2"]): 3}
        police = await get_json(http, env, f"/api/v1/reports/summary?from={DAY}&by=department&department=公安")
        assert [(g["key"], g["offered"]) for g in police["groups"]] == [("公安", 4)]
    finally:
        await http.close()


async def test_staffing_erlang_and_on_duty(env: Env) -> None:
    http = await env.client("root")  # admins may read reports too
    try:
        data = await get_json(http, env, f"/api/v1/reports/staffing?date={DAY}&target=0.8")
        hours = {h["hour"]: h for h in data["hours"]}
        assert len(hours) == 24
        nine = hours[9]
        assert nine["arrivals"] == 3
        assert nine["avg_handle_s"] == 340.0  # (300 + 600 + 120) / 3
        assert nine["needed"] == 2  # A = 0.283 E: 1 agent reaches 75.0 % in 60 s, 2 reach 97.4 %
        # cw3 all hour, cw1 45 min (break 09:30-09:45), cw2 from 09:15: 1 + 0.75 + 0.75
        assert nine["on_duty_avg"] == 2.5
        assert nine["on_duty_max"] == 3
        assert (hours[8]["on_duty_avg"], hours[8]["on_duty_max"]) == (1.5, 2)
        assert (hours[12]["on_duty_avg"], hours[12]["on_duty_max"]) == (1.0, 1)  # cw1 left at 12:00:00
        assert hours[3]["arrivals"] == 0 and hours[3]["needed"] == 0
    finally:
        await http.close()


async def test_staffing_follows_the_centres_opening_hours(env: Env) -> None:
    """Centre 1 opens 09:00-17:00 with a lunch break; centre 2 has no hours (always open)."""
    weekdays = list(range(5))
    async with env.app[app_keys.DB_SESSIONS]() as db, db.begin():
        await set_week(db, env.ids["centre1"], weekdays, hours_from_text("09:00", "17:00", "12:00-13:00"))
    http = await env.client("root")
    try:
        one = await get_json(http, env, f"/api/v1/reports/staffing?date={DAY}&centre={env.ids['centre1']}")
        share = [h["open_share"] for h in one["hours"]]
        assert share == [0.0] * 9 + [1.0] * 3 + [0.0] + [1.0] * 4 + [0.0] * 7
        arrivals = sum(h["arrivals"] for h in one["hours"])
        assert one["open_hours"]["hours"] == 7
        assert one["open_hours"]["offered"] + one["open_hours"]["closed_arrivals"] == arrivals
        assert one["open_hours"]["offered"] == sum(h["arrivals"] for h in one["hours"] if h["open_share"] > 0)

        district = await get_json(http, env, f"/api/v1/reports/staffing?date={DAY}")
        assert [h["open_share"] for h in district["hours"]] == [1.0] * 24  # centre 2 is always open
        assert district["open_hours"]["closed_arrivals"] == 0 and district["open_hours"]["offered"] == 8
        nine = district["hours"][9]  # s1 30 s, s2 60 s, s3 61 s: two within the 60 s threshold
        assert (nine["answered"], nine["answered_within"], nine["sl"]) == (3, 2, 0.6667)
        assert district["open_hours"]["sl"] == 0.6  # s1, s2, s9 of the five answered
    finally:
        await http.close()
        async with env.app[app_keys.DB_SESSIONS]() as db, db.begin():
            await set_week(db, env.ids["centre1"], weekdays, None)


async def test_sessions_and_exports_agree(env: Env) -> None:
    http = await env.client("boss")
    try:
        data = await get_json(http, env, f"/api/v1/sessions?from={DAY}&to={DAY}")
        sessions = data["sessions"]
        assert [s["id"] for s in sessions] == ["s9", "s1", "s2", "s3", "s4", "s5", "s6", "s7"]
        s2 = next(s for s in sessions if s["id"] == "s2")
        assert s2["created_at"] == f"{DAY}T09:10:00+08:00"
        assert (s2["rating"], s2["caseworker"], s2["street"]) == (1, "受理员1", "江宁路街道")
        assert s2["outcome"] == "completed"

        response = await http.get(env.url(f"/api/v1/reports/sessions.csv?from={DAY}&to={DAY}"))
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        raw = await response.read()
        assert raw.startswith(b"\xef\xbb\xbf")
        records = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        response = await http.get(env.url(f"/api/v1/reports/sessions.xlsx?from={DAY}&to={DAY}"))
        assert response.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await response.read()), read_only=True)
        sheet_rows = list(book["sessions"].iter_rows(values_only=True))
        book.close()
        header = list(sheet_rows[0])
        assert header == list(records[0].keys())
        assert len(records) == len(sheet_rows) - 1 == len(sessions)
        for api, from_csv, from_xlsx in zip(sessions, records, sheet_rows[1:], strict=True):
            # read-only openpyxl drops trailing empty cells
            row = dict(zip(header, [*from_xlsx, *[None] * (len(header) - len(from_xlsx))], strict=True))
            for key in header:
                expected = api[key]
                assert from_csv[key] == ("" if expected is None else str(expected)), key
                assert row[key] == expected, key
    finally:
        await http.close()


async def test_followups_list_and_state_changes(env: Env) -> None:
    http = await env.client("boss")
    try:
        data = await get_json(http, env, "/api/v1/followups")
        assert (data["total"], data["open"], data["overdue"]) == (2, 2, 1)
        first = data["items"][0]
        assert (first["session_id"], first["overdue"], first["rating"], first["comment"]) == ("s2", True, 1, "等太久")
        fid = first["id"]
        url = env.url(f"/api/v1/followups/{fid}")
        response = await http.post(url, json={"state": "resolved"})
        assert response.status == 422
        assert (await response.json())["error"]["code"] == "note_required"
        response = await http.post(url, json={"state": "contacted", "note": "已电话联系居民"})
        assert response.status == 200
        item = await response.json()
        assert item["state"] == "contacted" and "已电话联系居民" in item["note"] and "boss" in item["note"]
        response = await http.post(url, json={"state": "resolved", "note": "已解释并致歉"})
        assert (await response.json())["state"] == "resolved"
        assert (await response.json())["overdue"] is False
        response = await http.post(url, json={"state": "open"})
        assert response.status == 409
        response = await http.post(env.url("/api/v1/followups/99999"), json={"state": "contacted"})
        assert response.status == 404
        data = await get_json(http, env, "/api/v1/followups?state=resolved")
        assert [i["session_id"] for i in data["items"]] == ["s2"]
        async with env.app[app_keys.DB_SESSIONS]() as db:
            actors = set((await db.scalars(select(AuditLog.actor).where(AuditLog.action == "followup_update"))).all())
        assert len(actors) == 1 and next(iter(actors)).startswith("supervisor:"), actors  # as every entry: role:id
    finally:
        await http.close()


async def test_event_feed_is_resumable(env: Env) -> None:
    http = await env.client("boss")
    try:
        page1 = await get_json(http, env, "/api/v1/events?limit=3")
        assert [e["kind"] for e in page1["events"]] == ["enqueue", "offer", "accept"]
        page2 = await get_json(http, env, f"/api/v1/events?after={page1['next']}&limit=100")
        assert [e["kind"] for e in page2["events"]][:2] == ["caseworker_dropped", "requeue"]
        assert len(page1["events"]) + len(page2["events"]) == 9  # s6's eight and s7's enqueue
        assert page2["events"][0]["id"] > page1["next"]
        page3 = await get_json(http, env, f"/api/v1/events?after={page2['next']}")
        assert page3 == {"events": [], "next": page2["next"]}
        assert page1["events"][0]["at"] == f"{DAY}T10:30:00+08:00"
    finally:
        await http.close()


async def test_kiosk_health_and_live_alerts(env: Env) -> None:
    http = await env.client("boss")
    try:
        data = await get_json(http, env, "/api/v1/kiosks/health")
        kiosks = {k["id"]: k for k in data["kiosks"]}
        k1, k2 = kiosks[env.ids["kiosk1"]], kiosks[env.ids["kiosk2"]]
        assert (data["total"], data["online"], data["offline"], data["declining"]) == (2, 0, 2, 1)
        assert k1["trend_direction"] == "declining" and [p["score"] for p in k1["trend"]] == [0.9, 0.75, 0.6]
        assert k2["trend_direction"] == "unknown"
        live = await get_json(http, env, "/api/v1/stats/live")
        camera = next(a for a in live["alerts"] if a["code"] == "camera")
        assert camera["kiosk_ids"] == [env.ids["kiosk1"]]
    finally:
        await http.close()


async def test_roles(env: Env) -> None:
    # A follow-up id that does not exist: supervisors get past the role check to a 404, so this
    # test changes nothing the others read.
    for who, allowed in ((None, 401), ("cw1", 403), ("kiosk", 403), ("boss", None), ("root", None)):
        http = await (env.client(kiosk=True) if who == "kiosk" else env.client(who))
        try:
            for route in reports_views.ROUTES:
                path = route.path.replace("{followup_id}", "99999")
                body = {"state": "contacted", "note": "x"} if route.method == "POST" else None
                response = await http.request(route.method, env.url(path), json=body)
                if allowed is None:
                    assert response.status == (404 if route.method == "POST" else 200), (who, path)
                    continue
                assert response.status == allowed, (who, path, await response.text())
                error = (await response.json())["error"]
                assert error["code"] == {401: "unauthorized", 403: "forbidden"}[allowed]
        finally:
            await http.close()


BAD_RANGES = ("from=2026-13-01", "from=20261120", "from=2026-11-20&to=2026-11-19", "from=2026-11-20&to=yesterday",
              "from=2020-01-01&to=2026-01-01", "from=9999-12-31", "from=0001-01-01", "from=9999-12-30&to=9999-12-31",
              "from=１９９９-01-01")


async def test_bad_dates_are_400(env: Env) -> None:
    http = await env.client("boss")
    try:
        for query in BAD_RANGES:
            for path in ("/api/v1/sessions", "/api/v1/reports/summary", "/api/v1/reports/sessions.csv",
                         "/api/v1/reports/sessions.xlsx"):
                response = await http.get(env.url(f"{path}?{query}"))
                assert response.status == 400, (path, query)
                assert (await response.json())["error"]["code"] in ("bad_date", "bad_range")
        for day in ("2026-02-30", "9999-12-31", "0001-01-01"):
            response = await http.get(env.url(f"/api/v1/reports/staffing?date={day}"))
            assert response.status == 400, day
            assert (await response.json())["error"]["code"] == "bad_date"
        # Numbers are plain ASCII decimals: no exponent, sign, spaces or full-width digits.
        for query in ("limit=1.5", "limit=1e3", "limit=１２", "limit=%201", "limit=0", "limit=1001"):
            response = await http.get(env.url(f"/api/v1/events?{query}"))
            assert response.status == 400, query
            assert (await response.json())["error"]["code"] == "bad_limit"
        for query in ("wait_alert_s=1e3", "wait_alert_s=１２", "wait_alert_s=-5"):
            response = await http.get(env.url(f"/api/v1/stats/live?{query}"))
            assert response.status == 400, query
        assert (await http.get(env.url("/api/v1/stats/live?wait_alert_s=90.5&abandon_alert=.2"))).status == 200
        response = await http.get(env.url("/api/v1/reports/summary?by=weekday"))
        assert (await response.json())["error"]["code"] == "bad_by"
    finally:
        await http.close()
