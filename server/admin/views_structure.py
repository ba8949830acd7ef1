"""HTTP handlers for streets, centres and sites (with the site sheet import and export)."""

from __future__ import annotations

from aiohttp import web

from server.admin import audit, sheets, site_import, structure
from server.admin.http import ADMIN_ERRORS, admin_transaction, json_out, query_flag, uploaded_rows
from server.admin.schemas import (
    CentreIn,
    CentreOut,
    CentresOut,
    SiteImportOut,
    SiteIn,
    SiteOut,
    SitesOut,
    StreetIn,
    StreetOut,
    StreetsOut,
)
from server.http.errors import ApiError
from server.http.request_body import read_model
from server.http.routing import Param, Route

ADMIN = ("admin",)


async def admin_list_streets(request: web.Request) -> web.Response:
    """Every street and town."""
    async with admin_transaction(request) as (session, _):
        return json_out(StreetsOut(streets=await structure.list_streets(session)))


async def admin_add_street(request: web.Request) -> web.Response:
    """Create a street or town."""
    async with admin_transaction(request) as (session, actor):
        return json_out(await structure.add_street(session, await read_model(request, StreetIn), actor), 201)


async def admin_list_centres(request: web.Request) -> web.Response:
    """Every acceptance centre."""
    async with admin_transaction(request) as (session, _):
        return json_out(CentresOut(centres=await structure.list_centres(session)))


async def admin_add_centre(request: web.Request) -> web.Response:
    """Create a street's acceptance centre."""
    async with admin_transaction(request) as (session, actor):
        return json_out(await structure.add_centre(session, await read_model(request, CentreIn), actor), 201)


async def admin_list_sites(request: web.Request) -> web.StreamResponse:
    """Every site as JSON, or the site sheet (`format=csv|xlsx`) in the import layout."""
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv", "xlsx"):
        raise ApiError(400, "bad_format", "format 只能是 json、csv 或 xlsx")
    async with admin_transaction(request) as (session, actor):
        if fmt == "json":
            return json_out(SitesOut(sites=await structure.list_sites(session)))
        rows = await site_import.export_rows(session)
        audit.record(session, actor, "sites_exported", "site", "", rows=len(rows) - 1)
    body, content_type = (sheets.write_csv(rows), sheets.CSV_TYPE) if fmt == "csv" else (
        sheets.write_xlsx(rows), sheets.XLSX_TYPE)
    return web.Response(body=body, content_type=content_type.split(";")[0], charset="utf-8" if fmt == "csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="sites.{fmt}"'})


async def admin_add_site(request: web.Request) -> web.Response:
    """Create a kiosk site."""
    async with admin_transaction(request) as (session, actor):
        return json_out(await structure.add_site(session, await read_model(request, SiteIn), actor), 201)


async def admin_import_sites(request: web.Request) -> web.Response:
    """Preview (dry_run=true, the default) or apply a CSV/XLSX site sheet sent as multipart `file`."""
    dry_run = query_flag(request, "dry_run", True)
    valid_only = query_flag(request, "valid_only", False)
    rows = await uploaded_rows(request)
    async with admin_transaction(request) as (session, actor):
        out = await site_import.import_sites(session, rows, actor, dry_run=dry_run, valid_only=valid_only)
    return json_out(out)


_DRY_RUN = Param("dry_run", description="true (default): only preview; false: write",
                 schema={"type": "boolean", "default": True})

ROUTES: list[Route] = [
    Route("GET", "/api/v1/admin/streets", admin_list_streets, "Streets and towns", "admin", roles=ADMIN,
          response=StreetsOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/streets", admin_add_street, "Create a street or town", "admin", roles=ADMIN,
          body=StreetIn, response=StreetOut, success_status=201, errors=ADMIN_ERRORS),
    Route("GET", "/api/v1/admin/centres", admin_list_centres, "Acceptance centres", "admin", roles=ADMIN,
          response=CentresOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/centres", admin_add_centre, "Create an acceptance centre", "admin", roles=ADMIN,
          body=CentreIn, response=CentreOut, success_status=201, errors=ADMIN_ERRORS),
    Route("GET", "/api/v1/admin/sites", admin_list_sites, "Kiosk sites, or the site sheet as CSV/XLSX", "admin",
          roles=ADMIN, params=(Param("format", schema={"type": "string", "enum": ["json", "csv", "xlsx"]}),),
          response=SitesOut, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/sites", admin_add_site, "Create a kiosk site", "admin", roles=ADMIN,
          body=SiteIn, response=SiteOut, success_status=201, errors=ADMIN_ERRORS),
    Route("POST", "/api/v1/admin/sites/import", admin_import_sites,
          "Import a CSV/XLSX site sheet (multipart field `file`) with a dry-run preview", "admin", roles=ADMIN,
          upload_field="file",
          params=(_DRY_RUN, Param("valid_only", description="apply the valid rows even if some are broken",
                                  schema={"type": "boolean", "default": False})),
          response=SiteImportOut, errors=ADMIN_ERRORS),
]
