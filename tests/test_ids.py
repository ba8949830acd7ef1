"""Numeric ids from requests never reach the database out of range."""

from __future__ import annotations

import pytest

from server.runtime.ids import MAX_ID, parse_id


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", 1), ("0042", 42), (str(MAX_ID), MAX_ID),
    ("", None), ("-1", None), ("1.5", None), ("²", None), ("١٢", None), (str(MAX_ID + 1), None),
    ("30017235844042420387840", None), (" 7", None),
])
def test_parse_id(raw: str, expected: int | None) -> None:
    assert parse_id(raw) == expected
