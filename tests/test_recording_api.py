"""Call recording over HTTP: chunk upload and its bad inputs, close verdicts, replay with ranges,
audit, the session detail, purge with retention and open follow-ups, the low-disk refusal.

Full app with the real Redis and database (tests/test_capture_support.py starts it)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from server.acceptance.notices import notice_book
from server.db.models import AuditLog, FollowUp, Recording, ServiceSession
from server.db.types import utcnow
from server.http import app_keys
from server.recording.purge import purge_recordings
from server.recording.storage import MAGIC, recording_dir
from tests.test_capture_support import SKILL, Client, Env, capture_env, into_call


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with capture_env(tmp_path, JINGLIN_RECORDING_MAX_CHUNK_BYTES="65536") as running:
        yield running


@pytest.fixture
async def made(env: Env) -> AsyncIterator[list[Client]]:
    clients: list[Client] = []
    yield clients
    for client in clients:
        await client.close()


def _chunk_url(env: Env, call_id: str, index: object) -> str:
    return env.url(f"/api/v1/sessions/{call_id}/recording/chunks/{index}")


async def _put(client: Client, env: Env, call_id: str, index: object, data: bytes) -> tuple[int, dict]:
    response = await client.http.put(_chunk_url(env, call_id, index), data=data,
                                     headers={"Content-Type": "video/webm"})
    return response.status, await response.json()


async def _staff(env: Env, made: list[Client], name: str) -> Client:
    client = Client(env)
    made.append(client)
    await client.staff_login(name)
    return client


async def _audit(env: Env, action: str) -> list[AuditLog]:
    async with env.app[app_keys.DB_SESSIONS]() as session:
        return list((await session.scalars(select(AuditLog).where(AuditLog.action == action))).all())


async def _recorded(env: Env, made: list[Client], chunks: list[bytes], kiosk_n: int = 0,
                    cw_name: str = "cw1") -> tuple[Client, str]:
    """A live call whose caseworker uploaded these chunks (indexes 0..n-1) and closed."""
    _, cw, call_id = await into_call(env, made, kiosk_n, cw_name)
    for index, data in enumerate(chunks):
        status, body = await _put(cw, env, call_id, index, data)
        assert status == 201, body
    response = await cw.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"),
                                  json={"chunks": len(chunks), "duration_s": 12.5})
    assert response.status == 200, await response.text()
    return cw, call_id


async def test_upload_is_idempotent_and_a_different_replay_is_refused_and_audited(env: Env,
                                                                                 made: list[Client]) -> None:
    _, cw, call_id = await into_call(env, made)
    first, second = os.urandom(3000), os.urandom(2000)
    assert await _put(cw, env, call_id, 0, first) == (201, {"index": 0, "stored": True, "next_index": 1})
    assert (await _put(cw, env, call_id, 1, second))[0] == 201
    # The same bytes again (a retry after a lost answer) are accepted without a second copy.
    assert await _put(cw, env, call_id, 1, second) == (200, {"index": 1, "stored": False, "next_index": 2})
    status, body = await _put(cw, env, call_id, 1, os.urandom(2000))
    assert status == 409 and body["error"]["code"] == "chunk_conflict"
    conflicts = await _audit(env, "recording_chunk_conflict")
    assert [(a.object_id, a.data["index"], a.actor[:11]) for a in conflicts] == [(call_id, 1, "caseworker:")]
    resume = await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/recording/chunks"))
    assert await resume.json() == {"next_index": 2, "chunks": 2, "bytes": 5000, "state": "recording"}
    async with env.app[app_keys.DB_SESSIONS]() as session:
        row = await session.get(Recording, call_id)
        assert row is not None and row.chunks == 2 and row.bytes == 5000
    # At rest: encrypted (magic + nonce + ciphertext), not the plaintext.
    stored = (recording_dir(env.app[app_keys.SETTINGS].data_dir, row.storage_name) / "0000000.jlr").read_bytes()
    assert stored.startswith(MAGIC) and first[:64] not in stored and len(stored) == len(first) + 4 + 12 + 16


async def test_bad_chunk_requests_get_clear_errors(env: Env, made: list[Client]) -> None:
    kiosk, cw, call_id = await into_call(env, made)
    for index in ("-1", "100000", "abc", "1.5", "\uff10", "\u0661", "\u00b2"):  # full-width, Arabic-Indic, superscript
        status, body = await _put(cw, env, call_id, index, b"x" * 10)
        assert (status, body["error"]["code"]) == (400, "bad_index"), index
    status, body = await _put(cw, env, call_id, 0, b"")
    assert (status, body["error"]["code"]) == (400, "empty_chunk")
    status, body = await _put(cw, env, call_id, 0, os.urandom(65537))
    assert (status, body["error"]["code"]) == (413, "too_large")
    other = await _staff(env, made, "cw2")
    status, body = await _put(other, env, call_id, 0, b"x" * 10)
    assert (status, body["error"]["code"]) == (403, "not_your_session")
    assert len(await _audit(env, "recording_upload_denied")) == 1
    boss = await _staff(env, made, "boss")
    assert (await _put(boss, env, call_id, 0, b"x"))[0] == 403
    assert (await _put(kiosk, env, call_id, 0, b"x"))[0] == 403
    status, body = await _put(cw, env, "0" * 32, 0, b"x")
    assert (status, body["error"]["code"]) == (404, "unknown_session")
    # Nothing of the refused requests was stored; a good chunk still is.
    assert (await _put(cw, env, call_id, 0, b"good"))[0] == 201
    # After the call (no wrap-up in this setup) the upload is refused with 409; closing still works.
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "completed"})
    assert reply["type"] == "ok", reply
    status, body = await _put(cw, env, call_id, 1, b"late")
    assert (status, body["error"]["code"]) == (409, "not_live")
    close = await cw.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"), json={"chunks": -1})
    assert close.status == 422
    close = await cw.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"), json={"chunks": 1})
    assert (await close.json())["state"] == "complete"


async def test_gap_at_close_is_partial_with_the_missing_indexes(env: Env, made: list[Client]) -> None:
    _, cw, call_id = await into_call(env, made)
    for index in (0, 2, 3):
        assert (await _put(cw, env, call_id, index, f"chunk {index}".encode()))[0] == 201
    response = await cw.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"),
                                  json={"chunks": 5, "duration_s": 25})
    body = await response.json()
    assert body["state"] == "partial" and body["reason"] == "gap" and body["missing"] == [1, 4]
    assert body["sha256"] == hashlib.sha256(b"chunk 0chunk 2chunk 3").hexdigest()
    # A chunk after close is refused: the record of what was closed does not change underneath.
    status, error = await _put(cw, env, call_id, 1, b"chunk 1")
    assert (status, error["error"]["code"]) == (409, "recording_closed")


async def test_console_without_recorder_closes_as_missing_with_reason(env: Env, made: list[Client]) -> None:
    _, cw, call_id = await into_call(env, made)
    # A reason the console does not give is refused, and nothing is closed.
    response = await cw.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"),
                                  json={"chunks": 0, "reason": "zzz"})
    assert (response.status, (await response.json())["error"]["code"]) == (422, "invalid")
    response = await cw.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"),
                                  json={"chunks": 0, "reason": "unsupported"})
    body = await response.json()
    assert (body["state"], body["reason"], body["chunks"]) == ("missing", "unsupported", 0)


async def test_replay_with_ranges_for_supervisors_only_and_audited(env: Env, made: list[Client]) -> None:
    chunks = [os.urandom(1000), os.urandom(1500), os.urandom(700)]
    whole = b"".join(chunks)
    cw, call_id = await _recorded(env, made, chunks)
    boss = await _staff(env, made, "boss")
    detail = await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))
    assert detail.status == 200
    recording = (await detail.json())["recording"]
    assert recording == {"state": "complete", "reason": "", "chunks": 3, "bytes": 3200, "duration_s": 12.5,
                         "sha256": hashlib.sha256(whole).hexdigest(), "missing": []}
    url = env.url(f"/api/v1/sessions/{call_id}/recording")
    response = await boss.http.get(url)
    assert response.status == 200 and response.headers["Accept-Ranges"] == "bytes"
    assert response.content_type == "video/webm" and response.headers["Cache-Control"] == "no-store"
    assert await response.read() == whole
    for header, first, last in (("bytes=900-2600", 900, 2600), ("bytes=3000-", 3000, 3199), ("bytes=-50", 3150, 3199),
                                ("bytes=0-99999", 0, 3199)):
        response = await boss.http.get(url, headers={"Range": header})
        assert response.status == 206, header
        assert response.headers["Content-Range"] == f"bytes {first}-{last}/3200"
        assert await response.read() == whole[first:last + 1], header
    response = await boss.http.get(url, headers={"Range": "bytes=3200-"})
    assert response.status == 416 and response.headers["Content-Range"] == "bytes */3200"
    # These chunks are no WebM: nothing to remux, and the player variant is the chunks as uploaded.
    response = await boss.http.get(url + "?variant=player")
    assert response.status == 200 and await response.read() == whole
    assert (await boss.http.get(url + "?variant=other")).status == 400
    views = await _audit(env, "recording_viewed")
    assert len(views) == 6 and all(v.actor.startswith("supervisor:") and v.object_id == call_id for v in views)
    # The session's own caseworker may not replay unless the setting allows it; the refusal is audited.
    response = await cw.http.get(url)
    assert response.status == 403
    assert len(await _audit(env, "recording_view_denied")) == 1
    assert (await boss.http.get(env.url(f"/api/v1/sessions/{'0' * 32}/recording"))).status == 404
    assert (await boss.http.get(env.url(f"/api/v1/sessions/{'0' * 32}"))).status == 404
    assert (await cw.http.get(env.url(f"/api/v1/sessions/{call_id}"))).status == 403
    # The board: the call is live, so it does not count as lacking a complete recording yet.
    day = await (await boss.http.get(env.url("/api/v1/recordings"))).json()
    assert (day["sessions"], day["without_complete"]) == (1, 0)
    assert day["items"][0]["id"] == call_id and day["items"][0]["recording"]["state"] == "complete"
    for day in ("yesterday", "9999-12-31", "0001-01-01"):
        assert (await boss.http.get(env.url(f"/api/v1/recordings?date={day}"))).status == 400, day


async def test_board_counts_ended_sessions_without_a_complete_recording(env: Env, made: list[Client]) -> None:
    _, cw, call_id = await into_call(env, made)
    boss = await _staff(env, made, "boss")
    live = await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json()
    assert live["recording"]["state"] == "missing" and live["recording"]["reason"] == "not_started"
    assert (await _put(cw, env, call_id, 0, b"first"))[0] == 201
    live = await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json()
    assert live["recording"]["state"] == "recording"
    # The console crashed: the call ends without a close.
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "completed"})
    assert reply["type"] == "ok", reply
    ended = await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json()
    assert (ended["recording"]["state"], ended["recording"]["reason"]) == ("partial", "not_closed")
    day = await (await boss.http.get(env.url("/api/v1/recordings"))).json()
    assert (day["sessions"], day["without_complete"]) == (1, 1)


async def test_caseworker_replay_when_the_setting_allows(tmp_path: Path) -> None:
    async with capture_env(tmp_path, JINGLIN_RECORDING_CASEWORKER_REPLAY="true") as env:
        made: list[Client] = []
        try:
            cw, call_id = await _recorded(env, made, [b"abc", b"def"])
            response = await cw.http.get(env.url(f"/api/v1/sessions/{call_id}/recording"))
            assert response.status == 200 and await response.read() == b"abcdef"
            other = await _staff(env, made, "cw2")
            assert (await other.http.get(env.url(f"/api/v1/sessions/{call_id}/recording"))).status == 403
        finally:
            for client in made:
                await client.close()


async def test_low_disk_refuses_uploads_and_health_warns(tmp_path: Path) -> None:
    async with capture_env(tmp_path, JINGLIN_MIN_FREE_DISK_MB=str(1 << 40)) as env:
        made: list[Client] = []
        try:
            _, cw, call_id = await into_call(env, made)
            status, body = await _put(cw, env, call_id, 0, b"x" * 100)
            assert (status, body["error"]["code"]) == (507, "storage_low")
            health = await cw.http.get(env.url("/healthz"))
            body = await health.json()
            assert health.status == 200 and body["disk"] == "low" and body["warnings"] == ["disk_low"]
        finally:
            for client in made:
                await client.close()


async def test_purge_keeps_recordings_under_open_followups(env: Env, made: list[Client]) -> None:
    _, first = await _recorded(env, made, [b"one"])
    _, second = await _recorded(env, made, [b"two"], kiosk_n=1, cw_name="cw2")
    sessions = env.app[app_keys.DB_SESSIONS]
    data_dir = env.app[app_keys.SETTINGS].data_dir
    old = utcnow() - timedelta(days=200)
    async with sessions() as session, session.begin():
        await session.execute(update(Recording).values(started_at=old))
        row = await session.get(ServiceSession, second)
        assert row is not None
        session.add(FollowUp(session_id=second, centre_id=row.centre_id, state="open", due_at=utcnow()))
    dry = await purge_recordings(sessions, data_dir, 180, utcnow(), dry_run=True)
    assert (dry.recordings, dry.kept_for_followup, dry.session_ids) == (1, 1, [first])
    report = await purge_recordings(sessions, data_dir, 180, utcnow())
    assert (report.recordings, report.files_removed, report.kept_for_followup) == (1, 1, 1)
    boss = await _staff(env, made, "boss")
    assert (await boss.http.get(env.url(f"/api/v1/sessions/{first}/recording"))).status == 410
    assert (await (await boss.http.get(env.url(f"/api/v1/sessions/{first}"))).json())["recording"]["reason"] == "purged"
    assert (await boss.http.get(env.url(f"/api/v1/sessions/{second}/recording"))).status == 200
    # Resolved follow-up: the next run purges it; a run with nothing due does nothing.
    async with sessions() as session, session.begin():
        await session.execute(update(FollowUp).values(state="resolved"))
    assert (await purge_recordings(sessions, data_dir, 180, utcnow())).recordings == 1
    assert (await purge_recordings(sessions, data_dir, 180, utcnow())).recordings == 0
    assert len(await _audit(env, "recordings_purged")) == 2


async def test_recording_switched_off(tmp_path: Path) -> None:
    async with capture_env(tmp_path, JINGLIN_RECORDING="false") as env:
        made: list[Client] = []
        try:
            _, _, call_id = await into_call(env, made)
            boss = await _staff(env, made, "boss")
            # The pages are told (the console does not record, the kiosk shows no notice).
            for page in ("/kiosk", "/agent"):
                assert 'data-recording="off"' in await (await boss.http.get(env.url(page))).text()
            recording = (await (await boss.http.get(env.url(f"/api/v1/sessions/{call_id}"))).json())["recording"]
            assert (recording["state"], recording["reason"]) == ("missing", "disabled")
        finally:
            for client in made:
                await client.close()
    (tmp_path / "on").mkdir()
    async with capture_env(tmp_path / "on") as env:
        client = Client(env)
        try:
            assert 'data-recording="on"' in await (await client.http.get(env.url("/agent"))).text()
        finally:
            await client.close()


async def test_the_last_chunks_of_a_transferred_call_are_kept(tmp_path: Path) -> None:
    """A 转办 sends the ticket back to the line and the caseworker into wrap-up: the chunks the
    console still sends (the last seconds, or all of a call shorter than a chunk) are kept."""
    async with capture_env(tmp_path, JINGLIN_WRAP_UP_S="60") as env:
        made: list[Client] = []
        try:
            _kiosk, cw, call_id = await into_call(env, made)
            assert (await _put(cw, env, call_id, 0, b"first"))[0] == 201
            reply = await cw.request({"type": "transfer", "ticket_id": call_id, "skill": "archives"})
            assert reply["type"] == "ok", reply
            assert (await _put(cw, env, call_id, 1, b"last"))[0] == 201
            # Another caseworker may not, and after the wrap-up neither may the one who transferred it.
            other = await _staff(env, made, "cw2")
            assert (await _put(other, env, call_id, 2, b"x"))[1]["error"]["code"] == "not_your_session"
            assert (await cw.request({"type": "finish_wrap_up"}))["type"] == "ok"
            assert (await _put(cw, env, call_id, 2, b"late"))[1]["error"]["code"] == "not_live"
        finally:
            for client in made:
                await client.close()


async def test_a_call_transferred_to_a_free_caseworker_is_recorded_by_both(tmp_path: Path) -> None:
    """A 转办 offered at once to a free caseworker: the first one's last chunks are kept during its
    wrap-up (the offered ticket names the other, who holds no call yet), its close ends its part,
    and the caseworker who takes the call continues the same recording; their close judges it."""
    async with capture_env(tmp_path, JINGLIN_WRAP_UP_S="60") as env:
        made: list[Client] = []
        try:
            _kiosk, first, call_id = await into_call(env, made)
            second = await _staff(env, made, "cw2")
            await second.connect()
            await second.send({"type": "set_status", "status": "available"})
            assert (await _put(first, env, call_id, 0, b"first"))[0] == 201
            assert (await first.request({"type": "transfer", "ticket_id": call_id, "skill": SKILL}))["type"] == "ok"
            offer = (await second.expect("offer"))["offer"]
            assert (await _put(first, env, call_id, 1, b"last of the first"))[0] == 201
            closed = await first.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"),
                                           json={"chunks": 2, "duration_s": 8.0})
            assert closed.status == 200 and (await closed.json())["state"] == "complete"
            await second.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
            await second.expect("call")
            resume = await (await second.http.get(env.url(f"/api/v1/sessions/{call_id}/recording/chunks"))).json()
            assert resume["next_index"] == 2
            assert (await _put(second, env, call_id, 2, b"the second"))[0] == 201
            assert (await _put(first, env, call_id, 3, b"stray"))[1]["error"]["code"] == "not_your_session"
            closed = await second.http.post(env.url(f"/api/v1/sessions/{call_id}/recording/close"),
                                            json={"chunks": 3, "duration_s": 12.0})
            summary = await closed.json()
            assert (summary["state"], summary["chunks"]) == ("complete", 3), summary
        finally:
            for client in made:
                await client.close()


async def test_no_recording_is_stored_for_a_resident_who_declined(env: Env, made: list[Client]) -> None:
    """A declined notice: the console does not record, and the server refuses chunks (audited)."""
    _kiosk, cw, call_id = await into_call(env, made, consent={"version": notice_book().current, "choice": "declined"})
    status, body = await _put(cw, env, call_id, 0, b"should not be kept")
    assert (status, body["error"]["code"]) == (403, "consent_declined")
    assert [a.data["reason"] for a in await _audit(env, "recording_upload_denied")] == ["consent_declined"]
    async with env.app[app_keys.DB_SESSIONS]() as session:
        assert await session.get(Recording, call_id) is None
