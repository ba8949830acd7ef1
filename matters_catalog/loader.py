"""Load the catalog from its YAML data directory into a validated, immutable `Catalog`.

Layout of a data directory (the shipped one is `matters_catalog/data/`):
  catalog.yaml   version string and the department files, in display order
  skills.yaml    the skill vocabulary
  <dept>.yaml    `department:` and its `matters:` list, one file per department
  forms.yaml     application forms (optional); its `matters:` overrides become the matters' `form`
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from matters_catalog import messages as msg
from matters_catalog.forms import FORMS_FILE, attach_overrides, load_forms
from matters_catalog.rules import CatalogError, check_matters, check_skills, parse_matter, parse_skill
from matters_catalog.schema import Matter, Skill, department_rank

SHIPPED_DATA_DIR: Final[Path] = Path(__file__).resolve().parent / "data"
# The shipped catalog is the 179 matters of the district (docs/measurements.md); other catalogs may hold any number.
EXPECTED_MATTER_COUNT: Final[int] = 179
CATALOG_FILE: Final[str] = "catalog.yaml"
SKILLS_FILE: Final[str] = "skills.yaml"

__all__ = ["EXPECTED_MATTER_COUNT", "SHIPPED_DATA_DIR", "Catalog", "CatalogError", "load_catalog", "load_skills"]


@dataclass(frozen=True)
class Catalog:
    """A validated catalog: its version, matters in display order, and the skill vocabulary."""

    version: str
    matters: list[Matter]
    skills: list[Skill]
    _by_id: dict[str, Matter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {matter.id: matter for matter in self.matters})

    def by_id(self, matter_id: str) -> Matter | None:
        """The matter with this id, or None."""
        return self._by_id.get(matter_id)

    @property
    def departments(self) -> list[str]:
        """Departments that have matters, in the fixed display order."""
        return sorted({matter.department for matter in self.matters}, key=department_rank)

    @property
    def skill_ids(self) -> list[str]:
        """Skill ids in vocabulary order."""
        return [skill.id for skill in self.skills]


def canonical_order(matters: Iterable[Matter]) -> list[Matter]:
    """Display order used everywhere (files, database, exports): department order, then id."""
    return sorted(matters, key=lambda matter: (department_rank(matter.department), matter.id))


def is_shipped(path: Path | None) -> bool:
    """True when `path` designates the catalog shipped with the product."""
    return path is None or path.resolve() == SHIPPED_DATA_DIR


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a catalog directory (default: the shipped one).

    Raises CatalogError listing every problem. Only the shipped catalog must hold exactly
    EXPECTED_MATTER_COUNT matters.
    """
    directory = SHIPPED_DATA_DIR if path is None else path
    errors: list[str] = []
    meta = _read_mapping(directory / CATALOG_FILE, errors)
    skills, skill_errors = _skills_from(directory / SKILLS_FILE)
    errors.extend(skill_errors)
    version = str(meta.get("version") or "").strip()
    if meta and not version:
        errors.append(msg.MISSING_FIELD.format(where=CATALOG_FILE, label=msg.FIELD_LABELS["version"], field="version"))
    files = meta.get("files", [])
    if not isinstance(files, list):
        errors.append(msg.NOT_A_LIST.format(where=CATALOG_FILE, label=msg.FIELD_LABELS["files"]))
        files = []
    located: list[tuple[str, Matter]] = []
    record_count = 0
    for name in files:
        count, file_located, file_errors = _matters_from(directory / str(name))
        record_count += count
        located.extend(file_located)
        errors.extend(file_errors)
    listed = {str(name) for name in files} | {CATALOG_FILE, SKILLS_FILE, FORMS_FILE}
    errors.extend(
        msg.UNLISTED_FILE.format(path=extra.name)
        for extra in sorted(directory.glob("*.yaml"))
        if meta and extra.name not in listed
    )
    errors.extend(
        check_matters(
            located,
            skills,
            expected_count=EXPECTED_MATTER_COUNT if is_shipped(path) else None,
            require_all_skills_used=True,
            record_count=record_count,
        )
    )
    book, form_errors = load_forms(directory, (m for _, m in located))
    errors.extend(form_errors)
    if errors or book is None:
        raise CatalogError(errors)
    matters = attach_overrides((m for _, m in located), book)
    return Catalog(version=version, matters=canonical_order(matters), skills=skills)


def load_skills(path: Path | None = None) -> list[Skill]:
    """The skill vocabulary of a data directory (default: shipped); raises CatalogError."""
    skills, errors = _skills_from((SHIPPED_DATA_DIR if path is None else path) / SKILLS_FILE)
    if errors:
        raise CatalogError(errors)
    return skills


def _skills_from(path: Path) -> tuple[list[Skill], list[str]]:
    errors: list[str] = []
    data = _read_mapping(path, errors)
    records = _list_field(data, "skills", path.name, errors)
    located: list[tuple[str, Skill]] = []
    for index, record in enumerate(records, start=1):
        where = msg.SKILL_ITEM.format(path=path.name, index=index)
        skill, record_errors = parse_skill(record, where)
        errors.extend(record_errors)
        if skill is not None:
            located.append((where, skill))
    errors.extend(check_skills(located))
    return [skill for _, skill in located], errors


def _matters_from(path: Path) -> tuple[int, list[tuple[str, Matter]], list[str]]:
    """Parse one department file: (record count, located matters, errors)."""
    errors: list[str] = []
    data = _read_mapping(path, errors)
    records = _list_field(data, "matters", path.name, errors)
    # The department is stated once per file; a matter repeating it must agree.
    department = data.get("department")
    located: list[tuple[str, Matter]] = []
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            errors.append(msg.BAD_VALUE.format(where=f"{path.name} 第 {index} 项", label="事项", value=record))
            continue
        where = msg.ITEM.format(path=path.name, index=index, id=record.get("id", "?"))
        if record.get("department", department) != department:
            errors.append(msg.BAD_VALUE.format(where=where, label="部门", value=record["department"]))
            continue
        matter, record_errors = parse_matter({"department": department, **record}, where)
        errors.extend(record_errors)
        if matter is not None:
            located.append((where, matter))
    return len(records), located, errors


def _read_mapping(path: Path, errors: list[str]) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.append(msg.MISSING_FILE.format(path=path.name))
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        errors.append(msg.BAD_YAML.format(path=path.name, detail=str(exc).splitlines()[0]))
        return {}
    if not isinstance(data, dict):
        errors.append(msg.NOT_A_MAPPING.format(path=path.name))
        return {}
    return data


def _list_field(data: dict[str, Any], key: str, where: str, errors: list[str]) -> Sequence[Any]:
    value = data.get(key, [])
    if isinstance(value, list):
        return value
    errors.append(msg.NOT_A_LIST.format(where=where, label=msg.FIELD_LABELS.get(key, key)))
    return []
