"""The recording subsystem's cleanup context: the service under `RECORDING` and the daily purge."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from server.db.types import utcnow
from server.http import app_keys
from server.recording.access import LIVE_STATES
from server.recording.purge import purge_recordings
from server.recording.service import RecordingService, summarise
from server.recording.storage import ChunkStore
from server.reports.queries import SessionRow
from server.reports.session_detail import add_detail_part
from server.runtime.periodic import background, run_periodically

log = logging.getLogger(__name__)

RECORDING: web.AppKey[RecordingService] = web.AppKey("recording")
PURGE_INTERVAL_S = 24 * 3600
# After the capture purge's first run (60 s), so a restarting server does not do both at once.
FIRST_PURGE_DELAY_S = 90.0


async def recording_context(app: web.Application) -> AsyncIterator[None]:
    """Create the recording service and run the daily purge."""
    settings = app[app_keys.SETTINGS]
    store = ChunkStore(settings.ensure_data_dir(), settings.resolved_secret_key())
    service = RecordingService(app[app_keys.DB_SESSIONS], store)
    app[RECORDING] = service

    async def detail(_: web.Application, row: SessionRow) -> dict[str, object]:
        return summarise(await service.row(row.id), row.state in LIVE_STATES, settings.recording_enabled).model_dump()

    add_detail_part(app, "recording", detail)
    async with background(lambda stop: _daily_purge(app, stop), name="recording-purge"):
        yield


async def _daily_purge(app: web.Application, stop: asyncio.Event) -> None:
    settings = app[app_keys.SETTINGS]

    async def purge() -> None:
        report = await purge_recordings(app[app_keys.DB_SESSIONS], settings.data_dir,
                                        settings.recording_retention_days, utcnow())
        log.info("recording purge", extra=report.as_json())

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), FIRST_PURGE_DELAY_S)
        return
    await run_periodically(purge, stop, PURGE_INTERVAL_S, name="recording purge")
