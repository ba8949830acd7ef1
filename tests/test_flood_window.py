"""A connection is closed for flooding only when its refusals crowd into one window (docs/protocol.md)."""

from __future__ import annotations

from typing import cast

import pytest
from aiohttp import web

from server.auth.principal import Principal
from server.signaling import connection as conn
from server.signaling.connection import MAX_REFUSED, REFUSED_WINDOW_S, Connection


def _connection() -> Connection:
    principal = Principal(role="kiosk", token_hash="", kiosk_id=1)
    return Connection(ws=cast(web.WebSocketResponse, None), principal=principal)


def test_refusals_are_counted_per_window(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(conn.time, "monotonic", lambda: now[0])
    connection = _connection()
    # A flood: over MAX_REFUSED refusals within the window closes.
    assert not any(connection.count_refusal() for _ in range(MAX_REFUSED))
    assert connection.count_refusal()
    # Bursts far apart never add up; a window is any minute, also one across two bursts.
    quiet = _connection()
    for _ in range(10):
        assert not any(quiet.count_refusal() for _ in range(MAX_REFUSED // 2))
        now[0] += REFUSED_WINDOW_S + 1
    straddling = _connection()
    assert not any(straddling.count_refusal() for _ in range(MAX_REFUSED // 2 + 1))
    now[0] += REFUSED_WINDOW_S / 2
    assert any(straddling.count_refusal() for _ in range(MAX_REFUSED // 2 + 1))
