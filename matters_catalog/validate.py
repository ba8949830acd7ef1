"""Validate a catalog source (YAML data directory or CSV/XLSX spreadsheet) without loading it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matters_catalog.loader import CatalogError, load_catalog, load_skills
from matters_catalog.schema import FieldSet, Matter
from matters_catalog.spreadsheet import read_spreadsheet


def validate_catalog(path: Path | None = None) -> list[str]:
    """Every error in the catalog at `path` (default: the shipped one); empty when valid.

    A directory is read as a YAML catalog; a .csv/.xlsx file as the district's spreadsheet,
    checked against the shipped skill vocabulary. Only the shipped catalog must hold 179 matters.
    """
    return read_source(path)[1]


def read_source(path: Path | None = None, *,
                current_forms: Mapping[str, FieldSet] | None = None) -> tuple[list[Matter], list[str]]:
    """(matters, errors) from a catalog directory or spreadsheet; matters are empty on errors.

    `current_forms` (matter id → its form level in the database) fills the form columns a
    spreadsheet does not have; a directory's forms come from its own forms.yaml."""
    if path is not None and not path.is_dir():
        try:
            skills = load_skills()
        except CatalogError as exc:
            return [], exc.errors
        matters, errors = read_spreadsheet(path, skills, current_forms=current_forms)
        return ([] if errors else matters), errors
    try:
        return load_catalog(path).matters, []
    except CatalogError as exc:
        return [], exc.errors


def summary(matters: Sequence[Matter]) -> str:
    """The one-line summary printed for a valid catalog: `179 matters, 12 departments`."""
    departments = {matter.department for matter in matters}
    return f"{len(matters)} matters, {len(departments)} departments"
