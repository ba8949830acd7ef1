"""Names and text as people will read them: visible characters only.

A street's, centre's, site's or kiosk's name, an address or a person's display name travels to
every list, export, receipt and log line. A control character in it (NUL, a line break, an
escape sequence) breaks a CSV row or a log line and shows as nothing or a box; a bidirectional
override (U+202E and its kin) makes the name read differently from what is stored, so two names
that look alike are not. Such names are refused where they enter (422 in the API, an error line
in the CLI); the spaces around a name are trimmed, since "江宁路街道 " and "江宁路街道" are one street
to a reader. Free text (notes, comments) keeps its line breaks and tabs and loses the rest of
those characters: a resident's comment is never refused for an invisible character.
"""

from __future__ import annotations

from pydantic import AfterValidator

from matters_catalog.schema import INVISIBLE, INVISIBLE_IN_TEXT

# The characters (C0/C1 controls and DEL, zero-width, line/paragraph separators, bidi embeddings,
# overrides and isolates, word joiners, the byte-order mark) are defined once, with the catalog's
# own name check (matters_catalog/schema.py).


def plain_line(value: str) -> str:
    """One line of visible text, trimmed; ValueError for an invisible or control character, or
    for a value that was only spaces (an empty value is left to the field's own length check)."""
    found = INVISIBLE.search(value)
    if found:
        raise ValueError(f"contains the invisible or control character U+{ord(found.group()):04X}")
    trimmed = value.strip()
    if value and not trimmed:
        raise ValueError("only spaces")
    return trimmed


def plain_text(value: str) -> str:
    """Free text without control or invisible characters, line breaks and tabs kept."""
    return INVISIBLE_IN_TEXT.sub("", value)


# Add to a field's Annotated metadata: `name: Annotated[str, PLAIN_LINE] = Field(min_length=1, ...)`.
PLAIN_LINE = AfterValidator(plain_line)
PLAIN_TEXT = AfterValidator(plain_text)
