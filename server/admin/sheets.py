"""Reading uploaded CSV/XLSX sheets into text rows, and writing rows back out.

Shared by the site import and the catalog import; CSV may come from Excel in UTF-8 (with or
without BOM) or in GB18030, which Chinese Excel writes by default.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from itertools import islice

from openpyxl import Workbook, load_workbook

from matters_catalog.cells import guard_formula, unguard_formula
from server.admin import texts as t
from server.admin.errors import AdminError
from server.admin.limits import MAX_SHEET_ROWS, MAX_UPLOAD_BYTES

XLSX_MAGIC = b"PK\x03\x04"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet_kind(filename: str, data: bytes) -> str:
    """`csv` or `xlsx` from the file's name and first bytes; 400 for anything else, 413 when too big."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise AdminError(413, "payload_too_large", t.FILE_TOO_LARGE.format(limit=MAX_UPLOAD_BYTES // 2**20))
    name = filename.lower()
    if name.endswith(".xlsx") and data.startswith(XLSX_MAGIC):
        return "xlsx"
    if name.endswith(".csv") and not data[:4096].translate(None, _TEXT_BYTES):
        return "csv"
    raise AdminError(400, "not_a_spreadsheet", t.NOT_A_SPREADSHEET)


# Bytes that never occur in UTF-8 or GB18030 text but as control characters: tab, CR and LF are
# text, every other byte below 0x20 marks a binary file (an image renamed .csv). Deleting every
# other byte leaves only those.
_TEXT_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in (0x09, 0x0A, 0x0D))


def read_rows(filename: str, data: bytes) -> list[list[str]]:
    """The sheet's rows as stripped text cells (header first)."""
    kind = sheet_kind(filename, data)
    try:
        rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    except (ValueError, KeyError, OSError, csv.Error, zipfile.BadZipFile):
        # openpyxl reports a corrupt workbook as zipfile/KeyError/ValueError.
        detail = "不是有效的 Excel 文件" if kind == "xlsx" else "不是有效的 CSV 文本"
        raise AdminError(400, "unreadable_file", t.UNREADABLE_FILE.format(detail=detail)) from None
    return rows


def _bounded(rows: Iterator[list[str]]) -> list[list[str]]:
    """The rows, a header and at most MAX_SHEET_ROWS more; 413 as soon as one more comes (read
    no further: a 300 KB workbook of two million one-cell rows took ~50 s and ~450 MB to read
    whole)."""
    kept = list(islice(rows, MAX_SHEET_ROWS + 2))
    if len(kept) > MAX_SHEET_ROWS + 1:
        raise AdminError(413, "payload_too_large", t.TOO_MANY_ROWS.format(limit=MAX_SHEET_ROWS))
    return kept


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return _bounded([unguard_formula(cell.strip()) for cell in row] for row in csv.reader(io.StringIO(text)))


def _xlsx_rows(data: bytes) -> list[list[str]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # Not unguarded: a workbook's text cell is text (write_xlsx stores names as they are, so a
        # name that itself starts with ' followed by = comes back with it).
        return _bounded(["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True))
    finally:
        book.close()


def write_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """Rows as UTF-8 CSV with a BOM, so Excel shows the Chinese correctly."""
    out = io.StringIO()
    csv.writer(out).writerows([guard_formula(cell) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def write_xlsx(rows: Sequence[Sequence[str]]) -> bytes:
    """Rows as a one-sheet workbook."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            # Stored as text, never as a formula: a name like =HYPERLINK(...) must not run.
            cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
