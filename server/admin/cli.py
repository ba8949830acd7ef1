"""`jinglin street|centre|site|kiosk|user|admin|audit …`: the administration pages' twins on the
command line, served by the same service modules as the API. Every command takes `--json`.

`register(commands, user=…, kiosk=…)` is called by server/cli.py with its subparsers.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TypeAlias
from urllib.parse import urlsplit

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin import audit, kiosks, sheets, site_import, staff, structure
from server.admin.cli_runtime import (
    ACTOR,
    ERROR_EXIT,
    add_json,
    close_sockets,
    default_base_url,
    in_transaction,
    redis_answers,
    redis_client,
    run,
)
from server.admin.errors import AdminError
from server.admin.schemas import (
    AuditOut,
    CentreIn,
    KioskIn,
    KiosksOut,
    SiteIn,
    SitesOut,
    StreetIn,
    UserIn,
    UserPatch,
    UsersOut,
)
from server.admin.staff import UserFilter
from server.auth.passwords import MIN_PASSWORD_LENGTH
from server.runtime.redis_keys import RedisKeys
from server.settings import Settings
from server.signaling.presence import PRESENCE_TTL_S

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _base_url(text: str) -> str:
    """A --base-url value: an http(s) URL without query or fragment (the kiosk's link and QR code
    are built on it), without its trailing slash."""
    parsed = urlsplit(text)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.query or parsed.fragment:
        raise argparse.ArgumentTypeError(f"not an http(s) address such as https://jinglin.example.gov.cn: {text!r}")
    return text.rstrip("/")


def _password(args: argparse.Namespace) -> str | None:
    """The password from stdin (--password-stdin) or the terminal's prompt; None, with the error
    printed, when there is no terminal to ask (a script) or nothing was typed."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        print("error: no terminal to ask for the password: pipe it in with --password-stdin", file=sys.stderr)
        return None
    try:
        return getpass.getpass("password: ")
    except EOFError:  # Ctrl-D at the prompt
        print("error: no password given", file=sys.stderr)
        return None


def _structure(commands: Sub) -> None:
    street = commands.add_parser("street", help="streets and towns").add_subparsers(dest="street_command",
                                                                                    required=True)
    add = add_json(street.add_parser("add", help="create a street or town"))
    add.add_argument("name")
    add.add_argument("--code", help="stable code (default: the name in pinyin)")
    add.set_defaults(handler=lambda a: run(a, lambda s: in_transaction(
        s, lambda db: structure.add_street(db, StreetIn(name=a.name, code=a.code), ACTOR)),
        lambda r: f"street {r.id}: {r.name} ({r.code})"))  # type: ignore[attr-defined]

    centre = commands.add_parser("centre", help="acceptance centres").add_subparsers(dest="centre_command",
                                                                                    required=True)
    add = add_json(centre.add_parser("add", help="create a street's acceptance centre"))
    add.add_argument("name")
    add.add_argument("--street", required=True, help="street id, code or name")
    add.add_argument("--address", default="")
    add.add_argument("--phone", default="")
    add.set_defaults(handler=lambda a: run(a, lambda s: in_transaction(s, lambda db: structure.add_centre(
        db, CentreIn(name=a.name, street=a.street, address=a.address, phone=a.phone), ACTOR)),
        lambda r: f"centre {r.id}: {r.name}"))  # type: ignore[attr-defined]

    site = commands.add_parser("site", help="kiosk sites").add_subparsers(dest="site_command", required=True)
    add = add_json(site.add_parser("add", help="create a kiosk site"))
    add.add_argument("name")
    add.add_argument("--street", required=True, help="street id, code or name")
    add.add_argument("--kind", default="committee", choices=site_import.KINDS)
    add.add_argument("--address", default="")
    add.set_defaults(handler=lambda a: run(a, lambda s: in_transaction(s, lambda db: structure.add_site(
        db, SiteIn(name=a.name, street=a.street, kind=a.kind, address=a.address), ACTOR)),
        lambda r: f"site {r.id}: {r.name}"))  # type: ignore[attr-defined]
    imp = add_json(site.add_parser("import", help="import a CSV/XLSX site sheet (dry run unless --apply)"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--apply", action="store_true", help="write the sites (nothing is written if a row is broken)")
    imp.add_argument("--valid-only", action="store_true", help="with --apply: write the valid rows anyway")
    imp.set_defaults(handler=_site_import)
    export = add_json(site.add_parser("export", help="write every site in the import layout "
                                                     "(with --json and no --output: the sites as JSON)"))
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--output", type=Path, help="default: standard output (CSV only)")
    export.set_defaults(handler=_site_export)


def _import_text(result: BaseModel) -> str:
    data = result.model_dump()
    lines = [f"row {e['row']}: {e['message']}" for e in data["errors"]]
    lines.append(f"added {len(data['added'])}, changed {len(data['changed'])}, unchanged {data['unchanged']}, "
                 f"errors {len(data['errors'])}" + ("" if data["applied"] else " (dry run: nothing written)"))
    return "\n".join(lines)


def _site_import(args: argparse.Namespace) -> int:
    async def work(current: Settings) -> BaseModel:
        try:
            rows = sheets.read_rows(args.file.name, args.file.read_bytes())
        except OSError as exc:
            raise AdminError(400, "unreadable_file", str(exc)) from None
        return await in_transaction(current, lambda db: site_import.import_sites(
            db, rows, ACTOR, dry_run=not args.apply, valid_only=args.valid_only))

    code = run(args, work, _import_text)
    return code


def _site_export(args: argparse.Namespace) -> int:
    async def work(current: Settings) -> BaseModel | str:
        if args.output is None and args.json:
            # The API's format=json twin: the sites as records (a listing, not an export).
            return await in_transaction(current, _sites_out)
        if args.output is None and args.format == "xlsx":
            raise AdminError(400, "needs_output", "XLSX 表格需要用 --output 指定文件")

        async def export(db: AsyncSession) -> tuple[int, bytes]:
            rows = await site_import.export_rows(db)
            data = sheets.write_csv(rows) if args.format == "csv" else sheets.write_xlsx(rows)
            if args.output is not None:
                # Written inside the transaction: a file that cannot be written leaves no
                # "sites_exported" entry for an export that never happened.
                args.output.write_bytes(data)
            audit.record(db, ACTOR, "sites_exported", "site", "", rows=len(rows) - 1)
            return len(rows) - 1, data

        count, data = await in_transaction(current, export)
        if args.output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return ""
        return f"{count} sites written to {args.output}"

    return run(args, work)


async def _sites_out(db: AsyncSession) -> SitesOut:
    return SitesOut(sites=await structure.list_sites(db))


def _kiosk_text(result: BaseModel) -> str:
    assert isinstance(result, KiosksOut)
    return "\n".join(f"{k.id}\t{'online' if k.online else 'offline'}\t{'enabled' if k.enabled else 'DISABLED'}\t"
                     f"{k.site}\t{k.label}\t{k.last_seen_at or '-'}" for k in result.kiosks)


def _kiosks(kiosk: Sub) -> None:
    listing = add_json(kiosk.add_parser("list", help="kiosks with site, online state and last seen"))

    async def list_work(current: Settings) -> BaseModel:
        client = redis_client(current)
        try:
            keys = RedisKeys(current.redis_prefix)
            listed = KiosksOut(kiosks=await in_transaction(current, lambda db: kiosks.list_kiosks(db, client, keys)))
            if not await redis_answers(client):
                # Live presence is in Redis; without it "online" is only an estimate from the
                # last seen time, and whoever reads the list must know.
                print(f"note: live presence unavailable (Redis not reachable; is the server running?): "
                      f"online means seen in the last {PRESENCE_TTL_S:.0f} s", file=sys.stderr)
            return listed
        finally:
            await client.aclose()
    listing.set_defaults(handler=lambda a: run(a, list_work, _kiosk_text))

    add = add_json(kiosk.add_parser("add", help="create a kiosk at a site and print its token once"))
    add.add_argument("--site", required=True, help="site name or id")
    add.add_argument("--label", help="label shown to supervisors")
    add.add_argument("--base-url", type=_base_url, help="URL kiosks open (default http://JINGLIN_HOST:JINGLIN_PORT)")
    add.set_defaults(handler=lambda a: run(a, lambda s: in_transaction(s, lambda db: kiosks.enrol_kiosk(
        db, KioskIn(site=a.site, label=a.label), ACTOR, a.base_url or default_base_url(s))), _token_text))

    rotate = add_json(kiosk.add_parser("rotate", help="give a kiosk a new token; the old one stops at once"))
    rotate.add_argument("id", type=int)
    rotate.add_argument("--base-url", type=_base_url,
                        help="URL kiosks open (default http://JINGLIN_HOST:JINGLIN_PORT)")

    async def rotate_work(current: Settings, args: argparse.Namespace) -> BaseModel:
        out, address = await in_transaction(current, lambda db: kiosks.rotate_token(
            db, args.id, ACTOR, args.base_url or default_base_url(current)))
        await close_sockets(current, address)
        return out
    rotate.set_defaults(handler=lambda a: run(a, lambda s: rotate_work(s, a), _token_text))

    for name, enabled in (("disable", False), ("enable", True)):
        sub = add_json(kiosk.add_parser(name, help=f"{name} a kiosk"))
        sub.add_argument("id", type=int)
        sub.set_defaults(handler=lambda a, enabled=enabled: run(a, lambda s: _kiosk_switch(s, a.id, enabled),
                                                                lambda r: r.model_dump_json()))


async def _kiosk_switch(current: Settings, kiosk_id: int, enabled: bool) -> BaseModel:
    out, address = await in_transaction(current, lambda db: kiosks.set_kiosk_enabled(db, kiosk_id, enabled, ACTOR))
    await close_sockets(current, address)
    return out


def _token_text(result: BaseModel) -> str:
    data = result.model_dump()
    return (f"kiosk {data['kiosk']['id']} at {data['kiosk']['site']}; its token is shown only now:\n"
            f"{data['token']}\n{data['url']}")


def _users(user: Sub) -> None:
    listing = add_json(user.add_parser("list", help="staff accounts"))
    listing.add_argument("--role", choices=("caseworker", "supervisor", "admin"))
    listing.add_argument("--centre", help="centre id or name")
    listing.add_argument("--q", help="part of a username or display name")

    async def list_work(current: Settings, args: argparse.Namespace) -> BaseModel:
        async def read(db: AsyncSession) -> BaseModel:
            centre_id = (await structure.find_centre(db, args.centre)).id if args.centre else None
            return UsersOut(users=await staff.list_users(db, UserFilter(role=args.role, centre_id=centre_id,
                                                                        q=args.q)))
        return await in_transaction(current, read)
    listing.set_defaults(handler=lambda a: run(a, lambda s: list_work(s, a), lambda r: "\n".join(
        f"{u.username}\t{u.role}\t{'enabled' if u.enabled else 'DISABLED'}\t{u.centre or '-'}\t{','.join(u.skills)}"
        for u in r.users)))  # type: ignore[attr-defined]

    add = add_json(user.add_parser("add", help="create a staff account"))
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["caseworker", "supervisor", "admin"])
    add.add_argument("--name", help="display name")
    add.add_argument("--centre", help="centre name or id (caseworkers; a supervisor with a centre sees only it)")
    add.add_argument("--skill", action="append", help="a skill id; repeat for several")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=_user_add)

    for name, enabled in (("disable", False), ("enable", True)):
        sub = add_json(user.add_parser(name, help=f"{name} an account" + (
            " and end its sessions and live connections at once" if not enabled else "")))
        sub.add_argument("username")
        sub.set_defaults(handler=lambda a, enabled=enabled: run(a, lambda s: set_user_enabled(s, a.username, enabled)))

    reset = add_json(user.add_parser("reset-password", help="a one-time password, changed at next sign-in"))
    reset.add_argument("username")

    async def reset_work(current: Settings, username: str) -> BaseModel:
        out, address = await in_transaction(current, lambda db: staff.reset_password(db, username, ACTOR))
        await close_sockets(current, address)
        return out
    reset.set_defaults(handler=lambda a: run(a, lambda s: reset_work(s, a.username), lambda r: (
        f"one-time password for {r.username} (shown only now; must be changed at next sign-in):\n"  # type: ignore[attr-defined]
        f"{r.password}")))  # type: ignore[attr-defined]

    skills = add_json(user.add_parser("set-skills", help="replace an account's skills"))
    skills.add_argument("username")
    skills.add_argument("skills", nargs="*", help="skill ids (none clears them)")
    skills.set_defaults(handler=lambda a: run(a, lambda s: _patch(s, a.username, UserPatch(skills=a.skills)),
                                              lambda r: f"{r.username}: {', '.join(r.skills) or '-'}"))  # type: ignore[attr-defined]


async def _patch(current: Settings, username: str, patch: UserPatch) -> BaseModel:
    out, address = await in_transaction(current, lambda db: staff.update_user(db, username, patch, ACTOR))
    await close_sockets(current, address)
    return out


async def set_user_enabled(current: Settings, username: str, enabled: bool) -> str:
    """Enable or disable an account (disabling ends its sessions and live sockets); a one-line report."""
    _, address = await in_transaction(current, lambda db: staff.update_user(
        db, username, UserPatch(disabled=not enabled), ACTOR))
    if enabled:
        return f"enabled {username}"
    if await close_sockets(current, address):
        return f"disabled {username}; live connections closed"
    return f"disabled {username}; no server reachable to close live connections (they close within a minute)"


def _user_add(args: argparse.Namespace) -> int:
    password = _password(args)
    if password is None:
        return ERROR_EXIT
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"error: password must have at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return ERROR_EXIT
    body = UserIn(username=args.username, role=args.role, display_name=args.name, centre=args.centre,
                  skills=args.skill or [], password=password)
    return run(args, lambda s: in_transaction(s, lambda db: staff.create_user(db, body, ACTOR)),
               lambda r: f"created {r.user.role} {r.user.username} (id {r.user.id})")  # type: ignore[attr-defined]


def _admin_and_audit(commands: Sub) -> None:
    admin = commands.add_parser("admin", help="administrators").add_subparsers(dest="admin_command", required=True)
    create = add_json(admin.add_parser("create", help="the first administrator of a new installation"))
    create.add_argument("username")
    create.add_argument("--name", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    def create_handler(args: argparse.Namespace) -> int:
        password = _password(args)
        if password is None:
            return ERROR_EXIT
        return run(args, lambda s: in_transaction(s, lambda db: staff.create_first_admin(
            db, args.username, password, args.name, ACTOR)), lambda r: f"created admin {r.username}")  # type: ignore[attr-defined]
    create.set_defaults(handler=create_handler)

    audit_cmd = commands.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command",
                                                                                  required=True)
    export = add_json(audit_cmd.add_parser("export", help="write audit entries as CSV (or JSON with --json)"))
    export.add_argument("--action")
    export.add_argument("--actor")
    export.add_argument("--limit", type=int, default=5000)
    export.add_argument("--output", type=Path, help="default: standard output")

    async def export_work(current: Settings, args: argparse.Namespace) -> BaseModel | str:
        async def read(db: AsyncSession) -> AuditOut:
            entries = await audit.read_entries(db, audit.AuditFilter(actor=args.actor, action=args.action,
                                                                     limit=args.limit))
            out = AuditOut(entries=entries)
            if args.output is not None:
                # Written inside the transaction: a file that cannot be written leaves no
                # "audit_exported" entry for an export that never happened.
                args.output.write_text(out.model_dump_json() if args.json else audit.entries_csv(entries),
                                       encoding="utf-8")
            audit.record(db, ACTOR, "audit_exported", "audit", "", rows=len(entries))
            return out
        out = await in_transaction(current, read)
        if args.output is not None:
            return f"{len(out.entries)} entries written to {args.output}"
        if args.json:
            return out
        sys.stdout.write(audit.entries_csv(out.entries))
        return ""
    export.set_defaults(handler=lambda a: run(a, lambda s: export_work(s, a)))


def register(commands: Sub, *, user: Sub, kiosk: Sub) -> None:
    """Add the administration commands (and the `user`/`kiosk` subcommands to those groups)."""
    _structure(commands)
    _kiosks(kiosk)
    _users(user)
    _admin_and_audit(commands)
