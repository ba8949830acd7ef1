"""matter forms: each matter's own application-form level, imported with the catalog

Revision ID: 0015_matter_forms
Revises: 0014_followup_phones

Until now a matter's own form level was read from forms.yaml's `matters:` section at run time. The
catalog now carries it (`matters.form`), so the overrides of that section are written into the
existing matter rows and into the published versions kept for restore, and the server keeps
showing the same forms after the upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from matters_catalog.forms import shipped_forms

revision: str = "0015_matter_forms"
down_revision: str | None = "0014_followup_phones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_matters = sa.table("matters", sa.column("id", sa.String), sa.column("form", sa.JSON(none_as_null=True)))
_versions = sa.table("catalog_versions", sa.column("id", sa.Integer), sa.column("matters", sa.JSON))


def _overrides() -> dict[str, dict[str, Any]]:
    return {matter_id: level.model_dump(mode="json") for matter_id, level in shipped_forms().matters.items()
            if not level.is_empty}


def upgrade() -> None:
    with op.batch_alter_table("matters") as batch:
        batch.add_column(sa.Column("form", sa.JSON(none_as_null=True), nullable=True))
    overrides = _overrides()
    bind = op.get_bind()
    for matter_id, form in overrides.items():
        bind.execute(_matters.update().where(_matters.c.id == matter_id).values(form=form))
    for version_id, matters in bind.execute(sa.select(_versions.c.id, _versions.c.matters)).all():
        kept = [{**m, "form": overrides[m["id"]]} if "form" not in m and m.get("id") in overrides else m
                for m in matters]
        if kept != matters:
            bind.execute(_versions.update().where(_versions.c.id == version_id).values(matters=kept))


def downgrade() -> None:
    # The older code refuses unknown keys in a stored version, so the versions lose theirs too.
    bind = op.get_bind()
    for version_id, matters in bind.execute(sa.select(_versions.c.id, _versions.c.matters)).all():
        if any("form" in m for m in matters):
            stripped = [{k: v for k, v in m.items() if k != "form"} for m in matters]
            bind.execute(_versions.update().where(_versions.c.id == version_id).values(matters=stripped))
    with op.batch_alter_table("matters") as batch:
        batch.drop_column("form")
