"""The spreadsheet notation of a matter's own application-form level (docs/catalog.md).

Three optional columns: `form_fields` lists fields like `materials` lists materials, items separated
by ";" (or "；"), each `label[key:type]`, `label[key:type:required]` or, for a choice,
`领卡方式[card_delivery:choice:required:中心领取|邮寄到家]`; `form_omit` lists inherited keys to drop,
separated by ";"; `signature_required` is true/false (是/否), empty to inherit. Parsing collects every
error of a cell, each naming the row and the column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError

from matters_catalog import messages as msg
from matters_catalog.schema import (
    CHOICE_SEPARATORS,
    FIELD_TYPES,
    FORM_KEY_PATTERN,
    MAX_FORM_CHOICES,
    MAX_FORM_FIELDS,
    MAX_FORM_TEXT,
    FieldSet,
    FormField,
)

FORM_COLUMNS: Final[tuple[str, ...]] = ("form_fields", "form_omit", "signature_required")
REQUIRED_FLAG: Final[str] = "required"
_ITEM = re.compile(r"^(?P<label>[^\[\]]+?)\s*\[(?P<spec>[^\[\]]*)\]$")
_KEY = re.compile(FORM_KEY_PATTERN)
_PARTS = re.compile(r"[:：]")
_CHOICES = re.compile(r"[|｜]")
_TRUE: Final[frozenset[str]] = frozenset({"true", "yes", "1", "是"})
_FALSE: Final[frozenset[str]] = frozenset({"false", "no", "0", "否"})


def column_name(name: str) -> str:
    """How an error names a form column: its Chinese label and its header, e.g. 申请表字段（form_fields）."""
    return msg.FORM_COLUMN.format(label=msg.FIELD_LABELS[name], column=name)


def _items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.replace("；", ";").split(";")) if item]


def parse_form_cells(cells: Mapping[str, str], where: str,
                     inherited: FieldSet | None = None) -> tuple[FieldSet | None, list[str]]:
    """The matter's form level from its three cells, or None with every error.

    A column missing from the sheet (not in `cells`) keeps that part of `inherited` (the level the
    database holds), so a sheet without the form columns leaves forms as they are.
    """
    errors: list[str] = []
    record: dict[str, Any] = {} if inherited is None else inherited.model_dump()
    if "form_fields" in cells:
        record["fields"] = _fields(cells["form_fields"], where, errors)
    if "form_omit" in cells:
        record["omit"] = _omit(cells["form_omit"], where, errors)
    if "signature_required" in cells:
        record["signature_required"] = _flag(cells["signature_required"], where, errors)
    if errors:
        return None, errors
    try:
        return FieldSet.model_validate(record), []
    except ValidationError as exc:  # the checks above leave only limits the notation cannot show
        return None, [msg.BAD_VALUE.format(where=where, label=column_name("form_fields"), value=e["msg"])
                      for e in exc.errors()]


def _fields(text: str, where: str, errors: list[str]) -> list[dict[str, Any]]:
    column = column_name("form_fields")
    fields: list[dict[str, Any]] = []
    seen: set[str] = set()
    items = _items(text)
    if len(items) > MAX_FORM_FIELDS:
        errors.append(msg.TOO_MANY_FORM_FIELDS.format(where=where, column=column, limit=MAX_FORM_FIELDS))
    for item in items:
        match = _ITEM.match(item)
        parts = [part.strip() for part in _PARTS.split(match["spec"])] if match else []
        if match is None or len(parts) < 2 or len(parts) > 4 or (len(parts) == 4 and parts[2] != REQUIRED_FLAG):
            errors.append(msg.BAD_FORM_ITEM.format(where=where, column=column, value=item))
            continue
        label, key, kind = match["label"].strip(), parts[0], parts[1]
        required = len(parts) > 2 and parts[2] == REQUIRED_FLAG
        # An empty choice list (`key:choice:required:`) is the same mistake as none at all.
        choices_text = (parts[-1] or None) if len(parts) - int(required) == 3 else None
        found = len(errors)
        if not _KEY.match(key) or len(key) > MAX_FORM_TEXT:
            errors.append(msg.BAD_FORM_KEY.format(where=where, column=column, key=key))
        elif key in seen:
            errors.append(msg.DUPLICATE_FORM_KEY.format(where=where, column=column, key=key))
        seen.add(key)
        if len(label) > MAX_FORM_TEXT:
            errors.append(msg.FORM_LABEL_TOO_LONG.format(where=where, column=column, label=label, limit=MAX_FORM_TEXT))
        choices = _choices(choices_text, label, where, errors) if choices_text is not None else []
        if kind not in FIELD_TYPES:
            errors.append(msg.UNKNOWN_FORM_TYPE.format(where=where, column=column, label=label, value=kind,
                                                       choices=", ".join(FIELD_TYPES)))
        elif kind == "choice" and choices_text is None:
            errors.append(msg.CHOICES_MISSING.format(where=where, column=column, label=label))
        elif kind != "choice" and choices_text is not None:
            errors.append(msg.CHOICES_NOT_ALLOWED.format(where=where, column=column, label=label))
        if len(errors) == found:
            fields.append({"key": key, "label": label, "type": kind, "required": required, "choices": choices})
    return fields


def _choices(text: str, label: str, where: str, errors: list[str]) -> list[str]:
    column = column_name("form_fields")
    choices = [choice.strip() for choice in _CHOICES.split(text)]
    if len(choices) > MAX_FORM_CHOICES:
        errors.append(msg.TOO_MANY_CHOICES.format(where=where, column=column, label=label, limit=MAX_FORM_CHOICES))
    for choice in choices:
        if not choice or len(choice) > MAX_FORM_TEXT or any(char in choice for char in CHOICE_SEPARATORS):
            errors.append(msg.BAD_CHOICE.format(where=where, column=column, label=label, value=choice))
    return choices


def _omit(text: str, where: str, errors: list[str]) -> list[str]:
    column = column_name("form_omit")
    keys: list[str] = []
    for key in _items(text):
        if not _KEY.match(key) or len(key) > MAX_FORM_TEXT:
            errors.append(msg.BAD_FORM_KEY.format(where=where, column=column, key=key))
        elif key in keys:
            errors.append(msg.DUPLICATE_FORM_KEY.format(where=where, column=column, key=key))
        else:
            keys.append(key)
    return keys


def _flag(text: str, where: str, errors: list[str]) -> bool | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    errors.append(msg.BAD_BOOL.format(where=where, label=column_name("signature_required"), value=text))
    return None


def format_form_cells(form: FieldSet | None) -> list[str]:
    """The three cells of a matter's form level, in FORM_COLUMNS order (inverse of parse_form_cells)."""
    if form is None:
        return ["", "", ""]
    return [
        "; ".join(_format_field(field) for field in form.fields),
        "; ".join(form.omit),
        "" if form.signature_required is None else ("true" if form.signature_required else "false"),
    ]


def _format_field(field: FormField) -> str:
    parts = [field.key, field.type]
    if field.required:
        parts.append(REQUIRED_FLAG)
    if field.choices:
        parts.append("|".join(field.choices))
    return f"{field.label}[{':'.join(parts)}]"
