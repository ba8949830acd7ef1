"""The HTML pages: kiosk, caseworker console, supervisor dashboard (ES modules under /static)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

import web as page_assets
from server.http import app_keys
from server.http.errors import Handler, error_response
from server.protocol.version import PROTOCOL_VERSION, WS_PATH

WEB_DIR = Path(page_assets.__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def setup_pages(app: web.Application) -> None:
    """Template rendering and the static files route."""
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)


@web.middleware
async def missing_static(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A /static/ path with no file behind it gets the JSON 404 of every other route.

    aiohttp's static handler answers with a file response that finds the file missing only while
    it is being sent, after every middleware has returned, so the client got a bare 404 with an
    empty body; here the file is looked up before the handler runs."""
    info = request.match_info
    if info.route.resource is not None and info.route.resource.name == "static" \
            and not _static_file(info.get("filename", "")):
        return error_response(404, "not_found", "没有这个文件")
    return await handler(request)


def _static_file(filename: str) -> bool:
    """Whether filename names a file inside STATIC_DIR (not a folder, nothing outside it)."""
    try:
        path = (STATIC_DIR / filename).resolve()
        # is_file() stats the path: a name over the file system's 255 bytes raises, not False.
        return path.is_relative_to(STATIC_DIR) and path.is_file()
    except (OSError, ValueError):
        return False


def page(template: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that renders one page's template (the page's modules do the rest)."""
    async def render_page(request: web.Request) -> web.Response:
        return _render(request, template)

    render_page.__name__ = template.removesuffix(".html") + "_page"
    return render_page


index_page = page("index.html")  # a start page linking the apps
kiosk_page = page("kiosk.html")  # the resident's kiosk app (`/kiosk?token=…` signs the kiosk in)
agent_page = page("agent.html")  # the caseworker console
supervisor_page = page("supervisor.html")  # the supervisor dashboard
admin_page = page("admin.html")  # district administration (the page signs the admin in itself)
password_page = page("password.html")  # choosing a new password, e.g. after an administrator's reset


def _render(request: web.Request, template: str) -> web.Response:
    context = {"static": _static_url(request), "protocol_version": PROTOCOL_VERSION, "ws_path": WS_PATH,
               "recording": request.app[app_keys.SETTINGS].recording_enabled,
               "case_typed": request.app[app_keys.SETTINGS].case_number_typed}
    response = aiohttp_jinja2.render_template(template, request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _static_url(request: web.Request) -> object:
    router = request.app.router

    def url(path: str) -> str:
        return str(router["static"].url_for(filename=path))

    return url
