"""The `jinglin` command: serve, migrate, demo, user add, kiosk add, and the subsystems' commands."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from server.app import product_version
from server.auth.passwords import MIN_PASSWORD_LENGTH
from server.auth.sessions import revoke_user_sessions
from server.catalog.setup import ensure_catalog
from server.db.engine import make_engine, make_session_factory
from server.db.migrate import upgrade_database
from server.db.models import AuditLog, Centre, Site, User
from server.district.accounts import AccountError, add_kiosk, upsert_user
from server.district.demo import seed_demo
from server.runtime import redis_keys
from server.runtime.embedded_redis import socket_path_for
from server.runtime.ids import parse_id
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
    return serve(settings, args.host or settings.host, args.port or settings.port)


async def prepare_database(settings: Settings) -> None:
    """Migrate to the newest schema and load the shipped catalog into a database that has none."""
    await upgrade_database(settings.resolved_database_url)
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
    asyncio.run(prepare_database(settings))
    print("database is up to date")
    return 0


def base_url(settings: Settings) -> str:
    """The URL people open, from JINGLIN_HOST/JINGLIN_PORT."""
    return f"http://{settings.host}:{settings.port}"


async def _demo(settings: Settings, if_empty: bool) -> dict[str, object] | None:
    await prepare_database(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            if if_empty and await session.scalar(select(func.count()).select_from(Site).where(~Site.is_demo)):
                return None
            data = await seed_demo(session, settings.resolved_secret_key(), base_url(settings))
    finally:
        await engine.dispose()
    return data.as_json()


def cmd_demo(args: argparse.Namespace) -> int:
    """Seed demo data (idempotent) and print the demo logins."""
    settings = _settings()
    settings.ensure_data_dir()
    data = asyncio.run(_demo(settings, args.if_empty))
    if data is None:
        print("the database holds real sites; demo data not seeded")
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


async def _user_add(settings: Settings, args: argparse.Namespace, password: str) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            centre_id = None
            if args.centre:
                centre = await session.scalar(
                    select(Centre).where((Centre.name == args.centre) | (Centre.id == _int_or_none(args.centre)))
                )
                if centre is None:
                    raise AccountError(f"no centre {args.centre!r}")
                centre_id = centre.id
            exists = await session.scalar(select(func.count()).select_from(User).where(User.username == args.username))
            if exists:
                raise AccountError(f"user {args.username!r} exists")
            user = await upsert_user(session, username=args.username, password=password, role=args.role,
                                     display_name=args.name, centre_id=centre_id, skills=args.skill or [])
            return f"created {user.role} {user.username} (id {user.id})"
    finally:
        await engine.dispose()


def _int_or_none(value: str) -> int | None:
    return parse_id(value)


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create a staff account; the password is read from stdin or prompted, never an argument."""
    settings = _settings()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"error: password must have at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(_user_add(settings, args, password)))
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _kiosk_add(settings: Settings, args: argparse.Namespace) -> tuple[int, str]:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            site = await session.scalar(
                select(Site).where((Site.name == args.site) | (Site.id == _int_or_none(args.site)))
            )
            if site is None:
                raise AccountError(f"no site {args.site!r}")
            kiosk, token = await add_kiosk(session, site_id=site.id, label=args.label or f"{site.name}终端")
            return kiosk.id, token
    finally:
        await engine.dispose()


def cmd_kiosk_add(args: argparse.Namespace) -> int:
    """Create a kiosk at a site and print its device token once."""
    settings = _settings()
    try:
        kiosk_id, token = asyncio.run(_kiosk_add(settings, args))
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"id": kiosk_id, "token": token, "url": f"{base_url(settings)}/kiosk?token={token}"}))
    else:
        print(f"kiosk {kiosk_id} created; its token is shown only now:\n{token}")
    return 0


async def _user_disable(settings: Settings, username: str) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            user = await session.scalar(select(User).where(User.username == username))
            if user is None:
                raise AccountError(f"no user {username!r}")
            user.enabled = False
            await revoke_user_sessions(session, user.id)
            session.add(AuditLog(actor="cli", action="user_disabled", object_type="user", object_id=str(user.id)))
            key = f"{user.role}:{user.id}"
    finally:
        await engine.dispose()
    # Tell running servers to close this person's live WebSockets now (they would otherwise
    # notice at their next session check).
    url = settings.redis_url if not settings.uses_embedded_redis else f"unix://{socket_path_for(settings.data_dir)}"
    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        await client.publish(redis_keys.WS_CHANNEL, json.dumps({"to": [key], "close": {"token_hash": None}}))
        return f"disabled {username}; live connections closed"
    except (RedisError, OSError):
        return f"disabled {username}; no server reachable to close live connections (they close within a minute)"
    finally:
        await client.aclose()


def cmd_user_disable(args: argparse.Namespace) -> int:
    """Disable a staff account and end its sessions and live connections at once."""
    try:
        print(asyncio.run(_user_disable(_settings(), args.username)))
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="jinglin", description="静邻帮办 remote government-service window")
    parser.add_argument("--version", action="version", version=f"jinglin {product_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve HTTP and WebSockets")
    serve.add_argument("--host", help="address to listen on (default JINGLIN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default JINGLIN_PORT or 8080)")
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="migrate the database to the newest schema").set_defaults(handler=cmd_migrate)

    demo = commands.add_parser("demo", help="seed demo data and print logins")
    demo.add_argument("--json", action="store_true", help="print all demo credentials as JSON")
    demo.add_argument("--if-empty", action="store_true",
                      help="do nothing when the database already holds real (non-demo) sites")
    demo.set_defaults(handler=cmd_demo)

    user = commands.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    user_add = user.add_parser("add", help="create a staff account")
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=["caseworker", "supervisor", "admin"])
    user_add.add_argument("--name", help="display name")
    user_add.add_argument("--centre", help="centre name or id (caseworkers)")
    user_add.add_argument("--skill", action="append", help="a skill id; repeat for several")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user_add.set_defaults(handler=cmd_user_add)
    user_disable = user.add_parser("disable", help="disable an account and end its sessions at once")
    user_disable.add_argument("username")
    user_disable.set_defaults(handler=cmd_user_disable)

    kiosk = commands.add_parser("kiosk", help="kiosk devices").add_subparsers(dest="kiosk_command", required=True)
    kiosk_add = kiosk.add_parser("add", help="create a kiosk at a site and print its token once")
    kiosk_add.add_argument("--site", required=True, help="site name or id")
    kiosk_add.add_argument("--label", help="label shown to supervisors")
    kiosk_add.add_argument("--json", action="store_true")
    kiosk_add.set_defaults(handler=cmd_kiosk_add)

    _register_optional(commands)
    return parser


def _register_optional(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Subsystems own their commands; each module exposes register(subparsers).
    from server.catalog import cli as catalog_cli

    catalog_cli.register(commands)
    from server.quality import cli as quality_cli

    quality_cli.register(commands)
    from server.capture import cli as capture_cli

    capture_cli.register(commands)
    from server.simulate import cli as simulate_cli

    simulate_cli.register(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jinglin` console script."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
