"""The route table: every HTTP endpoint of the server in one place."""

from __future__ import annotations

from matters_catalog.schema import PublicMatter
from server.acceptance import signature_views
from server.acceptance import views as acceptance_views
from server.admin import routes as admin
from server.auth import views as auth
from server.capture import views as capture_views
from server.catalog import views as matters
from server.hours import appointment_views
from server.hours import views as hours_views
from server.http import health, pages
from server.http.api_models import HealthOut, KioskSessionOut, LoginOut, MeOut, OkOut
from server.http.openapi import openapi
from server.http.routing import Param, Route
from server.protocol.version import WS_PATH
from server.recording import board as recording_board
from server.recording import views as recording_views
from server.reports import caseworker_day as me
from server.reports import session_detail
from server.reports import views as reports_views
from server.signaling.websocket import websocket

ROUTES: list[Route] = [
    Route("GET", "/", pages.index_page, "Start page linking the apps", "pages", response_content_type="text/html"),
    Route("GET", "/kiosk", pages.kiosk_page, "The resident's kiosk app; ?token= signs a kiosk in", "pages",
          params=(Param("token", description="device token from `jinglin kiosk add` / `jinglin demo --json`"),),
          response_content_type="text/html"),
    Route("GET", "/supervisor", pages.supervisor_page, "The supervisor dashboard", "pages",
          response_content_type="text/html"),
    Route("GET", "/agent", pages.agent_page, "The caseworker console", "pages", response_content_type="text/html"),
    Route("GET", "/admin", pages.admin_page, "District administration", "pages", response_content_type="text/html"),
    Route("GET", "/password", pages.password_page, "Choose a new password", "pages",
          response_content_type="text/html"),
    Route("POST", "/api/v1/auth/password", auth.change_password,
          "Change a password (required after an administrator's reset)", "auth",
          body=auth.PasswordChangeIn, response=OkOut, errors=(400, 401, 403, 413, 415, 422, 429)),
    Route("GET", "/healthz", health.healthz, "Readiness of the server, database and Redis", "operations",
          response=HealthOut, errors=(503,)),
    Route("GET", "/metrics", health.metrics, "Prometheus metrics (from JINGLIN_METRICS_NETWORKS or with "
          "JINGLIN_METRICS_TOKEN as a bearer token)", "operations", response_content_type="text/plain", errors=(403,)),
    Route("GET", "/api/v1/openapi.json", openapi, "This OpenAPI document", "operations"),
    Route("POST", "/api/v1/auth/login", auth.login, "Staff sign-in; sets the session cookie", "auth",
          body=auth.LoginIn, response=LoginOut, errors=(400, 401, 403, 413, 415, 422, 429)),
    Route("POST", "/api/v1/auth/logout", auth.logout, "End the current session (or every session: sign out everywhere)",
          "auth", roles=("public",), response=OkOut, errors=(403,),
          params=(Param("everywhere", description="true: end every session of this account or kiosk",
                        schema={"type": "boolean"}),)),
    Route("GET", "/api/v1/auth/me", auth.me, "Who is signed in", "auth",
          roles=("kiosk", "caseworker", "supervisor", "admin"), response=MeOut, errors=(401,)),
    Route("POST", "/api/v1/kiosk/session", auth.kiosk_session,
          "Exchange a kiosk device token for a kiosk session cookie", "auth",
          body=auth.KioskSessionIn, response=KioskSessionOut, errors=(400, 401, 403, 413, 415, 422, 429)),
    Route("GET", "/api/v1/matters", matters.list_matters, "List or search the active matters", "catalog",
          params=(
              Param("q", description="search text: Chinese, full pinyin or pinyin initials"),
              Param("department", description="only this department, e.g. 公安"),
              Param("mode", description="handle or consult (both-mode matters match either)",
                    schema={"type": "string", "enum": ["handle", "consult", "both"]}),
          ),
          response=matters.MattersOut, errors=(400,)),
    Route("GET", "/api/v1/matters/{matter_id}", matters.get_matter, "One matter with its materials", "catalog",
          params=(Param("matter_id", location="path", description="the matter's stable id"),),
          response=PublicMatter, errors=(404,)),
    Route("GET", WS_PATH, websocket, "WebSocket of the signaling protocol (docs/protocol.md)", "signaling",
          roles=("kiosk", "caseworker", "supervisor", "admin"), success_status=101, errors=(400, 401, 403, 429)),
    Route("GET", "/api/v1/skills", me.list_skills, "The skill vocabulary with Chinese names", "catalog",
          roles=("caseworker", "supervisor", "admin"), response=me.SkillsOut, errors=(401, 403)),
    Route("GET", "/api/v1/me/sessions", me.my_sessions, "Today's sessions of the signed-in caseworker", "caseworker",
          roles=("caseworker",), response=me.MySessionsOut, errors=(401, 403)),
    Route("GET", "/api/v1/departments", matters.list_departments, "Departments with active matters",
          "catalog", response=matters.DepartmentsOut),
]

ROUTES += capture_views.ROUTES
ROUTES += reports_views.ROUTES
ROUTES += admin.ROUTES
ROUTES += session_detail.ROUTES
ROUTES += recording_views.ROUTES
ROUTES += recording_board.ROUTES
ROUTES += hours_views.ROUTES
ROUTES += appointment_views.ROUTES
ROUTES += acceptance_views.ROUTES
ROUTES += signature_views.ROUTES
