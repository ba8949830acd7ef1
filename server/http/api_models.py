"""Pydantic models of HTTP request and response bodies, shared by views and the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong, for people and programs."""

    code: str = Field(description="stable machine-readable code, e.g. not_found")
    message: str = Field(description="human-readable explanation")
    details: list[str] | None = Field(default=None, description="every problem of a bulk input, one line each")


class ErrorOut(BaseModel):
    """The JSON error shape of every 4xx/5xx response."""

    error: ErrorBody


class HealthOut(BaseModel):
    """Readiness of the server and the services it depends on."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable"]
    # Only when the data volume has less than JINGLIN_MIN_FREE_DISK_MB free (a warning: status stays ok).
    disk: Literal["low"] | None = None
    disk_free_mb: int | None = None
    warnings: list[str] | None = None
    error: ErrorBody | None = None


class SessionUserOut(BaseModel):
    """The signed-in staff member."""

    id: int
    username: str
    role: Literal["caseworker", "supervisor", "admin"]
    display_name: str
    centre_id: int | None
    skills: list[str]


class LoginOut(BaseModel):
    """Result of a successful sign-in."""

    user: SessionUserOut


class KioskOut(BaseModel):
    """The kiosk a device token belongs to."""

    id: int
    site: str
    street_id: int
    label: str


class KioskSessionOut(BaseModel):
    """Result of a kiosk token exchange."""

    kiosk: KioskOut


class OkOut(BaseModel):
    """A plain acknowledgement."""

    ok: bool


class MeOut(BaseModel):
    """Who is signed in."""

    role: Literal["kiosk", "caseworker", "supervisor", "admin"]
    user_id: int | None
    kiosk_id: int | None
    username: str
