"""`jinglin catalog validate|import|export`: the operator's tools for the matters catalog.

`register(subparsers)` is called by server/cli.py; every subcommand sets `handler(args) -> int`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog import messages as msg
from matters_catalog.loader import Catalog, CatalogError, load_catalog, load_skills
from matters_catalog.schema import FieldSet, Matter
from matters_catalog.spreadsheet import COLUMNS, matter_to_row, write_csv, write_json
from matters_catalog.validate import read_source, summary
from server.catalog.db_sync import CatalogDiff, load_catalog_from_db, read_catalog_version, sync_catalog
from server.catalog.versions import publish
from server.db.engine import make_engine, make_session_factory
from server.db.models import AuditLog
from server.settings import load_settings

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `catalog` command and its validate/import/export subcommands."""
    catalog = subparsers.add_parser("catalog", help="matters catalog: validate, import, export")
    commands = catalog.add_subparsers(dest="catalog_command", required=True)

    validate = commands.add_parser("validate", help="check a catalog directory or CSV/XLSX file")
    validate.add_argument("path", nargs="?", type=Path, help="default: the shipped catalog")
    validate.set_defaults(handler=validate_command)

    importer = commands.add_parser("import", help="import a CSV/XLSX catalog (dry run unless --apply)")
    importer.add_argument("file", type=Path)
    importer.add_argument("--apply", action="store_true", help="write the changes to the database")
    importer.add_argument("--version", dest="catalog_version", type=_version_text,
                          help=f"catalog version to record (1-{VERSION_MAX_LENGTH} characters)")
    importer.set_defaults(handler=import_command)

    export = commands.add_parser("export", help="write the catalog as CSV or JSON")
    export.add_argument("--format", choices=("csv", "json"), required=True)
    export.add_argument("--output", type=Path, help="default: standard output")
    export.add_argument(
        "--source",
        choices=("auto", "db", "files"),
        default="auto",
        help="auto: the database when it holds a catalog, else the shipped files",
    )
    export.set_defaults(handler=export_command)


def validate_command(args: argparse.Namespace) -> int:
    """Print every error (exit 1) or the `N matters, M departments` summary (exit 0)."""
    matters, errors = read_source(args.path)
    if errors:
        _print_errors(errors)
        return 1
    print(summary(matters))
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Show (and with --apply, write) what a spreadsheet would add, change and retire."""
    _, errors = read_source(args.file)  # every error of the sheet, even without a database
    if errors:
        return _reject(errors)
    try:
        diff = _run_db(lambda session: _import(session, args.file, args.catalog_version, apply=args.apply))
    except (SQLAlchemyError, OSError) as exc:  # OSError: PostgreSQL not answering (asyncpg's own)
        print(msg.NO_DATABASE.format(detail=str(exc).splitlines()[0]), file=sys.stderr)
        return 1
    except CatalogError as exc:
        return _reject(exc.errors)
    _print_diff(diff)
    print(msg.APPLIED if args.apply else msg.DRY_RUN_NOTE)
    return 0


def export_command(args: argparse.Namespace) -> int:
    """Write the catalog (database or shipped files) as CSV or JSON."""
    catalog = _catalog_for_export(args.source)
    if catalog is None:
        return 1
    if args.output is None:
        _write(catalog, args.format, sys.stdout)
    else:
        # BOM so Excel opens the CSV as UTF-8; our reader accepts it.
        encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
        with args.output.open("w", encoding=encoding, newline="") as out:
            _write(catalog, args.format, out)
    return 0


async def _import(session: AsyncSession, source: Path, version: str | None, *, apply: bool) -> CatalogDiff:
    # Read again with the database's form levels: a sheet without the form columns keeps them.
    matters, errors = read_source(source, current_forms=current_forms(await load_catalog_from_db(session)))
    if errors:
        raise CatalogError(errors)
    catalog = Catalog(version="", matters=matters, skills=load_skills())
    preview = await sync_catalog(session, catalog, apply=False)
    # Without --version: an unchanged catalog keeps its version (round-trips are no-ops), a
    # changed one gets a version derived from its content, so the same file gives the same one.
    resolved = version or (
        preview.old_version if preview.is_empty and preview.old_version else content_version(matters)
    )
    catalog = Catalog(version=resolved, matters=matters, skills=catalog.skills)
    # Applying publishes a version (kept for restore); a dry run only compares.
    if apply:
        diff = await publish(session, catalog, "cli", "catalog import")
    else:
        diff = await sync_catalog(session, catalog, apply=False)
    if apply:
        session.add(_audit_entry(diff))
        await session.commit()
    return diff


# The catalog_versions table's column (String(80)): PostgreSQL refuses longer, SQLite would keep it.
VERSION_MAX_LENGTH = 80


def _version_text(text: str) -> str:
    """A --version value: 1-VERSION_MAX_LENGTH printable characters, surrounding spaces dropped."""
    value = text.strip()
    if not 1 <= len(value) <= VERSION_MAX_LENGTH or not value.isprintable():
        raise argparse.ArgumentTypeError(f"a version is 1-{VERSION_MAX_LENGTH} printable characters")
    return value


def content_version(matters: Sequence[Matter]) -> str:
    """A version string that depends only on the matters' content: `import-<12 hex>`."""
    digest = hashlib.sha256()
    for matter in matters:
        row = matter_to_row(matter)
        # A matter without a form level hashes as before the form columns existed (same sheet, same version).
        digest.update("\x1f".join(row if matter.form else row[: len(COLUMNS)]).encode())
        digest.update(b"\x1e")
    return f"import-{digest.hexdigest()[:12]}"


def current_forms(catalog: Catalog) -> dict[str, FieldSet]:
    """The catalog's matter form levels by matter id (what a sheet without the form columns keeps)."""
    return {matter.id: matter.form for matter in catalog.matters if matter.form is not None}


def _audit_entry(diff: CatalogDiff) -> AuditLog:
    return AuditLog(
        actor="cli",
        action="catalog_import",
        object_type="catalog",
        object_id=diff.new_version[:40],
        data={
            "added": diff.added,
            "changed": diff.changed,
            "retired": diff.retired,
            "unretired": diff.unretired,
            "old_version": diff.old_version,
        },
    )


def _catalog_for_export(source: str) -> Catalog | None:
    if source != "files" and (source == "db" or _database_exists()):
        try:
            catalog = _run_db(_load_if_synced)
        except (SQLAlchemyError, OSError) as exc:  # OSError: PostgreSQL not answering
            if source == "db":
                print(msg.NO_DATABASE.format(detail=str(exc).splitlines()[0]), file=sys.stderr)
                return None
            catalog = None
        if catalog is not None:
            return catalog
        if source == "db":
            print(msg.NO_DATABASE.format(detail="app_meta.catalog_version"), file=sys.stderr)
            return None
    try:
        return load_catalog()
    except CatalogError as exc:
        _print_errors(exc.errors)
        return None


async def _load_if_synced(session: AsyncSession) -> Catalog | None:
    if await read_catalog_version(session) is None:
        return None
    return await load_catalog_from_db(session)


def _database_exists() -> bool:
    """False for a SQLite file that was never created (connecting would create an empty one)."""
    url = _database_url()
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix):
        return Path(url[len(prefix) :]).exists()
    return True


def _database_url() -> str:
    return load_settings().resolved_database_url


def _run_db(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in a session on the configured database, then dispose of the engine."""

    async def run() -> T:
        engine = make_engine(_database_url())
        try:
            async with make_session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _write(catalog: Catalog, fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        write_csv(catalog.matters, out)
    else:
        write_json(catalog.version, catalog.matters, catalog.skills, out)


def _print_diff(diff: CatalogDiff) -> None:
    if diff.is_empty:
        print(msg.DIFF_NONE)
    for template, ids in (
        (msg.DIFF_ADDED, diff.added),
        (msg.DIFF_CHANGED, diff.changed),
        (msg.DIFF_RETIRED, diff.retired),
        (msg.DIFF_UNRETIRED, diff.unretired),
    ):
        if ids:
            print(template.format(count=len(ids)) + "：" + ", ".join(ids))
    if diff.old_version != diff.new_version:
        print(msg.DIFF_VERSION.format(old=diff.old_version or "—", new=diff.new_version))


def _reject(errors: Sequence[str]) -> int:
    print(msg.REJECTED.format(count=len(errors)), file=sys.stderr)
    _print_errors(errors)
    return 1


def _print_errors(errors: Sequence[str]) -> None:
    for error in errors:
        print(error, file=sys.stderr)
