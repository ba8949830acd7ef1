"""The HTML pages: kiosk, caseworker console, supervisor dashboard (ES modules under /static)."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

import web as page_assets
from server.protocol.version import PROTOCOL_VERSION, WS_PATH

WEB_DIR = Path(page_assets.__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def setup_pages(app: web.Application) -> None:
    """Template rendering and the static files route."""
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)


async def kiosk_page(request: web.Request) -> web.Response:
    """The resident's kiosk app (`/kiosk?token=…` signs the kiosk in)."""
    return _render(request, "kiosk.html")


async def agent_page(request: web.Request) -> web.Response:
    """The caseworker console."""
    return _render(request, "agent.html")


async def supervisor_page(request: web.Request) -> web.Response:
    """The supervisor dashboard."""
    return _render(request, "supervisor.html")


async def admin_page(request: web.Request) -> web.Response:
    """The administration pages (admin role; the page signs in itself)."""
    return _render(request, "admin.html")


async def password_page(request: web.Request) -> web.Response:
    """Choosing a new password, e.g. after an administrator's reset."""
    return _render(request, "password.html")


async def index_page(request: web.Request) -> web.Response:
    """A start page linking the three apps."""
    return _render(request, "index.html")


def _render(request: web.Request, template: str) -> web.Response:
    context = {"static": _static_url(request), "protocol_version": PROTOCOL_VERSION, "ws_path": WS_PATH}
    response = aiohttp_jinja2.render_template(template, request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _static_url(request: web.Request) -> object:
    router = request.app.router

    def url(path: str) -> str:
        return str(router["static"].url_for(filename=path))

    return url
