"""callbacks: residents' 回电 requests left at kiosks

Revision ID: 0010_callbacks
Revises: 0009_receipts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0010_callbacks"
down_revision: str | None = "0009_receipts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("preferred", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("due_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_callbacks_centre_id_centres")),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_callbacks_kiosk_id_kiosks")),
        sa.ForeignKeyConstraint(["taken_by"], ["users.id"], name=op.f("fk_callbacks_taken_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_centre_id"), "callbacks", ["centre_id"], unique=False)
    op.create_index(op.f("ix_callbacks_state"), "callbacks", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_callbacks_state"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_centre_id"), table_name="callbacks")
    op.drop_table("callbacks")
