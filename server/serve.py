"""`jinglin serve`: check the backends, say what is used, serve; a start-up failure is one line.

An operator (or systemd) starting a process wants to know where it listens and which database and
Redis it uses, and, when it cannot start, why, in one line and with a non-zero exit: not a
traceback of the first query that happened to fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
import uvloop
from aiohttp import web
from sqlalchemy.engine import make_url

from server.app import create_app, product_version
from server.auth import passwords
from server.db.migrate import schema_revisions
from server.http import app_keys
from server.runtime.embedded_redis import socket_path_for
from server.runtime.logging_setup import configure_logging
from server.settings import Settings
from server.signaling.context import SIGNALING
from server.signaling.listener import PacedSite

# How long a backend may take to answer the start-up check.
PREFLIGHT_TIMEOUT_S = 5.0


class StartupError(Exception):
    """A reason not to start, worded for the operator."""


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def describe(settings: Settings, host: str, port: int) -> list[str]:
    """What the process is about to use, for the start-up banner (no passwords)."""
    database = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    redis = (f"embedded ({socket_path_for(settings.data_dir)})" if settings.uses_embedded_redis
             else _without_password(settings.redis_url))
    lines = [f"jinglin {product_version()} listening on http://{host}:{port}",
             f"  database: {database}", f"  redis:    {redis}", f"  data dir: {settings.data_dir.resolve()}"]
    if settings.public_url or settings.trusted_proxies:
        proxies = ", ".join(settings.trusted_proxies) or "none"
        lines.append(f"  public:   {settings.public_url or '(from the proxy)'}; trusted proxies: {proxies}")
    lines.append(f"  turn:     {', '.join(settings.turn_urls) or 'none'}"
                 + (" (kiosks relay only)" if settings.kiosk_force_relay else ""))
    return lines


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def preflight(settings: Settings) -> None:
    """Raise StartupError unless the secret key is usable, the database is at this code's schema
    and Redis answers."""
    try:
        settings.resolved_secret_key()
    except (ValueError, OSError) as exc:
        raise StartupError(str(exc)) from None
    try:
        async with asyncio.timeout(PREFLIGHT_TIMEOUT_S):
            current, head = await schema_revisions(settings.resolved_database_url)
    except ModuleNotFoundError as exc:  # asyncpg is an extra: SQLite sites do not need it
        raise StartupError(f"no driver for this database ({exc.name}): pip install "
                           "'jinglin-bangban[postgresql]'") from None
    except Exception as exc:
        raise StartupError(f"cannot reach the database: {_reason(exc)}") from None
    if current != head:
        state = "has no schema" if current is None else f"is at revision {current}, this version needs {head}"
        raise StartupError(f"the database {state}: run `jinglin migrate` first")
    if settings.uses_embedded_redis:
        return
    client = aioredis.from_url(settings.redis_url, socket_connect_timeout=PREFLIGHT_TIMEOUT_S,
                               socket_timeout=PREFLIGHT_TIMEOUT_S)
    try:
        await client.ping()
    except Exception as exc:
        where = _without_password(settings.redis_url)
        raise StartupError(f"Redis at {where} does not answer: {_reason(exc)}") from None
    finally:
        await client.aclose()


async def _serve_app(app: web.Application, settings: Settings, host: str, port: int,
                     on_listening: Callable[[], None]) -> None:
    """Run `app` on a paced listener (server/signaling/listener.py) until cancelled."""
    runner = web.AppRunner(app, access_log=None, handle_signals=True)
    await runner.setup()
    try:
        site = PacedSite(runner, host, port, admission=app[SIGNALING].admission,
                         max_wait_s=settings.accept_max_wait_s, backlog=settings.listen_backlog)
        await site.start()
        on_listening()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _run(app: web.Application, settings: Settings, host: str, port: int, loop: asyncio.AbstractEventLoop,
         on_listening: Callable[[], None]) -> None:
    """As `web.run_app`, on the paced site: serve until SIGINT or SIGTERM, then stop gracefully."""
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve_app(app, settings, host, port, on_listening))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            rest = asyncio.all_tasks(loop)
            for task in rest:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)


def serve(settings: Settings, host: str, port: int) -> int:
    """Serve until interrupted; 0 after a normal stop, 1 (after one line on stderr) when start-up fails."""
    try:
        settings.ensure_data_dir()
        asyncio.run(preflight(settings))  # before logging is set up: Alembic's INFO lines stay quiet
    except (StartupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configure_logging(settings.log_level, settings.log_json)
    if passwords.PROFILE != "standard":
        logging.getLogger(__name__).warning(
            "JINGLIN_PASSWORD_PROFILE=%s: cheap password hashes for tests and simulations; never serve a real "
            "district so", passwords.PROFILE)
    app = create_app(settings)
    # uvloop: about 10-15 % less CPU per relayed signaling message than the stdlib loop.
    loop = uvloop.new_event_loop() if settings.uvloop else asyncio.new_event_loop()
    try:
        # The banner comes once the socket listens: it then tells the truth.
        _run(app, settings, host, port, loop,
             on_listening=lambda: print("\n".join(describe(settings, host, port)), flush=True))
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"error: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"error: start-up failed: {_reason(exc)}", file=sys.stderr)
        return 1
    finally:
        # A failure after the embedded Redis started can skip its cleanup: never leave it orphaned.
        embedded = app.get(app_keys.EMBEDDED_REDIS)
        if embedded is not None and embedded.pid is not None:
            asyncio.run(embedded.stop())
    return 0
