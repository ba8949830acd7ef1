"""signatures: the resident's signature on a confirmed form version, bound to it by an HMAC

Revision ID: 0013_signatures
Revises: 0012_appointments
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0013_signatures"
down_revision: str | None = "0012_appointments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signatures",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("storage_name", sa.String(length=32), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("signed_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_signatures_kiosk_id_kiosks")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_signatures_session_id_sessions")),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_signatures")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_signatures_storage_name")),
    )


def downgrade() -> None:
    op.drop_table("signatures")
