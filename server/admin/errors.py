"""The one error type of the administration services, mapped to HTTP by the views and to an exit
status by the CLI."""

from __future__ import annotations


class AdminError(Exception):
    """Bad input or a refused action: an HTTP status, a stable code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def not_found(message: str) -> AdminError:
    """404 for an unknown street, centre, site, kiosk, user or matter."""
    return AdminError(404, "not_found", message)


def invalid(message: str, details: list[str] | None = None) -> AdminError:
    """422 for input that breaks a rule."""
    return AdminError(422, "invalid", message, details)


def conflict(message: str) -> AdminError:
    """409 for a duplicate or a refused state change."""
    return AdminError(409, "conflict", message)
