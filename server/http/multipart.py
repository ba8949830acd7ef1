"""Finding one named field in a multipart upload, with a bound on the parts skipped to reach it."""

from __future__ import annotations

from aiohttp import BodyPartReader, MultipartReader

# An upload form has one file field and perhaps a few small ones; a body of thousands of empty
# parts (100,000 in 5 MB) kept the event loop skipping them for ~10 s, every call on the process
# frozen with it.
MAX_PARTS = 8


class TooManyParts(ValueError):
    """More than MAX_PARTS parts came before the field looked for (a ValueError, as aiohttp's own
    framing errors are: the client's body, answered 400)."""


async def named_part(reader: MultipartReader, name: str) -> BodyPartReader | None:
    """The first part called name (skipping, and so draining, the parts before it), or None when
    the body has none; raises TooManyParts past MAX_PARTS parts."""
    for _ in range(MAX_PARTS):
        part = await reader.next()
        if part is None:
            return None
        if isinstance(part, BodyPartReader) and part.name == name:
            return part
    raise TooManyParts(f"more than {MAX_PARTS} parts")
