"""The shipped catalog: 179 valid matters, a used skill vocabulary, stable ids."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from matters_catalog.loader import EXPECTED_MATTER_COUNT, SHIPPED_DATA_DIR, Catalog, load_catalog
from matters_catalog.schema import DEPARTMENTS, DOCUMENT_TYPES, MODES
from matters_catalog.skills import assign_skills

# The public list the shipped catalog was built from (docs/catalog.md): every name must stay in it.
SEED = SHIPPED_DATA_DIR / "matters_seed.tsv"
DEPARTMENT_PREFIX = {
    "公安": "gaj",
    "民政": "mzj",
    "人社": "rsj",
    "医保": "ybj",
    "卫健": "wjw",
    "住建/房管": "fgj",
    "住房公积金": "gjj",
    "残联": "cl",
    "工会": "gh",
    "档案": "daj",
    "粮食": "lsj",
    "经信": "jxw",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_shipped_catalog_has_179_matters_in_at_least_10_departments(catalog: Catalog) -> None:
    assert len(catalog.matters) == EXPECTED_MATTER_COUNT == 179
    assert len(catalog.departments) >= 10
    assert catalog.version


def test_ids_are_unique_and_follow_the_department_prefix_convention(catalog: Catalog) -> None:
    ids = [matter.id for matter in catalog.matters]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for matter in catalog.matters:
        assert re.fullmatch(rf"{DEPARTMENT_PREFIX[matter.department]}-[a-z]{{1,4}}-\d{{2}}", matter.id), matter.id


def test_every_skill_is_used_and_every_matter_skill_is_known(catalog: Catalog) -> None:
    skill_ids = set(catalog.skill_ids)
    assert 15 <= len(skill_ids) <= 25
    assert {matter.skill for matter in catalog.matters} == skill_ids
    assert {skill.department for skill in catalog.skills} <= set(DEPARTMENTS)


def test_field_values_are_in_their_vocabularies(catalog: Catalog) -> None:
    for matter in catalog.matters:
        assert matter.mode in MODES
        assert matter.guide, matter.id
        assert all(item.document_type in DOCUMENT_TYPES for item in matter.materials)
    # Consultations need no paperwork, so at least some matters have no materials and some do.
    assert any(matter.materials for matter in catalog.matters)
    assert any(matter.mode == "consult" and not matter.materials for matter in catalog.matters)
    assert any(not matter.on_the_spot for matter in catalog.matters)


def test_every_seed_matter_is_in_the_catalog(catalog: Catalog) -> None:
    with SEED.open(encoding="utf-8") as handle:
        seed_names = {row["matter"] for row in csv.DictReader(handle, delimiter="\t")}
    assert len(seed_names) == 109
    assert seed_names - {matter.name for matter in catalog.matters} == set()


def test_lookup_and_display_order(catalog: Catalog) -> None:
    first = catalog.matters[0]
    assert catalog.by_id(first.id) is first
    assert catalog.by_id("no-such-matter") is None
    assert catalog.departments == [d for d in DEPARTMENTS if d in catalog.departments]
    ranks = [(DEPARTMENTS.index(m.department), m.id) for m in catalog.matters]
    assert ranks == sorted(ranks)


def test_every_data_file_is_one_department(catalog: Catalog) -> None:
    files = sorted(SHIPPED_DATA_DIR.glob("*.yaml"))
    assert len(files) == len(catalog.departments) + 3  # + catalog.yaml, skills.yaml and forms.yaml


@pytest.mark.parametrize(("caseworkers", "per_caseworker"), [(7, 3), (6, 4), (21, 1), (3, 9)])
def test_assign_skills_covers_the_vocabulary(catalog: Catalog, caseworkers: int, per_caseworker: int) -> None:
    assignments = assign_skills(catalog.skill_ids, caseworkers, per_caseworker)
    assert len(assignments) == caseworkers
    assert all(len(skills) == len(set(skills)) == per_caseworker for skills in assignments)
    covered = {skill for skills in assignments for skill in skills}
    assert covered == set(catalog.skill_ids)


def test_assign_skills_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        assign_skills(["a"], 2, 0)
