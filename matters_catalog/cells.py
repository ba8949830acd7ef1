"""Spreadsheet cells that stay text: formula guarding for exports, and its undoing on import.

A cell whose text starts with `=`, `+`, `-`, `@` (or a tab or carriage return before one) is a
formula to Excel and LibreOffice: a site or matter name such as `=HYPERLINK("http://…")` would
run when an exported sheet is opened. CSV exports therefore prefix such text with `'`, which a
spreadsheet shows as text; CSV imports take that prefix off again, so an export imports back
unchanged. Workbooks (.xlsx) need no guard: their cells are written with the text type, never as
formulas, and read back as they are.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(text: str) -> str:
    """text, prefixed with `'` when a spreadsheet would read it as a formula, or when it starts
    with `'`s before such a start already (so that unguard_formula gives it back as it was)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def unguard_formula(text: str) -> str:
    """text without the `'` that guard_formula put before it."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START) else text
