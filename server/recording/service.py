"""The recording service: store chunks once, close with a verdict, summarise, read back in order.

Idempotence: a chunk index is stored once. A retry with the same bytes (same SHA-256) is accepted
again without writing; different bytes for a stored index are refused (`ChunkConflict`), so a
stored recording cannot be overwritten through the upload API.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import AuditLog, Recording, RecordingChunk
from server.db.types import utcnow
from server.recording.remux import remux_isolated, segments
from server.recording.state import open_state, verdict
from server.recording.storage import REPLAY_INDEX, ChunkStore
from server.reports.schemas import RecordingSummaryOut


class ChunkConflict(Exception):
    """A stored chunk index was sent again with different bytes."""


class RecordingClosed(Exception):
    """The recording was closed; no more chunks are taken."""


@dataclass(frozen=True)
class StoredChunk:
    """The answer to an upload: the index, whether this request stored it, the next index to send."""

    index: int
    stored: bool
    next_index: int


# `recording` in the session detail: one model for the API and the code.
Summary = RecordingSummaryOut


def summarise(row: Recording | None, session_live: bool, enabled: bool = True) -> Summary:
    """The summary of a recording row (None: never started) for a session that is live or not."""
    if row is None:
        return Summary(state="missing", reason="not_started" if enabled else "disabled", chunks=0, bytes=0,
                       duration_s=None, sha256=None, missing=[])
    if row.closed_at is None:
        current = open_state(row.chunks, session_live)
        return Summary(state=current.state, reason=current.reason, chunks=row.chunks, bytes=row.bytes,
                       duration_s=None, sha256=None, missing=current.missing)
    reason = "purged" if row.purged_at is not None else row.reason
    return Summary(state=row.state, reason=reason, chunks=row.chunks, bytes=row.bytes, duration_s=row.duration_s,
                   sha256=row.sha256, missing=list(row.missing or []))


class RecordingService:
    """Chunk storage and the recording rows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: ChunkStore) -> None:
        self.sessions = sessions
        self.store = store

    async def row(self, session_id: str) -> Recording | None:
        """The recording row of a session, if any chunk or close arrived."""
        async with self.sessions() as session:
            return await session.get(Recording, session_id)

    async def next_index(self, session_id: str) -> int:
        """The index a resuming console sends next: one past the highest stored."""
        async with self.sessions() as session:
            highest = await session.scalar(select(func.max(RecordingChunk.idx))
                                           .where(RecordingChunk.session_id == session_id))
        return 0 if highest is None else int(highest) + 1

    async def _recording(self, session: AsyncSession, session_id: str) -> Recording:
        row = await session.get(Recording, session_id)
        if row is None:
            row = Recording(session_id=session_id, storage_name=self.store.new_name(), state="recording", reason="",
                            chunks=0, bytes=0, missing=[], started_at=utcnow())
            session.add(row)
            await session.flush()
        return row

    async def put_chunk(self, session_id: str, index: int, data: bytes, *, holder: str | None = None) -> StoredChunk:
        """Store chunk `index` once; ChunkConflict for different bytes, RecordingClosed after close,
        unless holder (the audit actor of the uploader, who holds the live call) is not the one who
        closed it: after a 转办 the caseworker who took the call continues the recording the first
        one closed at the end of their part, and their own close judges it again."""
        digest = hashlib.sha256(data).hexdigest()
        for attempt in range(2):
            try:
                return await self._put(session_id, index, data, digest, holder)
            except IntegrityError:
                # A concurrent request created the recording or stored this index first: read again.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _put(self, session_id: str, index: int, data: bytes, digest: str, holder: str | None) -> StoredChunk:
        async with self.sessions() as session, session.begin():
            row = await self._recording(session, session_id)
            existing = await session.get(RecordingChunk, (session_id, index))
            if existing is not None:
                if existing.sha256 != digest:
                    raise ChunkConflict
                return StoredChunk(index, False, await self._next(session, session_id))
            if row.closed_at is not None:
                if holder is None or await self._closed_by(session, session_id) in (holder, None):
                    raise RecordingClosed
                # Open again: the first close's seal and verdict no longer describe it.
                row.closed_at, row.state, row.reason, row.missing = None, "recording", "", []
                row.sha256, row.replay_bytes, row.duration_s = None, None, None
            # The file first: a row never points at a chunk that is not on disk. A file left by a
            # failed commit is overwritten by the retry of the same index.
            await asyncio.to_thread(self.store.write, row.storage_name, index, data)
            session.add(RecordingChunk(session_id=session_id, idx=index, size=len(data), sha256=digest,
                                       created_at=utcnow()))
            row.chunks += 1
            row.bytes += len(data)
            await session.flush()
            return StoredChunk(index, True, await self._next(session, session_id))

    @staticmethod
    async def _closed_by(session: AsyncSession, session_id: str) -> str | None:
        """The audit actor of the recording's last close (server/recording/views.post_close)."""
        return await session.scalar(select(AuditLog.actor).where(
            AuditLog.object_type == "recording", AuditLog.object_id == session_id,
            AuditLog.action == "recording_closed").order_by(AuditLog.id.desc()).limit(1))

    @staticmethod
    async def _next(session: AsyncSession, session_id: str) -> int:
        highest = await session.scalar(select(func.max(RecordingChunk.idx))
                                       .where(RecordingChunk.session_id == session_id))
        return 0 if highest is None else int(highest) + 1

    async def close(self, session_id: str, declared: int, duration_s: float | None, reason: str,
                    actor: str | None = None) -> Summary:
        """Close the recording: verdict, SHA-256 over the plaintext in index order. Closing again
        recomputes (a late chunk retried before the second close is counted). With actor, the
        `recording_closed` audit entry is written in the same transaction: who closed it decides
        whether a chunk after the close continues it (put_chunk), so the two must land together."""
        async with self.sessions() as session, session.begin():
            row = await self._recording(session, session_id)
            chunks = (await session.scalars(select(RecordingChunk.idx).where(RecordingChunk.session_id == session_id)
                                            .order_by(RecordingChunk.idx))).all()
            judged = verdict(chunks, declared, reason)
            row.sha256, row.replay_bytes = (await asyncio.to_thread(self._seal, row.storage_name, list(chunks))
                                            if chunks else (None, None))
            row.state, row.reason, row.missing = judged.state, judged.reason, judged.missing
            row.duration_s = None if duration_s is None else round(duration_s, 1)
            row.closed_at = utcnow()
            summary = summarise(row, session_live=False)
            if actor is not None:
                session.add(AuditLog(at=row.closed_at, actor=actor, action="recording_closed", object_type="recording",
                                     object_id=session_id, data={"state": summary.state, "chunks": summary.chunks,
                                                                 "reason": summary.reason}))
            return summary

    def _seal(self, name: str, indexes: list[int]) -> tuple[str, int | None]:
        """SHA-256 over the chunks' plaintext in order, and the player's continuous WebM (its size)."""
        running = hashlib.sha256()
        plaintexts = []
        for index in indexes:
            plaintexts.append(self.store.read(name, index))
            running.update(plaintexts[-1])
        replay = remux_isolated(segments(plaintexts))
        if replay is None:
            return running.hexdigest(), None
        self.store.write(name, REPLAY_INDEX, replay)
        return running.hexdigest(), len(replay)

    async def chunk_sizes(self, session_id: str, player: bool = False) -> list[tuple[int, int]]:
        """(index, plaintext size) of the stored chunks, in order: the replay's layout. For the
        player, the continuous WebM made at close when there is one."""
        async with self.sessions() as session:
            row = await session.get(Recording, session_id)
            if player and row is not None and row.replay_bytes and row.closed_at is not None:
                return [(REPLAY_INDEX, row.replay_bytes)]
            rows = await session.execute(select(RecordingChunk.idx, RecordingChunk.size)
                                         .where(RecordingChunk.session_id == session_id).order_by(RecordingChunk.idx))
            return [(int(i), int(s)) for i, s in rows.all()]

    async def read_range(self, name: str, layout: list[tuple[int, int]], first: int, last: int
                         ) -> AsyncIterator[bytes]:
        """Decrypted bytes first..last (inclusive) of the concatenated chunks."""
        offset = 0
        for index, size in layout:
            end = offset + size  # exclusive
            if end > first and offset <= last:
                plaintext = await asyncio.to_thread(self.store.read, name, index)
                yield plaintext[max(0, first - offset):min(size, last - offset + 1)]
            offset = end
            if offset > last:
                break

