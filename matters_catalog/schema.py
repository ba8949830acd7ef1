"""The catalog's data model: matters, their materials, and the skill vocabulary.

These pydantic models are the one shape every source (YAML files, spreadsheets, the database) is
converted to, so validation rules live here once.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

DocumentType = Literal[
    "id_card",
    "household_register",
    "social_security_card",
    "marriage_certificate",
    "birth_certificate",
    "bank_card",
    "residence_permit",
    "disability_certificate",
    "form",
    "other",
]
Mode = Literal["handle", "consult", "both"]

DOCUMENT_TYPES: Final[tuple[str, ...]] = get_args(DocumentType)
MODES: Final[tuple[str, ...]] = get_args(Mode)

# Display order of the departments present in Shanghai acceptance centres (docs/measurements.md).
DEPARTMENTS: Final[tuple[str, ...]] = (
    "公安",
    "民政",
    "人社",
    "医保",
    "卫健",
    "住建/房管",
    "住房公积金",
    "残联",
    "工会",
    "档案",
    "粮食",
    "经信",
)

# Matter and skill ids are slugs: lowercase ASCII words joined by hyphens. Matter.id is String(40).
SLUG_PATTERN: Final[str] = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_ID_LENGTH: Final[int] = 40
_SLUG = re.compile(SLUG_PATTERN)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    # Frozen so a loaded catalog can be shared between requests; extra keys are typos, not data.
    model_config = ConfigDict(frozen=True, extra="forbid")


class Material(_Strict):
    """One item a resident brings; `capture` means it is photographed through the kiosk camera."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    capture: bool
    document_type: DocumentType

    @field_validator("name")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        # Spreadsheets list materials separated by semicolons and typed by brackets (docs/catalog.md).
        if any(char in value for char in ";；[]"):
            raise ValueError("material name must not contain ; or [ ]")
        return value


class Skill(_Strict):
    """A caseworker skill; each matter needs exactly one."""

    id: Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=MAX_ID_LENGTH)]
    name: Text
    department: Text

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str) -> str:
        return _check_department(value)


class Matter(_Strict):
    """A government matter a resident can pick at the kiosk."""

    id: Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=MAX_ID_LENGTH)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    department: Text
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    mode: Mode
    on_the_spot: bool
    typical_minutes: int = Field(ge=1, le=240)
    skill: Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=MAX_ID_LENGTH)]
    guide: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    materials: list[Material] = Field(default_factory=list)

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str) -> str:
        return _check_department(value)


def _check_department(value: str) -> str:
    if value not in DEPARTMENTS:
        raise ValueError(f"unknown department {value!r}")
    return value



def department_rank(department: str) -> int:
    """Position of a department in the display order (unknown ones last)."""
    try:
        return DEPARTMENTS.index(department)
    except ValueError:
        return len(DEPARTMENTS)
