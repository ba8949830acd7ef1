"""appointments: residents' 预约 of a centre's slots, the places taken per slot and the capacity per slot

Revision ID: 0012_appointments
Revises: 0011_forms
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0012_appointments"
down_revision: str | None = "0011_forms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_capacity",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("per_slot", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"],
                                name=op.f("fk_appointment_capacity_centre_id_centres")),
        sa.PrimaryKeyConstraint("centre_id", "skill", name=op.f("pk_appointment_capacity")),
    )
    op.create_table(
        "appointment_slots",
        sa.Column("centre_key", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("starts_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("centre_key", "skill", "starts_at", name=op.f("pk_appointment_slots")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.String(length=64), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("starts_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("checkin_kiosk_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_appointments_centre_id_centres")),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_appointments_kiosk_id_kiosks")),
        sa.ForeignKeyConstraint(["checkin_kiosk_id"], ["kiosks.id"],
                                name=op.f("fk_appointments_checkin_kiosk_id_kiosks")),
        sa.ForeignKeyConstraint(["cancelled_by"], ["users.id"], name=op.f("fk_appointments_cancelled_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("day", "code", name=op.f("uq_appointments_day")),
    )
    op.create_index("ix_appointments_centre_day", "appointments", ["centre_id", "day"], unique=False)
    op.create_index(op.f("ix_appointments_state"), "appointments", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_appointments_state"), table_name="appointments")
    op.drop_index("ix_appointments_centre_day", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("appointment_slots")
    op.drop_table("appointment_capacity")
