"""Parsing numeric ids from requests: ASCII digits only, within the database's integer range."""

from __future__ import annotations

# Integer primary keys are 32-bit on PostgreSQL; anything larger cannot name a row.
MAX_ID = 2**31 - 1


def parse_id(raw: str) -> int | None:
    """The id in `raw`, or None when it is not a plain decimal number in range.

    str.isdigit() alone accepts characters such as '²' that int() refuses, and very long digit
    strings overflow the database's integer type: both must be a clean "no such id".
    """
    if not raw or len(raw) > 10 or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= MAX_ID else None
