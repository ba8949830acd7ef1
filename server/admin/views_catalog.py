"""HTTP handlers for catalog editing (one matter, spreadsheet import, versions, restore) and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, Field

from matters_catalog.schema import Matter
from server.admin import audit, catalog_edit
from server.admin.audit import AuditFilter
from server.admin.http import ADMIN_ERRORS, admin_transaction, json_out, query_flag, uploaded_rows
from server.admin.limits import AUDIT_PAGE
from server.admin.schemas import AuditOut, CatalogChangeOut, CatalogVersionsOut, MatterEditIn
from server.catalog.service import CATALOG
from server.http.errors import ApiError
from server.http.query_dates import query_instant
from server.http.request_body import read_model
from server.http.routing import Param, Route

ADMIN = ("admin",)


class AdminMatterOut(BaseModel):
    """A matter as the edit form shows it: materials also in the spreadsheet notation."""

    matter: Matter
    materials_text: str
    version: str = Field(description="the catalog version read: send it back as base_version")


async def _reload(request: web.Request) -> None:
    # This process serves the new catalog at once; the others notice the version within a minute.
    await request.app[CATALOG].load()


async def admin_get_matter(request: web.Request) -> web.Response:
    """One active matter for the edit form."""
    async with admin_transaction(request):
        catalog = await request.app[CATALOG].current()
    matter = catalog.by_id(request.match_info["matter_id"])
    if matter is None:
        raise ApiError(404, "unknown_matter", "没有这个事项")
    return json_out(AdminMatterOut(matter=matter, materials_text=catalog_edit.matter_materials_text(matter),
                                   version=catalog.version))


async def admin_edit_matter(request: web.Request) -> web.Response:
    """Change one matter; validated as the spreadsheet import is, published as a new catalog version."""
    async with admin_transaction(request) as (session, actor):
        out = await catalog_edit.edit_matter(session, request.match_info["matter_id"],
                                             await read_model(request, MatterEditIn), actor)
    await _reload(request)
    return json_out(out)


async def admin_import_catalog(request: web.Request) -> web.Response:
    """Preview (dry_run=true, the default) or publish a catalog spreadsheet sent as multipart `file`."""
    dry_run = query_flag(request, "dry_run", True)
    rows = await uploaded_rows(request)
    async with admin_transaction(request) as (session, actor):
        out = await catalog_edit.import_catalog(session, rows, actor, dry_run=dry_run)
    if not dry_run:
        await _reload(request)
    return json_out(out)


async def admin_catalog_versions(request: web.Request) -> web.Response:
    """Published catalog versions, newest first."""
    async with admin_transaction(request) as (session, _):
        return json_out(CatalogVersionsOut(versions=await catalog_edit.list_versions(session)))


async def admin_restore_catalog(request: web.Request) -> web.Response:
    """Make a published version the active catalog again."""
    async with admin_transaction(request) as (session, actor):
        out = await catalog_edit.restore_version(session, request.match_info["version"], actor)
    await _reload(request)
    return json_out(out)


def _when(request: web.Request, name: str) -> datetime | None:
    value = query_instant(request, name)
    # A bare date is a whole district day: `to=2026-12-02` includes that day.
    if value is not None and name == "to" and len(request.query[name]) == 10:
        value += timedelta(days=1)
    return value


def audit_filter(request: web.Request) -> AuditFilter:
    """The audit filter from the query string."""
    return AuditFilter(actor=request.query.get("actor") or None, action=request.query.get("action") or None,
                       object_type=request.query.get("object_type") or None, since=_when(request, "from"),
                       until=_when(request, "to"), limit=_limit(request))


def _limit(request: web.Request) -> int:
    """`limit`: AUDIT_PAGE when absent, else a whole number 1..MAX_ROWS; 400 bad_limit otherwise
    (as the reports' numbers: a typo is said, not silently read as the default)."""
    raw = request.query.get("limit", "")
    if not raw:
        return AUDIT_PAGE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= audit.MAX_ROWS):
        raise ApiError(400, "bad_limit", f"limit 必须是 1 至 {audit.MAX_ROWS} 的整数")
    return int(raw)


async def admin_audit(request: web.Request) -> web.Response:
    """Audit log entries, newest first, filtered; `format=csv` downloads them (the export is audited too)."""
    where = audit_filter(request)
    fmt = request.query.get("format", "json")
    async with admin_transaction(request) as (session, actor):
        entries = await audit.read_entries(session, where)
        if fmt == "csv":
            audit.record(session, actor, "audit_exported", "audit", "", rows=len(entries))
    if fmt == "csv":
        return web.Response(body=audit.entries_csv(entries).encode(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
    return json_out(AuditOut(entries=entries))


_DRY_RUN = Param("dry_run", description="true (default): only preview; false: publish",
                 schema={"type": "boolean", "default": True})
_MATTER = Param("matter_id", location="path", description="the matter's stable id")

ROUTES: list[Route] = [
    Route("GET", "/api/v1/admin/matters/{matter_id}", admin_get_matter, "One matter for the edit form", "admin",
          roles=ADMIN, params=(_MATTER,), response=AdminMatterOut, errors=ADMIN_ERRORS),
    Route("PUT", "/api/v1/admin/matters/{matter_id}", admin_edit_matter,
          "Edit one matter (validated as the spreadsheet import); publishes a version", "admin", roles=ADMIN,
          params=(_MATTER,), body=MatterEditIn, response=CatalogChangeOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/catalog/import", admin_import_catalog,
          "Import a catalog spreadsheet (multipart field `file`) with a preview diff", "admin", roles=ADMIN,
          upload_field="file", params=(_DRY_RUN,), response=CatalogChangeOut, errors=ADMIN_ERRORS),
    Route("GET", "/api/v1/admin/catalog/versions", admin_catalog_versions, "Published catalog versions", "admin",
          roles=ADMIN, response=CatalogVersionsOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/catalog/restore/{version}", admin_restore_catalog,
          "Restore a published catalog version", "admin", roles=ADMIN,
          params=(Param("version", location="path", description="a version from catalog/versions"),),
          response=CatalogChangeOut, errors=ADMIN_ERRORS),
    Route("GET", "/api/v1/admin/audit", admin_audit, "The audit log, filtered; format=csv exports it", "admin",
          roles=ADMIN, params=(Param("actor", description="e.g. admin:1 or cli"), Param("action"),
                               Param("object_type"), Param("from", description="ISO date/time, inclusive"),
                               Param("to", description="ISO date (inclusive day) or time (exclusive)"),
                               Param("limit", schema={"type": "integer", "default": AUDIT_PAGE}),
                               Param("format", schema={"type": "string", "enum": ["json", "csv"]})),
          response=AuditOut, errors=ADMIN_ERRORS),
]
