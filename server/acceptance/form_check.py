"""The server's check of a filled application form: each field by its type (server/acceptance/checks.py).

The first wrong field is refused with an error that names it by its label, so the caseworker knows
which one to correct; the console runs the same rules first (web/static/agent/application.js).
"""

from __future__ import annotations

from matters_catalog.forms import FormField
from server.acceptance import checks, texts
from server.signaling.handlers import SignalingError

Filled = list[dict[str, object]]


def _refuse(code: str, label: str) -> SignalingError:
    return SignalingError(code, texts.FORM_ERRORS[code].format(label=label))


def _value_ok(field: FormField, value: str) -> bool:
    if field.type == "id_number":
        return checks.id_number_ok(value)
    if field.type == "date":
        return checks.date_ok(value)
    if field.type == "phone":
        return checks.phone_ok(value)
    if field.type == "choice":
        return value in field.choices
    return True


def check_form(fields: list[FormField], values: dict[str, str]) -> Filled:
    """The fields with their values (trimmed; ID numbers upper-cased), or SignalingError naming the field."""
    known = {field.key for field in fields}
    unknown = sorted(set(values) - known)
    if unknown:
        raise _refuse("form_unknown_field", unknown[0][:40])
    filled: Filled = []
    for field in fields:
        value = values.get(field.key, "").strip()
        if field.type == "id_number":
            value = value.upper()
        if not value and field.required:
            raise _refuse("form_field_missing", field.label)
        if value and not _value_ok(field, value):
            raise _refuse(f"form_bad_{field.type}", field.label)
        filled.append({"key": field.key, "label": field.label, "type": field.type, "required": field.required,
                       "value": value})
    return filled


def shown_to_resident(filled: Filled) -> Filled:
    """What the kiosk screen shows: label, type and value, ID numbers masked except the last four."""
    return [{"key": f["key"], "label": f["label"], "type": f["type"],
             "value": checks.mask_id_number(str(f["value"])) if f["type"] == "id_number" and f["value"]
             else f["value"]} for f in filled]
