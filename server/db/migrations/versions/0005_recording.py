"""call recordings: one row per recorded session, one per stored chunk

Revision ID: 0005_recording
Revises: 0002_admin
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0005_recording"
down_revision: str | None = "0002_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("storage_name", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("replay_bytes", sa.BigInteger(), nullable=True),
        sa.Column("started_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purged_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_recordings_session_id_sessions")),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_recordings")),
    )
    op.create_index(op.f("ix_recordings_started_at"), "recordings", ["started_at"], unique=False)
    op.create_table(
        "recording_chunks",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["recordings.session_id"],
                                name=op.f("fk_recording_chunks_session_id_recordings")),
        sa.PrimaryKeyConstraint("session_id", "idx", name=op.f("pk_recording_chunks")),
    )


def downgrade() -> None:
    op.drop_table("recording_chunks")
    op.drop_index(op.f("ix_recordings_started_at"), table_name="recordings")
    op.drop_table("recordings")
