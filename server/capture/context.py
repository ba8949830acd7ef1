"""The capture subsystem's cleanup context: its port onto signaling, handlers, the candidate relay
and the daily purge.

Appended to `app.cleanup_ctx` after `signaling_context` (it needs `app[SIGNALING]`). This is the
one module of capture that sees the signaling service: it builds the narrow `CallDirectory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError
from session_queue import parse_event
from sqlalchemy.exc import SQLAlchemyError

from server.capture.health import delete_old_samples
from server.capture.port import CallDirectory
from server.capture.purge import purge_expired
from server.capture.service import CaptureService
from server.capture.storage import CaptureStore
from server.db.types import utcnow
from server.http import app_keys
from server.protocol.messages import CandidatePayload
from server.settings import Settings
from server.signaling.context import SIGNALING
from server.signaling.hub import ChannelHandler
from server.signaling.ice import ice_servers
from server.signaling.service import SignalingService

log = logging.getLogger(__name__)

CAPTURE: web.AppKey[CaptureService] = web.AppKey("capture")
# Each analysis peer decodes a video stream (VP8 720p: 3-4 ms a frame at 30 fps, ~10% of a core)
# and analyses 6 frames a second (~4 ms each): 8 peers keep a 2-core server well under one core.
MAX_ANALYSIS_PEERS = 8
PURGE_INTERVAL_S = 24 * 3600
# The first purge waits a little so that a restarting fleet does not purge all at once.
FIRST_PURGE_DELAY_S = 60.0


async def capture_context(app: web.Application) -> AsyncIterator[None]:
    """Create the capture service, register its handlers, run the relay and the daily purge."""
    settings = app[app_keys.SETTINGS]
    store = CaptureStore(settings.ensure_data_dir(), settings.resolved_secret_key())
    signaling = app[SIGNALING]
    keys = app[app_keys.REDIS_KEYS]
    service = CaptureService(call_directory(signaling, settings), app[app_keys.REDIS], keys, app[app_keys.DB_SESSIONS],
                             store, MAX_ANALYSIS_PEERS)
    service.register()
    app[CAPTURE] = service
    stop = asyncio.Event()
    await signaling.hub.subscribe(keys.capture_signal_channel, _relay(service))
    await signaling.hub.subscribe(signaling.queue.keys.channel, _calls_ending(service))
    tasks = [asyncio.create_task(_daily_purge(app, stop), name="capture-purge")]
    yield
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await service.pool.close_all()


def call_directory(signaling: SignalingService, settings: Settings) -> CallDirectory:
    """Capture's port onto the calls, backed by the signaling service."""
    def servers(actor: str) -> list[dict[str, Any]]:
        return [s.model_dump(exclude_none=True) for s in ice_servers(settings, actor)]

    return CallDirectory(send_to=signaling.hub.send_to, ticket=signaling.queue.ticket,
                         catalog=signaling.catalog.current, ice_servers=servers, register=signaling.register)


def _relay(service: CaptureService) -> ChannelHandler:
    """Apply candidates that reached another process to the peers held here."""
    async def on_message(data: bytes) -> None:
        try:
            relayed = json.loads(data)
            await service.apply_candidate(str(relayed["capture_id"]),
                                          CandidatePayload.model_validate(relayed["candidate"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("bad relayed capture signal", extra={"error": type(exc).__name__})
    return on_message


def _calls_ending(service: CaptureService) -> ChannelHandler:
    """Cancel the live capture request of every call that ends (the queue's events channel)."""
    async def on_message(data: bytes) -> None:
        try:
            event = parse_event(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("bad queue event", extra={"error": type(exc).__name__})
            return
        for tr in event.transitions:
            if tr.entity == "ticket" and tr.ticket_id and tr.from_state == "in_call" and tr.to_state != "in_call":
                try:
                    await service.call_over(tr.ticket_id)
                except (RedisError, SQLAlchemyError, OSError) as exc:
                    # The upload and the analysis peer check the call again before storing anything.
                    log.warning("capture not ended with its call", extra={"error": type(exc).__name__})
    return on_message


async def _daily_purge(app: web.Application, stop: asyncio.Event) -> None:
    settings = app[app_keys.SETTINGS]
    delay = FIRST_PURGE_DELAY_S
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
            return
        delay = PURGE_INTERVAL_S
        try:
            report = await purge_expired(app[app_keys.DB_SESSIONS], settings.data_dir,
                                         settings.capture_retention_days, utcnow())
            log.info("capture purge", extra=report.as_json())
            log.info("camera health purge", extra={"samples": await delete_old_samples(app[app_keys.DB_SESSIONS],
                                                                                      utcnow())})
        except (SQLAlchemyError, OSError) as exc:
            log.warning("capture purge failed; next run tomorrow", extra={"error": type(exc).__name__})
