"""followup phones: a callback's kind, and the rated session a 回访 number was left for

Revision ID: 0014_followup_phones
Revises: 0013_signatures
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_followup_phones"
down_revision: str | None = "0013_signatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), server_default="callback", nullable=False))
        batch.add_column(sa.Column("session_id", sa.String(length=32), nullable=True))
        batch.create_foreign_key(batch.f("fk_callbacks_session_id_sessions"), "sessions", ["session_id"], ["id"])
        batch.create_unique_constraint(batch.f("uq_callbacks_session_id"), ["session_id"])


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_constraint(batch.f("uq_callbacks_session_id"), type_="unique")
        batch.drop_constraint(batch.f("fk_callbacks_session_id_sessions"), type_="foreignkey")
        batch.drop_column("session_id")
        batch.drop_column("kind")
