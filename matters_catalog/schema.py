"""The catalog's data model: matters, their materials, and the skill vocabulary.

These pydantic models are the one shape every source (YAML files, spreadsheets, the database) is
converted to, so validation rules live here once.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
FieldType = Literal["text", "date", "id_number", "phone", "choice", "address"]

DOCUMENT_TYPES: Final[tuple[str, ...]] = get_args(DocumentType)
MODES: Final[tuple[str, ...]] = get_args(Mode)
FIELD_TYPES: Final[tuple[str, ...]] = get_args(FieldType)

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
# Characters no reader sees (C0/C1 controls, zero-width characters, bidi embeddings, overrides and
# isolates, the byte-order mark; server/protocol/plain_text.py uses the same two patterns): a name
# holding one reads differently from what is stored. Names refuse them; the guide drops them
# (keeping its line breaks and tabs).
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
INVISIBLE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
INVISIBLE_ERROR = "invisible or control character"


# The validation context of input (a sheet, the files, an edit: rules.parse_matter): only there
# are such characters refused or dropped. A catalog read back from the database or a stored
# version is taken as it was stored, so a row kept before the rule still loads.
INPUT_CONTEXT: Final = {"input": True}


def _is_input(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("input"))


def _visible(value: str, info: ValidationInfo) -> str:
    """value, or (for input) ValueError when it holds a character no reader sees."""
    if _is_input(info) and INVISIBLE.search(value):
        raise ValueError(INVISIBLE_ERROR)
    return value

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# Application form fields (docs/catalog.md "Application forms"): keys are identifiers, labels and
# choices short texts both screens show. The characters refused here are the separators of the
# spreadsheet notation (`label[key:type:required:a|b]; ...`), so every form survives export → import.
FORM_KEY_PATTERN: Final[str] = r"^[a-z][a-z0-9_]*$"
MAX_FORM_TEXT: Final[int] = 40
MAX_FORM_FIELDS: Final[int] = 40
MAX_FORM_CHOICES: Final[int] = 30
LABEL_SEPARATORS: Final[str] = ";；[]"
CHOICE_SEPARATORS: Final[str] = ";；[]:：|｜"
FormText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FORM_TEXT)]
FormKey = Annotated[str, StringConstraints(pattern=FORM_KEY_PATTERN, max_length=MAX_FORM_TEXT)]


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
    def _no_separator(cls, value: str, info: ValidationInfo) -> str:
        # Spreadsheets list materials separated by semicolons and typed by brackets (docs/catalog.md).
        if any(char in value for char in ";；[]"):
            raise ValueError("material name must not contain ; or [ ]")
        return _visible(value, info)


class Skill(_Strict):
    """A caseworker skill; each matter needs exactly one."""

    id: Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=MAX_ID_LENGTH)]
    name: Text
    department: Text

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str) -> str:
        return _check_department(value)


class FormField(_Strict):
    """One field of an application form as the console fills it and the kiosk shows it."""

    key: FormKey
    label: FormText
    type: FieldType
    required: bool = False
    choices: list[FormText] = Field(default_factory=list, max_length=MAX_FORM_CHOICES)

    @field_validator("label")
    @classmethod
    def _label_without_separators(cls, value: str) -> str:
        if any(char in value for char in LABEL_SEPARATORS):
            raise ValueError("a field label must not contain ; or [ ]")
        return value

    @field_validator("choices")
    @classmethod
    def _choices_without_separators(cls, value: list[str]) -> list[str]:
        if any(char in choice for choice in value for char in CHOICE_SEPARATORS):
            raise ValueError("a choice must not contain ; : | or [ ]")
        return value

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> FormField:
        # A choice without choices cannot be filled; choices on another type would be ignored silently.
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("choices are required for type choice and allowed only there")
        return self


class FieldSet(_Strict):
    """The fields a form level ("*", a department, one matter) adds or replaces, and the keys it drops."""

    fields: list[FormField] = Field(default_factory=list, max_length=MAX_FORM_FIELDS)
    omit: list[FormKey] = Field(default_factory=list)
    # Whether 受理 needs the resident's signature on the confirmed form; unset inherits the level above.
    signature_required: bool | None = None

    @model_validator(mode="after")
    def _unique_keys(self) -> FieldSet:
        keys = [f.key for f in self.fields]
        if len(keys) != len(set(keys)):
            raise ValueError("a field key appears twice")
        return self

    @property
    def is_empty(self) -> bool:
        """True when the level changes nothing (no fields, no omissions, signature inherited)."""
        return not self.fields and not self.omit and self.signature_required is None


class PublicMatter(_Strict):
    """A matter as the public API shows it to kiosks: everything but the form override."""

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

    @field_validator("name", "category")
    @classmethod
    def _visible_name(cls, value: str, info: ValidationInfo) -> str:
        return _visible(value, info)

    @field_validator("guide")
    @classmethod
    def _visible_guide(cls, value: str, info: ValidationInfo) -> str:
        return INVISIBLE_IN_TEXT.sub("", value) if _is_input(info) else value


class Matter(PublicMatter):
    """A government matter a resident can pick at the kiosk, with its own application-form level.

    `form` is the matter's override of the "*" and department field sets of forms.yaml (None: none);
    `matters_catalog.forms.matter_form` resolves the three levels.
    """

    form: FieldSet | None = None

    @field_validator("form")
    @classmethod
    def _empty_form_is_none(cls, value: FieldSet | None) -> FieldSet | None:
        # One spelling for "no override", so an empty one read back from a sheet compares equal.
        return None if value is not None and value.is_empty else value


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
