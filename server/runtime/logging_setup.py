"""Structured logging: readable lines for people, JSON lines for log collectors."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

# Attributes every LogRecord has; anything else was passed through `extra=` and is structured data.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with time, level, logger, message and structured extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(_extras(record))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line with the structured extras appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


# Libraries whose debug output carries personal data: SQL parameters (names, notes, password
# hashes), SDP and ICE candidates (addresses). They stay at WARNING even when the app debugs.
QUIET_LIBRARIES = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg", "aioice", "aiortc", "redis")


class UnparsableRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a header line over 8 KiB, too many headers, a bad
    chunk size) with its traceback, and the exception's text quotes the raw bytes: the request
    line with its query (an ID number searched for) or a cookie (a session token). Such a record
    keeps only the exception's name and status."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg, record.args = "unparsable HTTP request refused: %s (%s)", (type(exc).__name__, exc.code)
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Route all logging to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(UnparsableRequestFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log repeats what /metrics counts; keep it at warning unless debugging.
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
