"""Session exports: CSV and XLSX with exactly the fields of `GET /api/v1/sessions`.

The header row is the API's field names, so a spreadsheet, a CSV loader and the JSON API agree
column for column. CSV is UTF-8 with a byte-order mark: without it Excel on Chinese Windows reads
the names as GBK and garbles them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from matters_catalog.cells import guard_formula
from server.reports.queries import SessionRow

COLUMNS: tuple[str, ...] = (
    "id", "ticket_number", "kiosk_id", "kiosk", "site_id", "site", "street_id", "street", "centre_id", "centre",
    "matter_id", "matter", "department", "caseworker_id", "caseworker", "mode", "priority", "state",
    "created_at", "answered_at", "ended_at", "closed_at", "outcome", "case_number", "requeue_count", "rating",
)
def _safe(value: Any) -> Any:
    # A text cell starting like a formula must never run when the sheet is opened (a site name).
    return guard_formula(value) if isinstance(value, str) else value


def _records(rows: Sequence[SessionRow]) -> list[list[Any]]:
    return [[_safe(row.as_dict()[c]) for c in COLUMNS] for row in rows]


def sessions_csv(rows: Sequence[SessionRow]) -> bytes:
    """The sessions as CSV bytes (UTF-8 with BOM, CRLF line ends as RFC 4180 says)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for record in _records(rows):
        writer.writerow(["" if v is None else v for v in record])
    return buffer.getvalue().encode("utf-8-sig")


def sessions_xlsx(rows: Sequence[SessionRow]) -> bytes:
    """The sessions as an XLSX workbook with one sheet, `sessions`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("sessions")
    sheet.append(list(COLUMNS))
    for record in _records(rows):
        sheet.append(record)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
