"""`jinglin catalog ...` through a parser built here (server/cli.py is not needed)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import func, select

from matters_catalog.loader import SHIPPED_DATA_DIR, load_catalog
from server.catalog.cli import register
from server.catalog.db_sync import read_catalog_version
from server.db import models
from server.db.engine import make_engine, make_session_factory
from tests.test_catalog_db_sync import create_tables


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="jinglin")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


def test_validate_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("catalog", "validate") == 0
    assert capsys.readouterr().out == "179 matters, 12 departments\n"


def test_a_corrupt_workbook_is_an_error_line_not_a_traceback(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "matters.xlsx"
    broken.write_bytes(b"PK\x03\x04garbage")  # a zip's magic, then nothing of a workbook
    for command in ("validate", "import"):
        assert run("catalog", command, str(broken)) == 1
        err = capsys.readouterr().err
        assert "matters.xlsx：无法读取" in err and "Traceback" not in err


def test_a_version_longer_than_its_column_is_a_usage_error(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The version is stored in an 80-character column: a longer one (or a blank one) is refused
    before anything is read, on every database alike."""
    sheet = tmp_path / "matters.csv"
    sheet.write_text("x", encoding="utf-8")
    for version in ("v" * 81, "   ", "v1\n2"):
        with pytest.raises(SystemExit) as usage:
            run("catalog", "import", str(sheet), "--version", version)
        assert usage.value.code == 2
        assert "1-80 printable characters" in capsys.readouterr().err


def test_validate_lists_every_error_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA_DIR, target)
    police = target / "police.yaml"
    data = yaml.safe_load(police.read_text(encoding="utf-8"))
    data["matters"][0]["mode"] = "maybe"
    data["matters"][1]["skill"] = "ghost"
    police.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert run("catalog", "validate", str(target)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 2
    assert "maybe" in captured.err and "ghost" in captured.err


def test_export_files_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert run("catalog", "export", "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == load_catalog().version
    assert len(document["matters"]) == 179 and len(document["skills"]) == len(load_catalog().skills)
    assert not (tmp_path / "nothing-here").exists()  # no empty SQLite database was created


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(create_tables(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def _counts(url: str) -> tuple[int, int, str | None]:
    async def count() -> tuple[int, int, str | None]:
        engine = make_engine(url)
        async with make_session_factory(engine)() as session:
            matters = await session.scalar(select(func.count()).select_from(models.Matter))
            audits = await session.scalar(select(func.count()).select_from(models.AuditLog))
            version = await read_catalog_version(session)
        await engine.dispose()
        return matters or 0, audits or 0, version

    return asyncio.run(count())


def _to_xlsx(csv_path: Path, xlsx_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    workbook.save(xlsx_path)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_apply_then_export_import_round_trip(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    shipped = tmp_path / "shipped.csv"
    assert run("catalog", "export", "--format", "csv", "--source", "files", "--output", str(shipped)) == 0
    assert run("catalog", "import", str(shipped)) == 0
    assert "新增 179 项" in capsys.readouterr().out
    assert _counts(database)[0] == 0  # dry run by default

    assert run("catalog", "import", str(shipped), "--apply", "--version", "2025.1") == 0
    assert _counts(database) == (179, 1, "2025.1")

    exported = tmp_path / "from-db.csv"
    assert run("catalog", "export", "--format", "csv", "--source", "db", "--output", str(exported)) == 0
    source = exported
    if fmt == "xlsx":
        source = tmp_path / "from-db.xlsx"
        _to_xlsx(exported, source)
    capsys.readouterr()
    assert run("catalog", "import", str(source), "--apply") == 0
    out = capsys.readouterr().out
    assert "没有变化" in out and "新增" not in out and "修改" not in out and "停用" not in out
    assert _counts(database)[2] == "2025.1"  # an unchanged catalog keeps its version


def test_import_reports_changes_and_retirements(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = tmp_path / "shipped.csv"
    run("catalog", "export", "--format", "csv", "--source", "files", "--output", str(shipped))
    run("catalog", "import", str(shipped), "--apply")
    with shipped.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][6] = "99"  # typical_minutes of the first matter
    dropped = rows.pop(2)[0]
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    capsys.readouterr()
    assert run("catalog", "import", str(edited), "--apply") == 0
    out = capsys.readouterr().out
    assert f"修改 1 项：{rows[1][0]}" in out
    assert f"停用 1 项（保留历史记录）：{dropped}" in out
    matters, _, version = _counts(database)
    assert matters == 179 and version is not None and version.startswith("import-")


def test_rejected_spreadsheet_lists_errors_and_writes_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = tmp_path / "shipped.csv"
    run("catalog", "export", "--format", "csv", "--source", "files", "--output", str(shipped))
    with shipped.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[2][2] = "外星"  # department, row 3
    rows[4][7] = "ghost"  # skill, row 5
    rows[6][4] = "sometimes"  # mode, row 7
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    capsys.readouterr()
    assert run("catalog", "import", str(bad), "--apply") == 1
    err = capsys.readouterr().err
    assert "3 处错误" in err
    for row in ("第 3 行", "第 5 行", "第 7 行"):
        assert row in err
    assert _counts(database) == (0, 0, None)
