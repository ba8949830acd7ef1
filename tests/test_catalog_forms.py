"""A matter's own application-form level in the catalog spreadsheet: the three optional columns
(`form_fields`, `form_omit`, `signature_required`), every refusal with its row and column, export →
import as a no-op, a sheet without the columns keeping the database's forms, the migration that moves
forms.yaml's `matters:` section into the matter rows, and an imported form reaching the console's
call and the signature gate on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

import server.catalog.service
from matters_catalog.cells import guard_formula, unguard_formula
from matters_catalog.form_cells import FORM_COLUMNS, format_form_cells, parse_form_cells
from matters_catalog.forms import matter_form, parse_forms, shipped_forms
from matters_catalog.loader import load_catalog, load_skills
from matters_catalog.schema import FieldSet, FormField
from matters_catalog.spreadsheet import COLUMNS, OPTIONAL_COLUMNS, parse_rows, read_spreadsheet, write_csv
from server.db.engine import make_engine
from server.db.migrate import upgrade_database
from tests.protocol_client import Env
from tests.test_acceptance_forms import CONSENT, values
from tests.test_acceptance_signature import sign
from tests.test_capture_support import MATTER, Client, capture_env, into_call
from tests.test_capture_support import made as made
from tests.test_catalog_cli import _counts, run
from tests.test_catalog_cli import database as database

HEADER = list(COLUMNS + OPTIONAL_COLUMNS)
COLUMN = {name: i for i, name in enumerate(HEADER)}
NEW_FIELD = "紧急联系人电话[emergency_phone:phone:required]"


def shipped_rows() -> list[list[str]]:
    buffer = io.StringIO()
    write_csv(load_catalog().matters, buffer)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def row_of(rows: list[list[str]], matter_id: str) -> int:
    return next(i for i, row in enumerate(rows) if row[0] == matter_id)


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


# --- the notation -------------------------------------------------------------------------------

def test_every_spelling_of_the_notation_and_its_round_trip() -> None:
    form, errors = parse_form_cells({
        "form_fields": "领卡方式[card_delivery:choice:required:中心领取|邮寄到家]; 备注[note:text]；"
                       "出生日期 [ birth：date：required ]; 取件方式[pickup:choice:本人｜代办]",
        "form_omit": "address; phone",
        "signature_required": "是"}, "第 2 行")
    assert errors == [] and form is not None
    assert form.fields == [
        FormField(key="card_delivery", label="领卡方式", type="choice", required=True,
                  choices=["中心领取", "邮寄到家"]),
        FormField(key="note", label="备注", type="text"),
        FormField(key="birth", label="出生日期", type="date", required=True),
        FormField(key="pickup", label="取件方式", type="choice", choices=["本人", "代办"]),
    ]
    assert form.omit == ["address", "phone"] and form.signature_required is True
    cells = format_form_cells(form)
    assert cells == ["领卡方式[card_delivery:choice:required:中心领取|邮寄到家]; 备注[note:text]; "
                     "出生日期[birth:date:required]; 取件方式[pickup:choice:本人|代办]", "address; phone", "true"]
    assert parse_form_cells(dict(zip(FORM_COLUMNS, cells, strict=True)), "x") == (form, [])
    for text, flag in (("false", False), ("否", False), ("TRUE", True), ("", None)):
        assert parse_form_cells({"signature_required": text}, "x")[0] == FieldSet(signature_required=flag)


@pytest.mark.parametrize("column, cell, expected", [
    ("form_fields", "领卡方式[Card-Delivery:text]", "申请表字段（form_fields）的键“Card-Delivery”格式无效"),
    ("form_fields", "备注[note:colour]", "申请表字段（form_fields）“备注”的类型“colour”无效"),
    ("form_fields", "备注[note:text:甲|乙]", "申请表字段（form_fields）“备注”不是 choice 类型，不能列出选项"),
    ("form_fields", "方式[way:choice:required]", "申请表字段（form_fields）“方式”是 choice 类型，必须列出选项"),
    ("form_fields", "方式[way:choice:required:]", "申请表字段（form_fields）“方式”是 choice 类型，必须列出选项"),
    ("form_fields", "甲[a:text]; 乙[a:date]", "申请表字段（form_fields）的键 a 重复"),
    ("form_fields", "长" * 41 + "[a:text]", "的标签过长（最多 40 个字符）"),
    ("form_fields", "方式[way:choice:甲||乙]", "“方式”的选项“”无效"),
    ("form_fields", "备注", "申请表字段（form_fields）的“备注”格式应为"),
    ("form_fields", "备注[note]", "申请表字段（form_fields）的“备注[note]”格式应为"),
    ("form_fields", "备注[note:text:optional:x]", "格式应为"),
    ("form_omit", "Phone", "申请表省略字段（form_omit）的键“Phone”格式无效"),
    ("form_omit", "phone; phone", "申请表省略字段（form_omit）的键 phone 重复"),
    ("form_omit", "nickname", "申请表省略字段（form_omit）中的 nickname 不是从默认表或部门表继承的字段"),
    ("signature_required", "也许", "是否需要签名（signature_required）应为 true/false（或 是/否），实际为“也许”"),
])
def test_each_bad_cell_is_refused_with_its_row_and_column(column: str, cell: str, expected: str) -> None:
    rows = shipped_rows()
    index = row_of(rows, MATTER)
    rows[index][COLUMN[column]] = cell
    matters, errors = parse_rows(rows, load_skills())
    assert MATTER not in {m.id for m in matters}
    assert errors == [f"第 {index + 1} 行：" + errors[0].split("：", 1)[1]], errors
    assert expected in errors[0], errors


def test_omit_may_drop_what_the_default_and_department_sets_give() -> None:
    rows = shipped_rows()
    index = row_of(rows, MATTER)
    rows[index][COLUMN["form_omit"]] = "address; birth_date"  # "*" and 公安 keys
    matters, errors = parse_rows(rows, load_skills())
    assert errors == []
    matter = next(m for m in matters if m.id == MATTER)
    assert [f.key for f in matter_form(matter).fields] == ["name", "id_number", "phone", "card_delivery"]


def test_a_sheet_without_the_form_columns_is_valid_and_can_keep_the_current_forms() -> None:
    rows = [row[: len(COLUMNS)] for row in shipped_rows()]
    matters, errors = parse_rows(rows, load_skills())
    assert errors == [] and len(matters) == 179 and all(m.form is None for m in matters)
    shipped = {m.id: m.form for m in load_catalog().matters if m.form}
    kept, errors = parse_rows(rows, load_skills(), current_forms=shipped)
    assert errors == [] and kept == load_catalog().matters


def test_the_shipped_catalog_exports_its_matter_forms_and_reads_back_equal() -> None:
    rows = shipped_rows()
    assert rows[0] == HEADER
    assert rows[row_of(rows, MATTER)][COLUMN["form_fields"]] == (
        "领卡方式[card_delivery:choice:required:社区事务受理服务中心领取|邮寄到家]")
    matters, errors = parse_rows(rows, load_skills())
    assert errors == [] and matters == load_catalog().matters


def test_signature_required_follows_the_most_specific_level() -> None:
    catalog = load_catalog()
    police = catalog.by_id(MATTER)
    civil = next(m for m in catalog.matters if m.department == "民政")
    assert police is not None and police.form is not None
    assert not matter_form(police).signature_required and matter_form(civil).signature_required
    signing = police.model_copy(update={"form": police.form.model_copy(update={"signature_required": True})})
    assert matter_form(signing).signature_required
    unsigned = civil.model_copy(update={"form": FieldSet(signature_required=False)})
    assert not matter_form(unsigned).signature_required
    everything_dropped = civil.model_copy(update={"form": FieldSet(
        omit=[f.key for f in matter_form(civil, shipped_forms()).fields])})
    assert matter_form(everything_dropped).fields == []
    assert not matter_form(everything_dropped).signature_required  # no form, nothing to sign


# --- import and export through the database -------------------------------------------------------

def test_a_changed_form_is_a_changed_matter_and_export_import_is_a_no_op(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = tmp_path / "shipped.csv"
    assert run("catalog", "export", "--format", "csv", "--source", "files", "--output", str(shipped)) == 0
    assert run("catalog", "import", str(shipped), "--apply", "--version", "2026.1") == 0
    rows = read_rows(shipped)
    index = row_of(rows, MATTER)
    rows[index][COLUMN["form_fields"]] += "; " + NEW_FIELD
    rows[index][COLUMN["signature_required"]] = "是"
    capsys.readouterr()
    assert run("catalog", "import", str(write_rows(tmp_path / "edited.csv", rows)), "--apply") == 0
    out = capsys.readouterr().out
    assert f"修改 1 项：{MATTER}" in out and "新增" not in out and "停用" not in out, out
    version = _counts(database)[2]
    assert version is not None and version.startswith("import-")

    exported = tmp_path / "from-db.csv"
    assert run("catalog", "export", "--format", "csv", "--source", "db", "--output", str(exported)) == 0
    back = read_rows(exported)
    assert back[row_of(back, MATTER)][COLUMN["form_fields"]].endswith(NEW_FIELD)
    assert back[row_of(back, MATTER)][COLUMN["signature_required"]] == "true"
    capsys.readouterr()
    assert run("catalog", "import", str(exported), "--apply") == 0
    assert "没有变化" in capsys.readouterr().out
    assert _counts(database)[2] == version  # unchanged catalog, unchanged version

    # An old sheet without the form columns leaves the imported forms alone.
    old = write_rows(tmp_path / "old.csv", [row[: len(COLUMNS)] for row in back])
    assert run("catalog", "import", str(old), "--apply") == 0
    assert "没有变化" in capsys.readouterr().out


def test_a_bad_form_cell_writes_nothing(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = shipped_rows()
    rows[row_of(rows, MATTER)][COLUMN["form_fields"]] = "方式[way:choice]"
    rows[3][COLUMN["signature_required"]] = "maybe"
    assert run("catalog", "import", str(write_rows(tmp_path / "bad.csv", rows)), "--apply") == 1
    err = capsys.readouterr().err
    assert "2 处错误" in err and "第 4 行" in err and "signature_required" in err and "form_fields" in err
    assert _counts(database) == (0, 0, None)


async def test_the_migration_moves_the_shipped_matter_forms_into_the_rows(database_url: str) -> None:
    await upgrade_database(database_url, "0014_followup_phones")
    engine = make_engine(database_url)
    matter = {"id": MATTER, "name": "敬老卡", "department": "公安", "category": "证明", "mode": "both",
              "on_the_spot": False, "typical_minutes": 15, "skill": "police-general", "guide": "", "materials": []}
    columns = ", ".join(k for k in matter if k != "materials")
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                f"INSERT INTO matters ({columns}, retired, updated_at) VALUES "
                f"({', '.join(':' + k for k in matter if k != 'materials')}, false, CURRENT_TIMESTAMP)"),
                {k: v for k, v in matter.items() if k != "materials"})
            await conn.execute(sa.text(
                "INSERT INTO catalog_versions (version, created_at, actor, note, matters) "
                "VALUES ('v1', CURRENT_TIMESTAMP, 'system', '', :matters)").bindparams(
                sa.bindparam("matters", type_=sa.JSON)), {"matters": [matter]})
        await upgrade_database(database_url)
        async with engine.connect() as conn:
            form = (await conn.execute(sa.select(sa.column("form", sa.JSON)).select_from(
                sa.table("matters")))).scalar_one()
            stored = (await conn.execute(sa.select(sa.column("matters", sa.JSON)).select_from(
                sa.table("catalog_versions")))).scalar_one()
    finally:
        await engine.dispose()
    expected = shipped_forms().matters[MATTER].model_dump(mode="json")
    assert form == expected and stored[0]["form"] == expected


# --- an imported form in the running server --------------------------------------------------------

async def test_an_imported_form_reaches_the_console_and_the_signature_gate(
        tmp_path: Path, database_url: str, made: list[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    async with capture_env(tmp_path, DATABASE_URL=database_url) as env:
        call = await _call_form(env, made)  # before the import: the shipped form, no signature needed
        assert [f["key"] for f in call["form"]][-1] == "card_delivery"
        await _import_new_field(tmp_path, database_url, monkeypatch)
        # Every process notices a changed catalog version at its next check; make that now.
        monkeypatch.setattr(server.catalog.service, "VERSION_CHECK_INTERVAL_S", 0.0)
        kiosk, cw, call_id = await into_call(env, made, kiosk_n=1, consent=CONSENT)
        form = (await cw.connect())["state"]["call"]["form"]
        assert form[-1] == {"key": "emergency_phone", "label": "紧急联系人电话", "type": "phone", "required": True,
                            "choices": []}, form
        missing = await cw.request({"type": "form_send", "call_id": call_id, "values": values()})
        assert missing["code"] == "form_field_missing" and "紧急联系人电话" in missing["message"], missing
        sent = await cw.request({"type": "form_send", "call_id": call_id,
                                 "values": values(emergency_phone="13900000000")})
        assert sent["type"] == "ok", sent
        await kiosk.expect("form")
        assert (await kiosk.request({"type": "form_reply", "call_id": call_id, "version": 1,
                                     "choice": "confirmed"}))["type"] == "ok"
        refused = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"})
        assert refused["code"] == "signature_required", refused  # the imported signature_required
        assert (await sign(kiosk, call_id))[0] == 201
        ended = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted"})
        assert ended["type"] == "ok", ended


async def _call_form(env: Env, made: list[Client]) -> dict[str, Any]:
    _kiosk, cw, call_id = await into_call(env, made, consent=CONSENT)
    call: dict[str, Any] = (await cw.connect())["state"]["call"]
    assert (await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "answered"}))["type"] == "ok"
    return call


async def _import_new_field(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`jinglin catalog export` then `import --apply` of the sheet with a field and a signature added."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    sheet = tmp_path / "catalog.csv"
    assert await asyncio.to_thread(run, "catalog", "export", "--format", "csv", "--output", str(sheet)) == 0
    rows = read_rows(sheet)
    index = row_of(rows, MATTER)
    rows[index][COLUMN["form_fields"]] += "; " + NEW_FIELD
    rows[index][COLUMN["signature_required"]] = "true"
    assert await asyncio.to_thread(run, "catalog", "import", str(write_rows(sheet, rows)), "--apply") == 0


def test_the_examples_of_the_docs_are_valid() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "catalog.md").read_text(encoding="utf-8")
    book = yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert parse_forms(book, load_catalog().matters)[1] == []
    block = text.split("```\nid,name,department", 1)[1].split("```", 1)[0]
    rows = list(csv.reader(io.StringIO("id,name,department" + block)))
    matters, errors = parse_rows(rows, load_skills())
    assert errors == [] and len(matters) == 2
    form = matter_form(matters[0])
    assert [f.key for f in form.fields] == ["name", "id_number", "phone", "birth_date", "card_delivery",
                                            "emergency_phone"]
    assert form.signature_required and matters[1].form is None


def test_a_matter_name_like_a_formula_is_exported_as_text_and_imports_back(tmp_path: Path) -> None:
    """`=HYPERLINK(...)` as a name would run in a spreadsheet: the export prefixes it with `'`,
    which the import takes off again."""
    catalog = load_catalog()
    first = catalog.matters[0].model_copy(update={"name": '=HYPERLINK("http://e.vil/","x")'})
    buffer = io.StringIO()
    write_csv([first, *catalog.matters[1:]], buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[1][COLUMN["name"]] == "'" + first.name
    path = tmp_path / "catalog.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    matters, errors = read_spreadsheet(path, catalog.skills)
    assert errors == [] and matters[0].name == first.name
    assert guard_formula("-5号") == "'-5号" and unguard_formula("'-5号") == "-5号"
    assert unguard_formula("'静安") == "'静安" and guard_formula("静安") == "静安"
    for text in ("'-5", "''=x", "'静安", "-", "=1+1", "@a", "静安"):
        assert unguard_formula(guard_formula(text)) == text, text
