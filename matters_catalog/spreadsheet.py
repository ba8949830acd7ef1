"""Read the district's catalog spreadsheet (CSV/XLSX) and write CSV/JSON exports.

One row per matter; the `materials` cell lists the matter's materials separated by ";", each
`name[capture:document_type]` (photographed at the kiosk) or `name[document_type]` (not
photographed), e.g. `身份证原件[capture:id_card]; 申请表[form]`. Three optional columns carry the
matter's own application-form level (matters_catalog.form_cells). Full layout: docs/catalog.md.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

from matters_catalog import messages as msg
from matters_catalog.cells import guard_formula, unguard_formula
from matters_catalog.form_cells import FORM_COLUMNS, column_name, format_form_cells, parse_form_cells
from matters_catalog.forms import FormBook, omit_errors
from matters_catalog.rules import check_matters, parse_matter
from matters_catalog.schema import FieldSet, Material, Matter, Skill

COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "name",
    "department",
    "category",
    "mode",
    "on_the_spot",
    "typical_minutes",
    "skill",
    "guide",
    "materials",
)
# Optional: a sheet without them is valid and leaves the matters' forms as the database has them.
OPTIONAL_COLUMNS: Final[tuple[str, ...]] = FORM_COLUMNS
# Spreadsheets are edited by hand in Chinese; accept the obvious spellings, write the canonical one.
# (pydantic itself already accepts true/false, yes/no, 1/0 for booleans.)
_BOOL_ALIASES: Final[dict[str, str]] = {"是": "true", "否": "false"}
_MODE_ALIASES: Final[dict[str, str]] = {"办理": "handle", "咨询": "consult", "办理和咨询": "both", "均可": "both"}
_MATERIAL_ITEM = re.compile(r"^(?P<name>[^\[\]]+?)\s*\[\s*(?P<capture>capture\s*:)?\s*(?P<type>[a-z_]+)\s*\]$")
_FIRST_DATA_ROW: Final[int] = 2  # row 1 is the header, as the spreadsheet program numbers it


def read_spreadsheet(path: Path, skills: Sequence[Skill], *, forms: FormBook | None = None,
                     current_forms: Mapping[str, FieldSet] | None = None) -> tuple[list[Matter], list[str]]:
    """Parse and validate a CSV or XLSX catalog; returns (matters, every error with its row).

    `forms` and `current_forms` as for `parse_rows`."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            rows = _csv_rows(path)
        elif suffix == ".xlsx":
            rows = _xlsx_rows(path)
        else:
            return [], [msg.UNSUPPORTED_FILE.format(path=path.name)]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        # openpyxl reports a corrupt workbook as zipfile/KeyError/ValueError.
        return [], [msg.UNREADABLE_FILE.format(path=path.name, detail=exc)]
    return parse_rows(rows, skills, forms=forms, current_forms=current_forms)


def parse_rows(rows: Sequence[Sequence[str]], skills: Sequence[Skill], *, forms: FormBook | None = None,
               current_forms: Mapping[str, FieldSet] | None = None) -> tuple[list[Matter], list[str]]:
    """Validate header + data rows (cells already text); blank rows are skipped.

    `forms` holds the "*" and department form sets a matter's `form_omit` may drop keys of (default: the
    shipped forms.yaml); `current_forms` the database's form levels by matter id, kept for the form
    columns the sheet does not have."""
    if not rows:
        return [], [msg.EMPTY_SHEET]
    header = [cell.strip() for cell in rows[0]]
    errors: list[str] = []
    missing = [column for column in COLUMNS if column not in header]
    unknown = [column for column in header if column and column not in COLUMNS + OPTIONAL_COLUMNS]
    if missing:
        errors.append(msg.MISSING_COLUMNS.format(columns=", ".join(missing)))
    if unknown:
        errors.append(msg.UNKNOWN_COLUMNS.format(columns=", ".join(unknown)))
    if errors:
        return [], errors
    located: list[tuple[str, Matter]] = []
    record_count = 0
    for number, row in enumerate(rows[1:], start=_FIRST_DATA_ROW):
        cells = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header) if column}
        if not any(cells.values()):
            continue
        record_count += 1
        where = msg.ROW.format(row=number)
        record, record_errors = _record(cells, where, current_forms or {})
        matter, parse_errors = parse_matter(record, where)
        if matter is not None and not record_errors:
            parse_errors += omit_errors(matter, where, forms, column_name("form_omit"))
        errors.extend(record_errors + parse_errors)
        if matter is not None and not record_errors and not parse_errors:
            located.append((where, matter))
    errors.extend(check_matters(located, skills, record_count=record_count))
    return [matter for _, matter in located], errors


def _record(cells: dict[str, str], where: str,
            current_forms: Mapping[str, FieldSet]) -> tuple[dict[str, Any], list[str]]:
    """Convert text cells to a Matter record; empty cells become missing fields."""
    record: dict[str, Any] = {key: value for key, value in cells.items()
                              if value and key != "materials" and key not in OPTIONAL_COLUMNS}
    if "guide" in cells:
        record["guide"] = cells["guide"]
    if "mode" in record:
        record["mode"] = _MODE_ALIASES.get(record["mode"], record["mode"].lower())
    if "on_the_spot" in record:
        record["on_the_spot"] = _BOOL_ALIASES.get(record["on_the_spot"], record["on_the_spot"].lower())
    materials, material_errors = parse_materials(cells.get("materials", ""), where)
    record["materials"] = materials
    form_cells = {key: value for key, value in cells.items() if key in FORM_COLUMNS}
    form, form_errors = parse_form_cells(form_cells, where, current_forms.get(cells.get("id", "")))
    record["form"] = form
    return record, material_errors + form_errors


def parse_materials(text: str, where: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse a materials cell into material records (validated later with the matter)."""
    materials: list[dict[str, Any]] = []
    errors: list[str] = []
    for item in (part.strip() for part in text.replace("；", ";").split(";")):
        if not item:
            continue
        match = _MATERIAL_ITEM.match(item)
        if match is None:
            errors.append(msg.BAD_MATERIAL_ITEM.format(where=where, value=item))
            continue
        materials.append(
            {
                "name": match["name"].strip(),
                "capture": match["capture"] is not None,
                "document_type": match["type"],
            }
        )
    return materials, errors


def format_materials(materials: Iterable[Material]) -> str:
    """The materials cell for a matter (inverse of parse_materials)."""
    return "; ".join(f"{item.name}[{'capture:' if item.capture else ''}{item.document_type}]" for item in materials)


def matter_to_row(matter: Matter) -> list[str]:
    """One spreadsheet row, in COLUMNS + OPTIONAL_COLUMNS order."""
    return [
        matter.id,
        matter.name,
        matter.department,
        matter.category,
        matter.mode,
        "true" if matter.on_the_spot else "false",
        str(matter.typical_minutes),
        matter.skill,
        matter.guide,
        format_materials(matter.materials),
        *format_form_cells(matter.form),
    ]


def write_csv(matters: Iterable[Matter], out: TextIO) -> None:
    """Write the catalog as CSV with the documented header (the optional form columns included)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + OPTIONAL_COLUMNS)
    writer.writerows([guard_formula(cell) for cell in matter_to_row(matter)] for matter in matters)


def write_json(version: str, matters: Iterable[Matter], skills: Iterable[Skill], out: TextIO) -> None:
    """Write version, skills and matters as one JSON document (UTF-8, not ASCII-escaped)."""
    document = {
        "version": version,
        "skills": [skill.model_dump() for skill in skills],
        "matters": [matter.model_dump() for matter in matters],
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _csv_rows(path: Path) -> list[list[str]]:
    # utf-8-sig: Excel saves CSV with a byte-order mark, and our own exports to files carry one.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [[unguard_formula(cell) for cell in row] for row in csv.reader(handle)]


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # imported lazily: only imports of XLSX files need it

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        # A workbook's text cell is text: only CSV carries the ' guard (cells.py).
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    # Excel turns typed-in numbers and TRUE/FALSE into numbers and booleans; compare as text.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
