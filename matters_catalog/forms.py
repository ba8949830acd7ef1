"""Application forms of the catalog's matters (同屏确认): a "*" default field set, per-department sets
and per-matter overrides, read from `forms.yaml` next to the catalog (docs/catalog.md).

A matter's form is the default set, then its department's fields, then its own: a later field with
the same key replaces the earlier one in place, a new key is appended, and `omit` drops a key.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from matters_catalog.schema import DEPARTMENTS, Matter

FORMS_FILE: Final[str] = "forms.yaml"
DEFAULT_SET: Final[str] = "*"
FieldType = Literal["text", "date", "id_number", "phone", "choice", "address"]
_KEY = r"^[a-z][a-z0-9_]*$"


class FormField(BaseModel):
    """One field of an application form as the console fills it and the kiosk shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: Annotated[str, StringConstraints(pattern=_KEY, max_length=40)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    type: FieldType
    required: bool = False
    choices: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=30)

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> FormField:
        # A choice without choices cannot be filled; choices on another type would be ignored silently.
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("choices are required for type choice and allowed only there")
        return self


class FieldSet(BaseModel):
    """The fields a level adds or replaces, and the keys it drops."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    fields: list[FormField] = Field(default_factory=list, max_length=40)
    omit: list[str] = Field(default_factory=list)
    # Whether 受理 needs the resident's signature on the confirmed form; unset inherits the level above.
    signature_required: bool | None = None

    @model_validator(mode="after")
    def _unique_keys(self) -> FieldSet:
        keys = [f.key for f in self.fields]
        if len(keys) != len(set(keys)):
            raise ValueError("a field key appears twice")
        return self


class FormBook(BaseModel):
    """Every field set of `forms.yaml`; `form_for` gives a matter's resolved form."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    departments: dict[str, FieldSet] = Field(default_factory=dict)
    matters: dict[str, FieldSet] = Field(default_factory=dict)

    def form_for(self, matter: Matter) -> list[FormField]:
        """The matter's fields: default set, then its department's, then its own overrides."""
        resolved: dict[str, FormField] = {}
        for level in (self.departments.get(DEFAULT_SET), self.departments.get(matter.department),
                      self.matters.get(matter.id)):
            if level is None:
                continue
            for key in level.omit:
                resolved.pop(key, None)
            for field in level.fields:
                resolved[field.key] = field  # dict keeps the first position of a replaced key
        return list(resolved.values())

    def signature_required(self, matter: Matter) -> bool:
        """Whether 受理 of the matter needs a signed form: the most specific level that says so
        (matter, then department, then the "*" set); false when none does or the matter has no form."""
        if not self.form_for(matter):
            return False
        required = False
        for level in (self.departments.get(DEFAULT_SET), self.departments.get(matter.department),
                      self.matters.get(matter.id)):
            if level is not None and level.signature_required is not None:
                required = level.signature_required
        return required


def parse_forms(data: Any, matters: Iterable[Matter]) -> tuple[FormBook | None, list[str]]:
    """(book, errors) from the parsed YAML: unknown departments or matters are errors too."""
    try:
        book = FormBook.model_validate(data)
    except ValidationError as exc:
        return None, [f"{FORMS_FILE}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    errors = [f"{FORMS_FILE}: departments.{name}: 未知部门" for name in book.departments
              if name != DEFAULT_SET and name not in DEPARTMENTS]
    known = {matter.id for matter in matters}
    errors += [f"{FORMS_FILE}: matters.{matter_id}: 目录中没有这个事项" for matter_id in book.matters
               if matter_id not in known]
    return (None if errors else book), errors


def load_forms(directory: Path, matters: Iterable[Matter]) -> tuple[FormBook | None, list[str]]:
    """The form book of a catalog directory (an empty book when it has no forms.yaml), and its errors."""
    path = directory / FORMS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FormBook(version="none"), []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [f"{FORMS_FILE}: {str(exc).splitlines()[0]}"]
    return parse_forms(data, matters)



@functools.cache
def shipped_forms() -> FormBook:
    """The form book shipped with the product (read once; `jinglin catalog validate` checks it)."""
    from matters_catalog.loader import SHIPPED_DATA_DIR, load_catalog  # the loader imports this module

    book, errors = load_forms(SHIPPED_DATA_DIR, load_catalog().matters)
    if book is None:
        raise ValueError("; ".join(errors))
    return book
