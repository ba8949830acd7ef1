"""The site sheet: import with a dry-run preview (every broken row named) and export in the same layout.

Layout: one row per site with the columns `name, street, kind, address` (Chinese headers 名称,
街道, 类型, 地址 are accepted too). `street` is a street's name or code; `kind` is committee
(居委), park (公园) or building (楼宇). Sites are matched by name: a known name updates that site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import audit
from server.admin import texts as t
from server.admin.errors import AdminError, invalid
from server.admin.schemas import ImportRowError, SiteImportOut
from server.db.models import Site, Street
from server.protocol.plain_text import plain_line

COLUMNS = ("name", "street", "kind", "address")
_HEADER_ALIASES = {"名称": "name", "站点": "name", "街道": "street", "类型": "kind", "地址": "address"}
_KIND_ALIASES = {"居委": "committee", "居民区": "committee", "居委会": "committee", "公园": "park",
                 "楼宇": "building", "商务楼宇": "building"}
KINDS = ("committee", "park", "building")
FIRST_DATA_ROW = 2  # row 1 is the header, as spreadsheet programs number rows


@dataclass
class _Plan:
    added: list[tuple[int, str, int, str, str]] = field(default_factory=list)  # row, name, street, kind, addr
    changed: list[tuple[int, Site, int, str, str]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[ImportRowError] = field(default_factory=list)


def _header(rows: list[list[str]]) -> list[str]:
    if not rows:
        raise invalid(t.EMPTY_SHEET)
    header = [_HEADER_ALIASES.get(cell, cell.lower()) for cell in rows[0]]
    missing = [c for c in COLUMNS[:2] if c not in header]
    if missing:
        raise invalid(t.MISSING_COLUMNS.format(columns=", ".join(missing)))
    return header


def _visible(text: str) -> bool:
    """True when a cell is visible text (what the API asks of a site's name and address)."""
    try:
        plain_line(text)
    except ValueError:
        return False
    return True


async def _plan(session: AsyncSession, rows: list[list[str]]) -> _Plan:
    header = _header(rows)
    streets: dict[str, int] = {}
    for street in await session.scalars(select(Street)):
        streets[street.name] = streets[street.code] = street.id
    sites = {site.name: site for site in await session.scalars(select(Site))}
    plan = _Plan()
    first_row: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=FIRST_DATA_ROW):
        cells = {col: (row[i] if i < len(row) else "") for i, col in enumerate(header)}
        if not any(cells.values()):
            continue
        problem, name = None, cells.get("name", "")
        kind = _KIND_ALIASES.get(cells.get("kind", ""), cells.get("kind", "").lower() or "committee")
        street_id = streets.get(cells.get("street", ""))
        if not name:
            problem = t.ROW_NO_NAME
        elif name in first_row:
            problem = t.ROW_DUPLICATE.format(first=first_row[name], name=name)
        elif street_id is None:
            problem = t.UNKNOWN_STREET.format(name=cells.get("street", ""))
        elif kind not in KINDS:
            problem = t.BAD_SITE_KIND.format(kind=cells.get("kind", ""))
        elif len(name) > 80 or len(cells.get("address", "")) > 200:
            problem = t.UNREADABLE_FILE.format(detail="too long")
        elif not all(_visible(cells.get(column, "")) for column in ("name", "address")):
            problem = t.ROW_HIDDEN_CHARACTER
        if problem is not None or street_id is None:
            plan.errors.append(ImportRowError(row=number, message=t.ROW_PREFIX.format(row=number) + (problem or "")))
            continue
        first_row[name] = number
        address = cells.get("address", "")
        site = sites.get(name)
        if site is None:
            plan.added.append((number, name, street_id, kind, address))
        elif (site.street_id, site.kind, site.address) != (street_id, kind, address):
            plan.changed.append((number, site, street_id, kind, address))
        else:
            plan.unchanged += 1
    return plan


async def import_sites(session: AsyncSession, rows: list[list[str]], actor: str, *, dry_run: bool,
                       valid_only: bool = False) -> SiteImportOut:
    """Preview (dry run) or apply a site sheet.

    Applying writes nothing while any row is broken, unless `valid_only` asks for the valid rows.
    """
    plan = await _plan(session, rows)
    out = SiteImportOut(dry_run=dry_run, applied=False, added=[a[1] for a in plan.added],
                        changed=[c[1].name for c in plan.changed], unchanged=plan.unchanged, errors=plan.errors)
    if dry_run:
        return out
    if plan.errors and not valid_only:
        raise AdminError(422, "import_invalid", t.IMPORT_HAS_ERRORS.format(count=len(plan.errors)),
                         [e.message for e in plan.errors])
    for _, name, street_id, kind, address in plan.added:
        session.add(Site(name=name, street_id=street_id, kind=kind, address=address, is_demo=False))
    for _, site, street_id, kind, address in plan.changed:
        site.street_id, site.kind, site.address = street_id, kind, address
    await session.flush()
    audit.record(session, actor, "sites_imported", "site", "", added=len(plan.added), changed=len(plan.changed),
                 skipped_rows=[e.row for e in plan.errors])
    return out.model_copy(update={"applied": True})


async def export_rows(session: AsyncSession) -> list[list[str]]:
    """Every site as sheet rows (header first), in the import layout."""
    rows = await session.execute(select(Site, Street).join(Street, Site.street_id == Street.id).order_by(Site.id))
    return [list(COLUMNS)] + [[site.name, street.name, site.kind, site.address] for site, street in rows]
