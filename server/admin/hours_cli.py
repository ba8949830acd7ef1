"""`jinglin hours week|override|show`: a centre's opening hours and date overrides (docs/hours.md)."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import audit
from server.admin.cli_runtime import ACTOR, add_json, in_transaction, run
from server.admin.errors import invalid
from server.admin.hours_edit import (
    WEEKDAY_KEYS,
    HoursIn,
    OverrideIn,
    centre_or_404,
    check_hours,
    drop_override,
    parse_day,
    refuse,
    save_override,
    span_text,
)
from server.admin.phone_purge_cli import register_phone_purge
from server.db.models import Callback
from server.hours.calendar import DayHours
from server.hours.callbacks import blank_old_phones, expired_phones
from server.hours.clock import ServiceClock
from server.hours.schemas import CalendarOut, calendar_out
from server.hours.store import HoursError, load_calendar, parse_weekdays, set_week
from server.runtime.district_time import DISTRICT_TZ
from server.settings import Settings

SHOW_DAYS = 14


def _hours_in(args: argparse.Namespace) -> HoursIn:
    """The --open/--close/--lunch options as the /admin form's fields (lunch "12:00-13:00")."""
    lunch_start, _, lunch_end = (args.lunch or "").partition("-")
    return HoursIn(opens=args.open or "", closes=args.close or "", lunch_start=lunch_start.strip(),
                   lunch_end=lunch_end.strip())


def _week_hours(args: argparse.Namespace) -> DayHours | None:
    """The weekdays' hours (None with --closed), checked by the form's rules and messages."""
    if args.closed:
        return None
    problems: list[str] = []
    hours = check_hours(_hours_in(args), "所选工作日", problems)
    if hours is None:
        raise refuse(problems)
    return hours


async def _edit_then_show(current: Settings, centre_id: int,
                          edit: Callable[[AsyncSession], Awaitable[None]]) -> CalendarOut:
    async def work(db: AsyncSession) -> CalendarOut:
        centre = await centre_or_404(db, centre_id)
        await edit(db)
        await db.flush()
        calendar = await load_calendar(db, centre_id)
        return calendar_out(calendar, ServiceClock(current.clock_start).now(), SHOW_DAYS, centre_id=centre_id,
                            centre=centre.name)

    return await in_transaction(current, work)


def _text(out: Any) -> str:
    assert isinstance(out, CalendarOut)
    head = f"{out.centre} (centre {out.centre_id}): " + (
        "always open (no hours configured)" if out.always_open else
        ("open now" if out.open_now else f"closed now, next opening {out.next_open}"))
    lines = [head]
    for day in out.days:
        what = " ".join(day.periods) if day.open else "closed"
        why = day.holiday or day.reason
        lines.append(f"  {day.date}  {what:<24} {why}{'  ' + day.note if day.note else ''}")
    lines.append(f"  (holiday data covers {out.holiday_years[0]}-{out.holiday_years[1]})")
    return "\n".join(lines)


def register(commands: Any) -> None:
    """Add `hours` and its subcommands, and the callback phone numbers to `jinglin purge`."""
    register_phone_purge(commands, "callback_phones", Callback, expired_phones, blank_old_phones,
                         "phone numbers of closed callbacks")
    hours = commands.add_parser("hours", help="centres' opening hours, holidays and date overrides")
    sub = hours.add_subparsers(dest="hours_command", required=True)

    week = add_json(sub.add_parser("week", help="set (or --closed: clear) the hours of some weekdays"))
    week.add_argument("--centre", type=int, required=True, help="centre id")
    week.add_argument("--days", default="mon-fri", help="weekdays: mon-fri, sat, mon,wed or all")
    week.add_argument("--open", help="opening time, e.g. 09:00")
    week.add_argument("--close", help="closing time, e.g. 17:00")
    week.add_argument("--lunch", help="lunch break, e.g. 12:00-13:00")
    week.add_argument("--closed", action="store_true", help="no hours on these weekdays")

    def week_work(args: argparse.Namespace) -> Callable[[Settings], Coroutine[Any, Any, BaseModel | str]]:
        async def work(current: Settings) -> BaseModel | str:
            hours = _week_hours(args)
            try:
                days = parse_weekdays(args.days)
            except HoursError as exc:
                raise invalid(str(exc)) from None

            async def edit(db: AsyncSession) -> None:
                await set_week(db, args.centre, days, hours)
                audit.record(db, ACTOR, "hours_set", "centre", args.centre,
                             week={WEEKDAY_KEYS[d]: span_text(hours) for d in days})

            return await _edit_then_show(current, args.centre, edit)
        return work

    week.set_defaults(handler=lambda args: run(args, week_work(args), _text))

    override = add_json(sub.add_parser("override", help="close a date or open it with other hours"))
    override.add_argument("--centre", type=int, required=True, help="centre id")
    override.add_argument("--date", required=True, help="the date, e.g. 2026-12-31")
    override.add_argument("--open", help="opening time, e.g. 09:00")
    override.add_argument("--close", help="closing time, e.g. 12:00")
    override.add_argument("--lunch", help="lunch break, e.g. 12:00-13:00")
    override.add_argument("--closed", action="store_true", help="closed all day")
    override.add_argument("--remove", action="store_true", help="drop the override: the usual rules apply")
    override.add_argument("--note", default="", help="why (shown to staff)")

    def override_work(args: argparse.Namespace) -> Callable[[Settings], Coroutine[Any, Any, BaseModel | str]]:
        async def work(current: Settings) -> BaseModel | str:
            # The API's rules and messages: today or later (on the service clock), and a removal
            # only of an override that exists.
            day = parse_day(args.date, ServiceClock(current.clock_start).now().astimezone(DISTRICT_TZ).date())
            if args.remove:
                return await _edit_then_show(current, args.centre,
                                             lambda db: drop_override(db, args.centre, day, ACTOR))
            body = OverrideIn(closed=args.closed, note=args.note, **_hours_in(args).model_dump())
            return await _edit_then_show(current, args.centre,
                                         lambda db: save_override(db, args.centre, day, body, ACTOR))
        return work

    override.set_defaults(handler=lambda args: run(args, override_work(args), _text))

    show = add_json(sub.add_parser("show", help="a centre's calendar for the coming two weeks"))
    show.add_argument("--centre", type=int, required=True, help="centre id")

    async def _nothing(db: AsyncSession) -> None:
        return None

    show.set_defaults(handler=lambda args: run(
        args, lambda current: _edit_then_show(current, args.centre, _nothing), _text))
