"""Application forms of the catalog's matters (同屏确认): a "*" default field set and per-department
sets read from `forms.yaml` next to the catalog, and each matter's own override (`Matter.form`, from
the same file's `matters:` section or the spreadsheet's form columns; docs/catalog.md).

A matter's form is the default set, then its department's fields, then its own: a later field with
the same key replaces the earlier one in place, a new key is appended, and `omit` drops a key.
`matter_form` is the one place that resolves it; every reader (the console's call view, the form
step, the signature gate) goes through it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from matters_catalog import messages as msg
from matters_catalog.schema import DEPARTMENTS, FieldSet, FormField, Matter

__all__ = ["DEFAULT_SET", "FORMS_FILE", "FieldSet", "FormBook", "FormField", "MatterForm", "attach_overrides",
           "inherited_keys", "load_forms", "matter_form", "omit_errors", "parse_forms", "shipped_forms"]

FORMS_FILE: Final[str] = "forms.yaml"
DEFAULT_SET: Final[str] = "*"


class FormBook(BaseModel):
    """Every field set of a `forms.yaml`: the department levels, and the matter overrides that loading
    a catalog directory attaches to its matters (`attach_overrides`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    departments: dict[str, FieldSet] = Field(default_factory=dict)
    matters: dict[str, FieldSet] = Field(default_factory=dict)

    def _levels(self, matter: Matter) -> list[FieldSet]:
        return [level for level in (self.departments.get(DEFAULT_SET), self.departments.get(matter.department))
                if level is not None]


@dataclass(frozen=True)
class MatterForm:
    """A matter's resolved application form: its fields in form order, and whether 受理 needs a signature."""

    fields: list[FormField]
    signature_required: bool


def _resolve(levels: Iterable[FieldSet]) -> dict[str, FormField]:
    resolved: dict[str, FormField] = {}
    for level in levels:
        for key in level.omit:
            resolved.pop(key, None)
        for field in level.fields:
            resolved[field.key] = field  # dict keeps the first position of a replaced key
    return resolved


def matter_form(matter: Matter, book: FormBook | None = None) -> MatterForm:
    """The matter's form: the "*" set and its department's set of `book` (default: the shipped
    forms.yaml), then the matter's own override. `signature_required` is the most specific level that
    sets it (matter, then department, then "*"); false when none does or the form has no fields."""
    levels = (shipped_forms() if book is None else book)._levels(matter) + ([matter.form] if matter.form else [])
    fields = list(_resolve(levels).values())
    required = False
    for level in levels:
        if level.signature_required is not None:
            required = level.signature_required
    return MatterForm(fields=fields, signature_required=required and bool(fields))


def inherited_keys(matter: Matter, book: FormBook | None = None) -> list[str]:
    """The field keys a matter inherits from the "*" and department sets: what its `omit` may drop."""
    return list(_resolve((shipped_forms() if book is None else book)._levels(matter)))


def omit_errors(matter: Matter, where: str, book: FormBook | None = None, column: str = "omit") -> list[str]:
    """One error per key of the matter's `omit` that it does not inherit (a typo would drop nothing);
    `column` names where the keys were written."""
    if matter.form is None or not matter.form.omit:
        return []
    inherited = inherited_keys(matter, book)
    return [msg.OMIT_NOT_INHERITED.format(where=where, column=column, key=key, keys=", ".join(inherited) or "—")
            for key in matter.form.omit if key not in inherited]


def attach_overrides(matters: Iterable[Matter], book: FormBook) -> list[Matter]:
    """The matters with the book's `matters:` overrides as their own form level."""
    overrides = {matter_id: level for matter_id, level in book.matters.items() if not level.is_empty}
    return [matter.model_copy(update={"form": overrides[matter.id]}) if matter.id in overrides else matter
            for matter in matters]


def parse_forms(data: Any, matters: Iterable[Matter]) -> tuple[FormBook | None, list[str]]:
    """(book, errors) from the parsed YAML: unknown departments or matters, and matter-level omissions
    of keys not inherited, are errors too."""
    try:
        book = FormBook.model_validate(data)
    except ValidationError as exc:
        return None, [f"{FORMS_FILE}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    errors = [f"{FORMS_FILE}: departments.{name}: 未知部门" for name in book.departments
              if name != DEFAULT_SET and name not in DEPARTMENTS]
    by_id = {matter.id: matter for matter in matters}
    errors += [f"{FORMS_FILE}: matters.{matter_id}: 目录中没有这个事项" for matter_id in book.matters
               if matter_id not in by_id]
    for matter in attach_overrides((by_id[i] for i in book.matters if i in by_id), book):
        errors += omit_errors(matter, f"{FORMS_FILE}: matters.{matter.id}", book)
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
