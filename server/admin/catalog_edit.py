"""Editing the catalog from /admin and the CLI: one matter, a spreadsheet import with a preview
diff, and restoring a published version. Every change is validated exactly as the spreadsheet
import validates (matters_catalog.rules) and published as a new version."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import Catalog
from matters_catalog.rules import check_matters, parse_matter
from matters_catalog.schema import Matter
from matters_catalog.spreadsheet import format_materials, parse_materials, parse_rows
from server.admin import audit
from server.admin import texts as t
from server.admin.errors import conflict, invalid, not_found
from server.admin.schemas import CatalogChangeOut, CatalogVersionOut, MatterEditIn
from server.catalog.cli import content_version, current_forms
from server.catalog.db_sync import CatalogDiff, load_catalog_from_db, sync_catalog
from server.catalog.versions import publish, read_versions, stored_catalog

_EDITABLE = ("name", "guide", "skill", "mode", "on_the_spot", "typical_minutes")


def _change_out(diff: CatalogDiff, *, dry_run: bool, errors: list[str] | None = None) -> CatalogChangeOut:
    return CatalogChangeOut(dry_run=dry_run, applied=not dry_run and not errors, version=diff.new_version,
                            old_version=diff.old_version, added=diff.added, changed=diff.changed,
                            retired=diff.retired, unretired=diff.unretired, errors=errors or [])


def _unchanged(catalog: Catalog) -> CatalogChangeOut:
    """The answer to a change that changes nothing: not applied, the current version kept."""
    return CatalogChangeOut(dry_run=False, applied=False, version=catalog.version, old_version=catalog.version or None,
                            added=[], changed=[], retired=[], unretired=[], errors=[])


def _validated(catalog: Catalog, matters: list[Matter], located: list[tuple[str, Matter]],
               errors: list[str]) -> None:
    errors += check_matters(located, catalog.skills)
    if errors:
        raise invalid(t.MATTER_INVALID.format(count=len(errors)), errors)


async def edit_matter(session: AsyncSession, matter_id: str, edit: MatterEditIn, actor: str) -> CatalogChangeOut:
    """Change one matter's fields and publish the result; 422 with the validator's messages."""
    catalog = await load_catalog_from_db(session)
    current = catalog.by_id(matter_id)
    if current is None:
        raise not_found(t.UNKNOWN_MATTER.format(id=matter_id))
    if edit.base_version is not None and edit.base_version != catalog.version:
        base = await stored_catalog(session, edit.base_version)
        if base is None or base.by_id(matter_id) != current:
            raise conflict(t.MATTER_CHANGED.format(id=matter_id))
    where = f"事项 {matter_id}"
    record: dict[str, Any] = current.model_dump()
    record.update({key: value for key in _EDITABLE if (value := getattr(edit, key)) is not None})
    errors: list[str] = []
    if edit.materials is not None:
        record["materials"], errors = parse_materials(edit.materials, where)
    matter, parse_errors = parse_matter(record, where)
    errors += parse_errors
    matters = [matter if m.id == matter_id and matter is not None else m for m in catalog.matters]
    _validated(catalog, matters, [(where if m.id == matter_id else m.id, m) for m in matters], errors)
    if matter == current:
        # Saving a form unchanged publishes nothing: a version identical to the current one would
        # only push the real changes down the list of versions to restore.
        return _unchanged(catalog)
    changed = Catalog(version=content_version(matters), matters=matters, skills=catalog.skills)
    diff = await publish(session, changed, actor, f"edit {matter_id}")
    audit.record(session, actor, "matter_edited", "matter", matter_id, version=diff.new_version)
    return _change_out(diff, dry_run=False)


def matter_materials_text(matter: Matter) -> str:
    """A matter's materials in the spreadsheet notation the edit form uses."""
    return format_materials(matter.materials)


async def import_catalog(session: AsyncSession, rows: list[list[str]], actor: str, *,
                         dry_run: bool) -> CatalogChangeOut:
    """Preview or publish a catalog spreadsheet; broken sheets change nothing and list every error."""
    catalog = await load_catalog_from_db(session)
    matters, errors = parse_rows(rows, catalog.skills, current_forms=current_forms(catalog))
    if errors:
        if dry_run:
            return CatalogChangeOut(dry_run=True, applied=False, version="", old_version=catalog.version or None,
                                    added=[], changed=[], retired=[], unretired=[], errors=errors)
        raise invalid(t.CATALOG_INVALID.format(count=len(errors)), errors)
    new = Catalog(version=content_version(matters), matters=matters, skills=catalog.skills)
    if dry_run:
        return _change_out(await sync_catalog(session, new, apply=False), dry_run=True)
    if (await sync_catalog(session, new, apply=False)).is_empty:
        return _unchanged(catalog)  # the sheet as it stands: nothing to publish
    diff = await publish(session, new, actor, "import")
    audit.record(session, actor, "catalog_import", "catalog", diff.new_version, added=len(diff.added),
                 changed=len(diff.changed), retired=len(diff.retired))
    return _change_out(diff, dry_run=False)


async def restore_version(session: AsyncSession, version: str, actor: str) -> CatalogChangeOut:
    """Make a stored version the active catalog again."""
    stored = await stored_catalog(session, version)
    if stored is None:
        raise not_found(t.UNKNOWN_VERSION.format(version=version))
    diff = await publish(session, stored, actor, f"restore {version}")
    audit.record(session, actor, "catalog_restored", "catalog", version)
    return _change_out(diff, dry_run=False)


async def list_versions(session: AsyncSession) -> list[CatalogVersionOut]:
    """Stored versions, newest first, marking the active one."""
    current = (await load_catalog_from_db(session)).version
    return [CatalogVersionOut(version=row.version, created_at=row.created_at.isoformat(), actor=row.actor,
                              note=row.note, matters=len(row.matters), current=row.version == current)
            for row in await read_versions(session)]

