"""`jinglin appointments capacity`: places per appointment slot of a centre (docs/hours.md "Appointments"),
and the appointment phone numbers in `jinglin purge`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.admin.cli_runtime import add_json, in_transaction, run
from server.admin.errors import AdminError, invalid
from server.capture.cli import PURGE_STEPS, PurgeStep, with_database
from server.db.models import Appointment, AppointmentCapacity, Centre
from server.db.types import utcnow
from server.hours.appointment_slots import DEFAULT_PER_SLOT, SLOT_MINUTES
from server.hours.appointments import blank_old_phones, set_capacity
from server.settings import Settings

MAX_PER_SLOT = 50


class CapacityOut(BaseModel):
    """A centre's places per slot: its default and each skill's own."""

    centre_id: int
    slot_minutes: int
    per_slot: int  # the centre's default (DEFAULT_PER_SLOT unless set)
    skills: dict[str, int]


async def _capacity(current: Settings, args: argparse.Namespace) -> CapacityOut:
    if args.per_slot is None and not args.remove:
        raise invalid("give --per-slot N (or --remove)")
    if args.per_slot is not None and not 1 <= args.per_slot <= MAX_PER_SLOT:
        raise invalid(f"--per-slot must be 1 to {MAX_PER_SLOT}")

    async def work(db: AsyncSession) -> CapacityOut:
        if await db.get(Centre, args.centre) is None:
            raise AdminError(404, "not_found", f"no centre with id {args.centre}")
        await set_capacity(db, args.centre, args.skill, None if args.remove else args.per_slot)
        await db.flush()
        rows = {row.skill: row.per_slot for row in (await db.scalars(
            select(AppointmentCapacity).where(AppointmentCapacity.centre_id == args.centre))).all()}
        return CapacityOut(centre_id=args.centre, slot_minutes=SLOT_MINUTES, per_slot=rows.pop("", DEFAULT_PER_SLOT),
                           skills=rows)

    return await in_transaction(current, work)


def _text(out: Any) -> str:
    assert isinstance(out, CapacityOut)
    own = ", ".join(f"{skill}: {places}" for skill, places in sorted(out.skills.items()))
    return (f"centre {out.centre_id}: {out.per_slot} per {out.slot_minutes}-minute slot"
            + (f" ({own})" if own else ""))


@dataclass(frozen=True)
class AppointmentPhonePurge:
    """The appointment numbers blanked (or that would be) by one `jinglin purge`."""

    phones: int
    dry_run: bool

    def as_json(self) -> dict[str, object]:
        """The `appointment_phones` part of `jinglin purge --json`."""
        return {"phones": self.phones, "dry_run": self.dry_run}


async def _purge_phones(current: Settings, dry_run: bool) -> AppointmentPhonePurge:
    # Like callbacks: kept as long as captured images are, counted from the appointment's slot.
    before = utcnow() - timedelta(days=current.capture_retention_days)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> AppointmentPhonePurge:
        async with sessions() as db, db.begin():
            if not dry_run:
                return AppointmentPhonePurge(await blank_old_phones(db, before), False)
            count = await db.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.starts_at < before, Appointment.phone != "", Appointment.state != "booked"))
            return AppointmentPhonePurge(int(count or 0), True)

    return await with_database(current, work)


PHONE_PURGE = PurgeStep("appointment_phones", _purge_phones,
                        lambda report, verb: f"{verb} {report.phones} phone numbers of past appointments")


def register(commands: Any) -> None:
    """Add `appointments capacity`, and the appointment phone numbers to `jinglin purge`."""
    if PHONE_PURGE not in PURGE_STEPS:
        PURGE_STEPS.append(PHONE_PURGE)
    group = commands.add_parser("appointments", help="appointment (预约) slots of the centres")
    sub = group.add_subparsers(dest="appointments_command", required=True)
    capacity = add_json(sub.add_parser("capacity", help="places per slot of a centre (all skills or one)"))
    capacity.add_argument("--centre", type=int, required=True, help="centre id")
    capacity.add_argument("--skill", default="", help="only this skill (default: the centre's default)")
    capacity.add_argument("--per-slot", type=int, help=f"places per {SLOT_MINUTES}-minute slot")
    capacity.add_argument("--remove", action="store_true", help="drop the setting (back to the default)")
    capacity.set_defaults(handler=lambda args: run(args, lambda current: _capacity(current, args), _text))
