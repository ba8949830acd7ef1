"""Validation rules shared by every catalog source: per-record parsing and cross-record checks.

Every function collects errors instead of stopping at the first one, so an operator fixing a
spreadsheet sees the whole list in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from matters_catalog import messages as msg
from matters_catalog.schema import (
    DEPARTMENTS,
    DOCUMENT_TYPES,
    INPUT_CONTEXT,
    INVISIBLE_ERROR,
    MAX_ID_LENGTH,
    Matter,
    Skill,
)


class CatalogError(Exception):
    """Invalid catalog data; `errors` lists every problem found (Simplified Chinese)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_matter(record: Mapping[str, Any], where: str) -> tuple[Matter | None, list[str]]:
    """Build a Matter from a raw record, or return None with readable errors."""
    try:
        return Matter.model_validate(dict(record), context=INPUT_CONTEXT), []
    except ValidationError as exc:
        return None, describe_validation_error(exc, where)


def parse_skill(record: Any, where: str) -> tuple[Skill | None, list[str]]:
    """Build a Skill from a raw record, or return None with readable errors."""
    try:
        return Skill.model_validate(record), []
    except ValidationError as exc:
        return None, describe_validation_error(exc, where)


def describe_validation_error(exc: ValidationError, where: str) -> list[str]:
    """Turn pydantic's errors into one Chinese line each, naming the record and field."""
    return [_describe(error, where) for error in exc.errors()]


def _describe(error: Any, where: str) -> str:
    loc = [part for part in error["loc"]]
    # Material errors are located as ("materials", index, field): name the material 1-based.
    if len(loc) >= 2 and loc[0] == "materials" and isinstance(loc[1], int):
        where = msg.MATERIAL.format(where=where, index=loc[1] + 1)
        loc = loc[2:]
    field = str(loc[-1]) if loc else ""
    label = msg.FIELD_LABELS.get(field, field)
    value = error.get("input")
    kind = error["type"]
    if kind == "missing":
        return msg.MISSING_FIELD.format(where=where, label=label, field=field)
    if kind == "extra_forbidden":
        return msg.UNKNOWN_FIELD.format(where=where, field=field)
    if field == "department" and kind in {"value_error", "string_type"}:
        return msg.UNKNOWN_DEPARTMENT.format(where=where, value=value, choices="、".join(DEPARTMENTS))
    if field == "document_type":
        return msg.UNKNOWN_DOCUMENT_TYPE.format(
            where=where, label=label, value=value, choices=", ".join(DOCUMENT_TYPES)
        )
    if field == "mode":
        return msg.BAD_MODE.format(where=where, value=value)
    if field in {"id", "skill"} and kind in {"string_pattern_mismatch", "string_too_long"}:
        return msg.BAD_SLUG.format(where=where, label=label, value=value)
    if kind.startswith("int_") or kind.startswith(("greater_than", "less_than")):
        return msg.BAD_INT.format(where=where, label=label, value=value)
    if kind.startswith("bool_"):
        return msg.BAD_BOOL.format(where=where, label=label, value=value)
    if kind == "string_too_short":
        return msg.EMPTY_TEXT.format(where=where, label=label)
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length", MAX_ID_LENGTH)
        return msg.TOO_LONG.format(where=where, label=label, limit=limit)
    if kind == "value_error" and INVISIBLE_ERROR in str(error.get("msg", "")):
        return msg.INVISIBLE_CHARACTER.format(where=where, label=label, value=ascii(value))
    if field == "name" and kind == "value_error":
        return msg.BAD_MATERIAL_NAME.format(where=where, value=value)
    return msg.BAD_VALUE.format(where=where, label=label, value=value)


def check_matters(
    located: Sequence[tuple[str, Matter]],
    skills: Sequence[Skill],
    *,
    expected_count: int | None = None,
    require_all_skills_used: bool = False,
    record_count: int | None = None,
) -> list[str]:
    """Cross-record checks: unique ids and names, known skills, the count, unused skills.

    `located` pairs each matter with where it came from (file item or spreadsheet row).
    `record_count` counts records that failed to parse too, so one bad record is not also
    reported as a wrong total.
    """
    total = len(located) if record_count is None else record_count
    errors: list[str] = []
    skill_ids = {skill.id for skill in skills}
    first_by_id: dict[str, str] = {}
    first_by_name: dict[tuple[str, str], str] = {}
    for where, matter in located:
        if matter.id in first_by_id:
            errors.append(msg.DUPLICATE_ID.format(where=where, id=matter.id, first=first_by_id[matter.id]))
        else:
            first_by_id[matter.id] = where
        name_key = (matter.department, matter.name)
        if name_key in first_by_name:
            errors.append(
                msg.DUPLICATE_NAME.format(
                    where=where, department=matter.department, name=matter.name, first=first_by_name[name_key]
                )
            )
        else:
            first_by_name[name_key] = where
        if matter.skill not in skill_ids:
            errors.append(msg.UNKNOWN_SKILL.format(where=where, skill=matter.skill))
    if expected_count is not None and total != expected_count:
        errors.append(msg.WRONG_COUNT.format(expected=expected_count, actual=total))
    elif not total:
        errors.append(msg.NO_MATTERS)
    if require_all_skills_used:
        used = {matter.skill for _, matter in located}
        errors.extend(
            msg.UNUSED_SKILL.format(skill=skill.id, name=skill.name) for skill in skills if skill.id not in used
        )
    return errors


def check_skills(located: Sequence[tuple[str, Skill]]) -> list[str]:
    """Skill ids must be unique."""
    seen: set[str] = set()
    errors: list[str] = []
    for where, skill in located:
        if skill.id in seen:
            errors.append(msg.DUPLICATE_SKILL.format(where=where, id=skill.id))
        seen.add(skill.id)
    return errors
