"""`jinglin purge` blanks residents' phone numbers kept for 回电 and 预约 once they have served and
the retention has passed, and only those; --dry-run counts them and changes nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from server.cli import build_parser
from server.db.engine import make_engine, make_session_factory
from server.db.models import Appointment, Callback, Centre, Kiosk, Site, Street
from tests.helpers import make_settings, prepare_database

OLD = datetime.now(UTC) - timedelta(days=60)  # well past the 30-day default retention
RECENT = datetime.now(UTC) - timedelta(days=1)


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as db, db.begin():
            street = Street(code="test", name="测试街道")
            db.add(street)
            await db.flush()
            centre = Centre(street_id=street.id, name="测试中心")
            site = Site(street_id=street.id, name="测试居民区", kind="committee")
            db.add_all([centre, site])
            await db.flush()
            kiosk = Kiosk(site_id=site.id, label="一号机", token_hash="h" * 64)
            db.add(kiosk)
            await db.flush()
            for phone, state, created in (("13800000001", "done", OLD), ("13800000002", "unreachable", OLD),
                                          ("13800000003", "open", OLD), ("13800000004", "done", RECENT)):
                db.add(Callback(centre_id=centre.id, kiosk_id=kiosk.id, matter_id="gaj-jlks-01", phone=phone,
                                preferred="", state=state, due_at=created, note="", created_at=created,
                                updated_at=created))
            for code, phone, state, starts in (("100001", "13900000001", "done", OLD),
                                               ("100002", "13900000002", "booked", OLD),
                                               ("100003", "13900000003", "cancelled", RECENT)):
                db.add(Appointment(centre_id=centre.id, kiosk_id=kiosk.id, matter_id="gaj-jlks-01",
                                   skill="police-general", starts_at=starts, day=starts.date(), code=code,
                                   phone=phone, state=state))
    finally:
        await engine.dispose()


async def _phones(url: str) -> tuple[list[str], list[str]]:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as db:
            callbacks = (await db.scalars(select(Callback.phone).order_by(Callback.id))).all()
            appointments = (await db.scalars(select(Appointment.phone).order_by(Appointment.id))).all()
            return list(callbacks), list(appointments)
    finally:
        await engine.dispose()


def _purge(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, object]:
    args = build_parser().parse_args(["purge", "--json", *flags])
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, dict)
    return out


def test_purge_blanks_only_served_numbers_past_the_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path)
    url = settings.resolved_database_url
    asyncio.run(prepare_database(settings))
    asyncio.run(_seed(url))
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGLIN_SECRET_KEY", "k" * 48)
    monkeypatch.delenv("JINGLIN_DATABASE_URL", raising=False)
    before = asyncio.run(_phones(url))

    dry = _purge(capsys, "--dry-run")
    assert dry["callback_phones"] == {"phones": 2, "dry_run": True}
    assert dry["appointment_phones"] == {"phones": 1, "dry_run": True}
    assert asyncio.run(_phones(url)) == before

    done = _purge(capsys)
    assert done["callback_phones"] == {"phones": 2, "dry_run": False}
    assert done["appointment_phones"] == {"phones": 1, "dry_run": False}
    callbacks, appointments = asyncio.run(_phones(url))
    # Closed and old: blanked. Still open, or closed recently: kept.
    assert callbacks == ["", "", "13800000003", "13800000004"]
    # A past appointment still marked booked keeps its number until it is marked (no-show or done).
    assert appointments == ["", "13900000002", "13900000003"]

    again = _purge(capsys)
    assert again["callback_phones"] == {"phones": 0, "dry_run": False}
    assert again["appointment_phones"] == {"phones": 0, "dry_run": False}
