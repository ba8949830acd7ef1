"""service hours: weekday hours per centre and date overrides

Revision ID: 0008_hours
Revises: 0007_acceptance
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_hours"
down_revision: str | None = "0007_acceptance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "centre_hours",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=False),
        sa.Column("closes", sa.String(length=5), nullable=False),
        sa.Column("lunch_start", sa.String(length=5), nullable=True),
        sa.Column("lunch_end", sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_centre_hours_centre_id_centres")),
        sa.PrimaryKeyConstraint("centre_id", "weekday", name=op.f("pk_centre_hours")),
    )
    op.create_table(
        "calendar_overrides",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=True),
        sa.Column("closes", sa.String(length=5), nullable=True),
        sa.Column("lunch_start", sa.String(length=5), nullable=True),
        sa.Column("lunch_end", sa.String(length=5), nullable=True),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"],
                                name=op.f("fk_calendar_overrides_centre_id_centres")),
        sa.PrimaryKeyConstraint("centre_id", "day", name=op.f("pk_calendar_overrides")),
    )


def downgrade() -> None:
    op.drop_table("calendar_overrides")
    op.drop_table("centre_hours")
