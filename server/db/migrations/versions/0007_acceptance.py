"""acceptance: the resident's consent to the notice shown before queueing

Revision ID: 0007_acceptance
Revises: 0005_recording
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0007_acceptance"
down_revision: str | None = "0005_recording"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_consents_kiosk_id_kiosks")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_consents_session_id_sessions")),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_consents")),
    )


def downgrade() -> None:
    op.drop_table("consents")
