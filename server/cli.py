"""The `jinglin` command: serve, migrate, demo, and the subsystems' commands (administration: server.admin.cli)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from server.admin import cli as admin_cli
from server.app import product_version
from server.argtypes import whole_number
from server.catalog.setup import ensure_catalog
from server.db.engine import make_engine, make_session_factory
from server.db.failure import database_failure
from server.db.migrate import upgrade_database
from server.db.models import Site, User
from server.district.demo import DemoConflict, seed_demo
from server.entry import run_quietly
from server.serve import serve
from server.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        # One line, as every start-up failure (the message lists each bad variable).
        raise SystemExit("error: " + str(exc).replace(":\n  ", ": ", 1).replace("\n  ", "; ")) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve HTTP and WebSockets until interrupted."""
    settings = _settings()
    return serve(settings, args.host or settings.host, args.port if args.port is not None else settings.port)


async def prepare_database(settings: Settings) -> None:
    """Migrate to the newest schema and load the shipped catalog into a database that has none."""
    try:
        await upgrade_database(settings.resolved_database_url)
    except BaseException:
        await _sqlite_workers_stopped()
        raise
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            await ensure_catalog(session)
    finally:
        await engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database schema to the newest revision and load the catalog if it has none."""
    settings = _settings()
    settings.ensure_data_dir()
    try:
        asyncio.run(prepare_database(settings))
    except (SQLAlchemyError, OSError) as exc:
        print(f"error: {database_failure(exc)}", file=sys.stderr)
        return 1
    print("database is up to date")
    return 0


async def _sqlite_workers_stopped(timeout: float = 1.0) -> None:
    """Let aiosqlite's worker threads hand back their last result while the loop still runs.

    After a failed connect, aiosqlite's worker delivers its stop to the event loop from its own
    thread; when the command's loop has closed by then, the thread prints "Event loop is closed"
    after the command's one error line (omnilib/aiosqlite#241, #259).
    """
    workers = [thread for thread in threading.enumerate() if thread.name.endswith("(_connection_worker_thread)")]

    def join() -> None:
        for thread in workers:
            thread.join(timeout)

    await asyncio.to_thread(join)  # joined off the loop, which stays free to take their results


def base_url(settings: Settings) -> str:
    """The URL people open, from JINGLIN_HOST/JINGLIN_PORT."""
    return f"http://{settings.host}:{settings.port}"


async def _demo(settings: Settings, if_empty: bool) -> dict[str, object] | None:
    await prepare_database(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            if if_empty and (await session.scalar(select(func.count()).select_from(Site).where(~Site.is_demo))
                             or await session.scalar(select(func.count()).select_from(User).where(~User.is_demo))):
                return None
            data = await seed_demo(session, settings.resolved_secret_key(), base_url(settings))
    finally:
        await engine.dispose()
    return data.as_json()


def cmd_demo(args: argparse.Namespace) -> int:
    """Seed demo data (idempotent) and print the demo logins."""
    settings = _settings()
    settings.ensure_data_dir()
    try:
        data = asyncio.run(_demo(settings, args.if_empty))
    except (DemoConflict, ValueError) as exc:  # ValueError: a secret key too short to use
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        print(f"error: {database_failure(exc)}", file=sys.stderr)
        return 1
    if data is None:
        message = "the database holds real sites or accounts; demo data not seeded"
        print(json.dumps({"seeded": False, "message": message}) if args.json else message)
        return 0
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    kiosks = data["kiosks"]
    assert isinstance(kiosks, list)
    print(f"demo data ready: {len(kiosks)} kiosks")
    print(f"kiosk:      {kiosks[0]['url']}")
    print(f"caseworker: {base_url(settings)}/agent")
    print(f"supervisor: {base_url(settings)}/supervisor")
    for group in ("caseworkers", "supervisors"):
        people = data[group]
        assert isinstance(people, list)
        for person in people[:3]:
            print(f"  {group[:-1]}: {person['username']} / {person['password']}")
    print("  (all logins: jinglin demo --json)")
    return 0


async def _user_disable(settings: Settings, username: str) -> str:
    """Disable an account, end its sessions and live connections (the admin service's code path)."""
    return await admin_cli.set_user_enabled(settings, username, False)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="jinglin", description="静邻帮办 remote government-service window")
    parser.add_argument("--version", action="version", version=f"jinglin {product_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve HTTP and WebSockets")
    serve.add_argument("--host", help="address to listen on (default JINGLIN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=whole_number(1, 65535, what="a port"),
                       help="port, 1-65535 (default JINGLIN_PORT or 8080)")
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="migrate the database to the newest schema").set_defaults(handler=cmd_migrate)

    demo = commands.add_parser("demo", help="seed demo data and print logins")
    demo.add_argument("--json", action="store_true", help="print all demo credentials as JSON")
    demo.add_argument("--if-empty", action="store_true",
                      help="do nothing when the database already holds real (non-demo) sites or accounts")
    demo.set_defaults(handler=cmd_demo)

    user = commands.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    kiosk = commands.add_parser("kiosk", help="kiosk devices").add_subparsers(dest="kiosk_command", required=True)
    admin_cli.register(commands, user=user, kiosk=kiosk)

    _register_optional(commands)
    return parser


def _register_optional(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Subsystems own their commands; each module exposes register(subparsers).
    from server.acceptance import cli as acceptance_cli

    acceptance_cli.register(commands)
    from server.catalog import cli as catalog_cli

    catalog_cli.register(commands)
    from server.quality import cli as quality_cli

    quality_cli.register(commands)
    from server.capture import cli as capture_cli
    from server.capture import rotate as capture_rotate

    capture_cli.register(commands)
    capture_rotate.register(commands)
    from server.recording import cli as recording_cli

    recording_cli.register(commands)  # extends `purge`: after capture's
    from server.simulate import cli as simulate_cli

    simulate_cli.register(commands)
    from server.admin import hours_cli

    hours_cli.register(commands)
    from server.admin import appointments_cli

    appointments_cli.register(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a `jinglin` command (the console script enters through server.entry.main)."""
    args = build_parser().parse_args(argv)
    return run_quietly(lambda: args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
