"""Validation reports every error at once, for YAML catalogs and spreadsheets."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
import yaml

from matters_catalog.loader import SHIPPED_DATA_DIR, CatalogError, load_catalog, load_skills
from matters_catalog.spreadsheet import COLUMNS, format_materials, parse_materials, parse_rows, write_csv
from matters_catalog.validate import read_source, summary, validate_catalog


def test_shipped_catalog_is_valid() -> None:
    assert validate_catalog() == []
    assert validate_catalog(SHIPPED_DATA_DIR) == []
    assert summary(read_source()[0]) == "179 matters, 12 departments"


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalog with four different mistakes in the police file."""
    target = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA_DIR, target)
    police = target / "police.yaml"
    data = yaml.safe_load(police.read_text(encoding="utf-8"))
    matters = data["matters"]
    matters[1]["id"] = matters[0]["id"]  # duplicate id
    matters[2]["skill"] = "no-such-skill"  # unknown skill
    matters[3]["materials"] = [{"name": "护照", "capture": True, "document_type": "passport"}]
    del matters[4]["typical_minutes"]  # missing field
    police.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_every_error_is_listed(broken_dir: Path) -> None:
    errors = validate_catalog(broken_dir)
    assert len(errors) == 4, errors
    joined = "\n".join(errors)
    assert "重复" in joined and "no-such-skill" in joined and "passport" in joined and "typical_minutes" in joined
    with pytest.raises(CatalogError) as caught:
        load_catalog(broken_dir)
    assert caught.value.errors == errors


def test_unknown_department_and_unlisted_file(tmp_path: Path) -> None:
    target = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA_DIR, target)
    grain = target / "grain.yaml"
    grain.write_text(grain.read_text(encoding="utf-8").replace('department: "粮食"', 'department: "外星"'), "utf-8")
    (target / "stray.yaml").write_text("department: 公安\nmatters: []\n", encoding="utf-8")
    errors = validate_catalog(target)
    assert sum("未知部门" in e for e in errors) == 2  # both grain matters
    assert any("stray.yaml" in e for e in errors)
    # Both grain matters fail, so the grain skill is no longer used either.
    assert any("grain" in e and "没有任何事项使用" in e for e in errors)


def test_count_is_only_enforced_for_the_shipped_catalog(tmp_path: Path) -> None:
    target = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA_DIR, target)
    archives = target / "archives.yaml"
    data = yaml.safe_load(archives.read_text(encoding="utf-8"))
    data["matters"] = data["matters"][:1]
    archives.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert validate_catalog(target) == []
    assert len(load_catalog(target).matters) == 160


def _rows() -> list[list[str]]:
    buffer = io.StringIO()
    write_csv(load_catalog().matters, buffer)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def test_spreadsheet_errors_name_their_rows() -> None:
    rows = _rows()
    column = {name: i for i, name in enumerate(COLUMNS)}
    rows[3][column["id"]] = rows[2][column["id"]]  # row 4 duplicates row 3
    rows[5][column["department"]] = "外星"  # row 6
    rows[7][column["materials"]] = "身份证[capture:passport]; 申请表"  # row 8: two bad items
    rows[9][column["on_the_spot"]] = "也许"  # row 10
    rows[11][column["typical_minutes"]] = "很快"  # row 12
    _, errors = parse_rows(rows, load_skills())
    assert [e.split("：")[0].split(" 材料")[0] for e in errors] == [
        "第 6 行",
        "第 8 行",
        "第 8 行",
        "第 10 行",
        "第 12 行",
        "第 4 行",
    ], errors


def test_spreadsheet_header_problems() -> None:
    rows = _rows()
    rows[0] = ["备注" if cell == "materials" else cell for cell in rows[0]]
    matters, errors = parse_rows(rows, load_skills())
    assert matters == []
    assert errors == ["表头缺少列：materials", "表头有未知列：备注"]
    assert parse_rows([], load_skills())[1] == ["表格为空（没有表头）"]


def test_chinese_spellings_are_accepted_in_spreadsheets() -> None:
    rows = _rows()
    column = {name: i for i, name in enumerate(COLUMNS)}
    rows[1][column["mode"]] = "咨询"
    rows[1][column["on_the_spot"]] = "否"
    matters, errors = parse_rows(rows, load_skills())
    assert errors == []
    assert matters[0].mode == "consult" and matters[0].on_the_spot is False


def test_materials_cell_round_trip() -> None:
    text = "身份证原件[capture:id_card]; 申请表[form]；户口簿 [ capture: household_register ]"
    records, errors = parse_materials(text, "第 2 行")
    assert errors == []
    assert [(r["name"], r["capture"], r["document_type"]) for r in records] == [
        ("身份证原件", True, "id_card"),
        ("申请表", False, "form"),
        ("户口簿", True, "household_register"),
    ]
    matter = load_catalog().matters[0]
    assert parse_materials(format_materials(matter.materials), "x")[0] == [m.model_dump() for m in matter.materials]


def test_invisible_characters_are_refused_on_input_only() -> None:
    """A name with a character no reader sees is an error of the sheet, the files or an edit, but a
    catalog read back from the database or a stored version (a row kept before the rule) loads."""
    from matters_catalog.rules import parse_matter
    from matters_catalog.schema import Matter

    record = load_catalog().matters[0].model_dump()
    hidden = {**record, "name": record["name"][:2] + "\u202e" + record["name"][2:],
              "guide": "第一行\n第二\u200b行"}
    matter, errors = parse_matter(hidden, "第 2 行")
    assert matter is None and any("看不见的字符" in e for e in errors), errors
    stored = Matter.model_validate(hidden)
    assert stored.name == hidden["name"] and stored.guide == hidden["guide"]
    cleaned, errors = parse_matter({**hidden, "name": record["name"]}, "第 2 行")
    assert not errors and cleaned is not None and cleaned.guide == "第一行\n第二行"
