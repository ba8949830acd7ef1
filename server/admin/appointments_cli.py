"""`jinglin appointments capacity`: places per appointment slot of a centre (docs/hours.md "Appointments"),
and the appointment phone numbers in `jinglin purge`."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin.cli_runtime import add_json, in_transaction, run
from server.admin.errors import invalid
from server.admin.hours_edit import centre_or_404
from server.admin.phone_purge_cli import register_phone_purge
from server.admin.staff import check_skills
from server.db.models import Appointment, AppointmentCapacity
from server.hours.appointment_slots import DEFAULT_PER_SLOT, SLOT_MINUTES
from server.hours.appointments import blank_old_phones, expired_phones, set_capacity
from server.settings import Settings

MAX_PER_SLOT = 50


class CapacityOut(BaseModel):
    """A centre's places per slot: its default and each skill's own."""

    centre_id: int
    slot_minutes: int
    per_slot: int  # the centre's default (DEFAULT_PER_SLOT unless set)
    skills: dict[str, int]


async def _capacity(current: Settings, args: argparse.Namespace) -> CapacityOut:
    if (args.per_slot is None) == (not args.remove):
        raise invalid("请给出 --per-slot N 或 --remove 中的一个")
    if args.skill:
        check_skills([args.skill])  # a setting for a skill no caseworker can have would never apply
    if args.per_slot is not None and not 1 <= args.per_slot <= MAX_PER_SLOT:
        raise invalid(f"每个时段的名额（--per-slot）须在 1 到 {MAX_PER_SLOT} 之间")

    async def work(db: AsyncSession) -> CapacityOut:
        await centre_or_404(db, args.centre)
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


def register(commands: Any) -> None:
    """Add `appointments capacity`, and the appointment phone numbers to `jinglin purge`."""
    register_phone_purge(commands, "appointment_phones", Appointment, expired_phones, blank_old_phones,
                         "phone numbers of past appointments")
    group = commands.add_parser("appointments", help="appointment (预约) slots of the centres")
    sub = group.add_subparsers(dest="appointments_command", required=True)
    capacity = add_json(sub.add_parser("capacity", help="places per slot of a centre (all skills or one)"))
    capacity.add_argument("--centre", type=int, required=True, help="centre id")
    capacity.add_argument("--skill", default="", help="only this skill (default: the centre's default)")
    capacity.add_argument("--per-slot", type=int, help=f"places per {SLOT_MINUTES}-minute slot")
    capacity.add_argument("--remove", action="store_true", help="drop the setting (back to the default)")
    capacity.set_defaults(handler=lambda args: run(args, lambda current: _capacity(current, args), _text))
