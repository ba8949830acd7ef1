"""receipts: server-issued case numbers (a counter per centre and day) and the 受理回执

Revision ID: 0009_receipts
Revises: 0008_hours
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0009_receipts"
down_revision: str | None = "0008_hours"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_counters",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_case_counters_centre_id_centres")),
        sa.PrimaryKeyConstraint("centre_id", "day", name=op.f("pk_case_counters")),
    )
    op.create_table(
        "receipts",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=True),
        sa.Column("matter_name", sa.String(length=120), nullable=False),
        sa.Column("centre_name", sa.String(length=80), nullable=False),
        sa.Column("centre_phone", sa.String(length=40), nullable=False),
        sa.Column("promise", sa.String(length=120), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_receipts_session_id_sessions")),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("case_number", name=op.f("uq_receipts_case_number")),
    )


def downgrade() -> None:
    op.drop_table("receipts")
    op.drop_table("case_counters")
