"""Pydantic models of HTTP request and response bodies, shared by views and the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong, for people and programs."""

    code: str = Field(description="stable machine-readable code, e.g. not_found")
    message: str = Field(description="human-readable explanation")


class ErrorOut(BaseModel):
    """The JSON error shape of every 4xx/5xx response."""

    error: ErrorBody


class HealthOut(BaseModel):
    """Readiness of the server and the services it depends on."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable"]
    error: ErrorBody | None = None
