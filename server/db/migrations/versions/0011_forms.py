"""form versions: every version of a session's application form sent for 同屏确认, and the resident's answer

Revision ID: 0011_forms
Revises: 0010_callbacks
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0011_forms"
down_revision: str | None = "0010_callbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=False),
        sa.Column("sent_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("replied_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["sent_by"], ["users.id"], name=op.f("fk_form_versions_sent_by_users")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_form_versions_session_id_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint("session_id", "version", name=op.f("uq_form_versions_session_id")),
    )
    op.create_index(op.f("ix_form_versions_session_id"), "form_versions", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_form_versions_session_id"), table_name="form_versions")
    op.drop_table("form_versions")
