"""What every administration command shares: a transaction on the configured database, Redis for
presence and socket closing, `--json` output and one-line errors with a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin.errors import AdminError
from server.db.engine import make_engine, make_session_factory
from server.db.failure import database_failure, unreachable
from server.runtime.embedded_redis import socket_path_for
from server.runtime.redis_keys import RedisKeys
from server.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
ACTOR = "cli"
ERROR_EXIT = 2


def settings() -> Settings:
    """The server settings from the environment (the same ones `jinglin serve` reads)."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None


def default_base_url(current: Settings) -> str:
    """The URL kiosks open, from JINGLIN_HOST/JINGLIN_PORT (override with --base-url behind a proxy)."""
    return f"http://{current.host}:{current.port}"


def redis_client(current: Settings) -> aioredis.Redis:
    """A client of the server's Redis (the embedded one through its socket, when a server runs)."""
    url = current.redis_url if not current.uses_embedded_redis else f"unix://{socket_path_for(current.data_dir)}"
    return aioredis.from_url(url, socket_connect_timeout=2)


async def in_transaction(current: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on the configured database."""
    engine = make_engine(current.resolved_database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


async def close_sockets(current: Settings, address: str | None) -> bool:
    """Tell running servers to close a principal's live sockets now; False when none is reachable
    or none is running (they then notice at their next session check, within a minute)."""
    if address is None:
        return True
    client = redis_client(current)
    try:
        notice = json.dumps({"to": [address], "close": {"token_hash": None}})
        # PUBLISH answers how many subscribers got it: 0 means no server process is listening.
        return int(await client.publish(RedisKeys(current.redis_prefix).ws_channel, notice)) > 0
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def redis_answers(client: aioredis.Redis) -> bool:
    """Whether the server's Redis answers (with the embedded one: whether a server is running)."""
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False


def run(args: argparse.Namespace, work: Callable[[Settings], Coroutine[Any, Any, BaseModel | str]],
        text: Callable[[BaseModel], str] | None = None) -> int:
    """Run a command: print its result (JSON with --json) or `error: <reason>` and exit non-zero."""
    current = settings()
    try:
        result: BaseModel | str = asyncio.run(work(current))
    except AdminError as exc:
        details = "; ".join(exc.details[:5])
        print(f"error: {exc.message}" + (f" ({details})" if details else ""), file=sys.stderr)
        return ERROR_EXIT
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        print(f"error: invalid {fields}", file=sys.stderr)
        return ERROR_EXIT
    except SQLAlchemyError as exc:
        print(f"error: {database_failure(exc)}", file=sys.stderr)
        return ERROR_EXIT
    except OverflowError:  # an id past what the database's integers hold: no such row
        print("error: a number given is too large", file=sys.stderr)
        return ERROR_EXIT
    except BrokenPipeError:
        raise  # the reader of standard output went away: server.entry.run_quietly ends quietly
    except OSError as exc:  # the database unreachable, an --output path that cannot be written
        line = database_failure(exc) if unreachable(exc) else (str(exc) or type(exc).__name__).splitlines()[0]
        print(f"error: {line}", file=sys.stderr)
        return ERROR_EXIT
    if isinstance(result, str):
        if getattr(args, "json", False):
            print(json.dumps({"message": result}, ensure_ascii=False))
        elif result:  # "": the command wrote its output itself (a sheet on standard output)
            print(result)
    elif getattr(args, "json", False):
        print(result.model_dump_json())
    else:
        print(text(result) if text else result.model_dump_json(indent=2))
    return 0


def add_json(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `--json` flag every administration command has."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser
