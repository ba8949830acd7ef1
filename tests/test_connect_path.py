"""The cheap connection path: cached sign-ins honour revocation, remembered "no ticket" answers
follow joins, coalesced lookups, batched last-seen writes (server/signaling/welcome.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from server.auth import session_cache as session_cache_module
from server.auth.session_cache import SESSION_CACHE
from server.auth.tokens import token_hash
from server.db.models import AuthSession, Kiosk
from server.db.types import utcnow
from server.http import app_keys
from server.runtime.coalesce import Coalescer
from server.signaling import places as places_module
from server.signaling.context import SIGNALING
from server.signaling.open_tickets import SHARED_TTL_S
from tests.protocol_client import Client, Env, street_env

MATTER = "gaj-jlks-01"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with street_env(tmp_path, sites=2) as env:
        yield env


async def _kiosk(env: Env, n: int = 0) -> Client:
    client = Client(env)
    await client.kiosk_login(env.kiosk_tokens[n])
    await client.connect()
    return client


async def test_a_cached_sign_in_is_refused_at_once_after_logout(env: Env) -> None:
    kiosk = await _kiosk(env)
    try:
        await kiosk.connect()  # the second upgrade is answered from the cache
        cache = env.app[SESSION_CACHE]
        assert cache.hits >= 1
        async with kiosk.http.post(env.url("/api/v1/auth/logout")) as response:
            assert response.status == 200
        assert await kiosk.wait_closed(5) == 4401
        assert not cache._entries  # forgotten at once in the process that revoked it
    finally:
        await kiosk.close()


async def test_a_revoked_session_is_not_served_from_the_cache(env: Env) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(env.url("/api/v1/kiosk/session"), json={"token": env.kiosk_tokens[0]}) as response:
            token = response.cookies["jl_session"].value
        headers = {"Cookie": f"jl_session={token}"}
        ws_url = env.url("/api/v1/ws").replace("http", "ws", 1)
        async with http.ws_connect(ws_url, headers=headers) as ws:
            await ws.send_json({"type": "hello", "v": 1})
            assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        async with http.post(env.url("/api/v1/auth/logout"), headers=headers) as response:
            assert response.status == 200
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url, headers=headers)
        assert refused.value.status == 401


async def test_a_session_revoked_without_notice_is_seen_within_the_cache_time(env: Env) -> None:
    """The backstop: a row changed by hand (no close notice) stops upgrades once the entry expires."""
    kiosk = await _kiosk(env)
    try:
        cache = env.app[SESSION_CACHE]
        async with env.app[app_keys.DB_SESSIONS]() as session, session.begin():
            await session.execute(update(Kiosk).values(enabled=False))
        for hashed in list(cache._entries):
            expiry, principal = cache._entries[hashed]
            cache._entries[hashed] = (expiry - cache.ttl_s - 1, principal)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await kiosk.connect()
        assert refused.value.status == 401
    finally:
        await kiosk.close()


async def test_a_kiosk_welcomed_without_a_ticket_gets_its_ticket_after_joining(env: Env) -> None:
    kiosk = await _kiosk(env)
    try:
        assert kiosk.welcome["state"]["ticket"] is None
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"] is None  # from the remembered answer
        await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
        ticket = (await kiosk.expect("ticket"))["ticket"]
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"]["session_id"] == ticket["session_id"]
        await kiosk.request({"type": "cancel"}, ref=1)
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"] is None
    finally:
        await kiosk.close()


async def test_a_join_through_another_process_is_seen_by_the_next_welcome(env: Env) -> None:
    """A join anywhere bumps the kiosk's counter, so an answer remembered here is not trusted."""
    kiosk = await _kiosk(env)
    try:
        service = env.app[SIGNALING]
        kiosk_id = kiosk.welcome["kiosk"]["id"]
        # As another process would: the queue service's join, not through this connection.
        joined = await service.queue_service.join(kiosk_id, MATTER, "police-general", "handle")
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"]["session_id"] == joined.session_id
    finally:
        await kiosk.close()


async def test_another_process_trusts_the_shared_no_ticket_answer_until_a_join(env: Env) -> None:
    """A failover's first connects: the answer one process read from the database is shared in
    Redis, so another process (here: this one with its own memory wiped) does not ask again; a
    join anywhere deletes it, and the next welcome reads the ticket."""
    kiosk = await _kiosk(env)
    try:
        service = env.app[SIGNALING]
        open_tickets = service.welcomer.open_tickets
        kiosk_id = kiosk.welcome["kiosk"]["id"]
        open_tickets._none.clear()
        asked = open_tickets._lookups.calls
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"] is None
        assert open_tickets._lookups.calls == asked  # from the shared marker, not the database
        joined = await service.queue_service.join(kiosk_id, MATTER, "police-general", "handle")
        assert await service.queue_service.redis.get(service.queue_service.keys.kiosk_no_ticket(kiosk_id)) is None
        open_tickets._none.clear()
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"]["session_id"] == joined.session_id
        assert open_tickets._lookups.calls == asked + 1
    finally:
        await kiosk.close()


async def test_a_late_shared_answer_from_before_a_join_is_not_believed(env: Env) -> None:
    """A process that read "none" before a join and writes its marker after it wrote the counter
    it had read: the welcome after the join sees another counter and asks the database."""
    kiosk = await _kiosk(env)
    try:
        service = env.app[SIGNALING]
        queue = service.queue_service
        kiosk_id = kiosk.welcome["kiosk"]["id"]
        key = queue.keys.kiosk_no_ticket(kiosk_id)
        stale = await queue.redis.get(key)
        assert stale is not None
        joined = await queue.join(kiosk_id, MATTER, "police-general", "handle")
        await queue.redis.set(key, stale)  # written late, after the join's delete
        service.welcomer.open_tickets._none.clear()
        await kiosk.connect()
        assert kiosk.welcome["state"]["ticket"]["session_id"] == joined.session_id
    finally:
        await kiosk.close()


async def test_last_seen_is_written_in_a_batch_after_connects(env: Env) -> None:
    async with env.app[app_keys.DB_SESSIONS]() as session, session.begin():
        await session.execute(update(Kiosk).values(last_seen_at=utcnow() - timedelta(hours=1)))
    kiosks = [await _kiosk(env, n) for n in range(2)]
    try:
        await env.app[SIGNALING].keepalive.flush_seen()
        async with env.app[app_keys.DB_SESSIONS]() as session:
            seen = (await session.scalars(select(Kiosk.last_seen_at).where(
                Kiosk.id.in_([k.welcome["kiosk"]["id"] for k in kiosks])))).all()
        assert len(seen) == 2 and all(utcnow() - s < timedelta(minutes=1) for s in seen)
    finally:
        for kiosk in kiosks:
            await kiosk.close()


async def test_a_ping_writes_last_seen_in_the_next_batch_not_its_own_transaction(env: Env) -> None:
    kiosk = await _kiosk(env, 0)
    keepalive = env.app[SIGNALING].keepalive
    try:
        await keepalive.flush_seen()  # the connect's own write
        async with env.app[app_keys.DB_SESSIONS]() as session, session.begin():
            await session.execute(update(Kiosk).values(last_seen_at=utcnow() - timedelta(hours=1)))
        kiosk_id = kiosk.welcome["kiosk"]["id"]
        connection = next(c for cs in keepalive.hub.local.values() for c in cs if c.principal.kiosk_id == kiosk_id)
        keepalive.last_seen_written.pop(kiosk_id)  # as if its last write were long ago
        transactions = 0
        real = keepalive.sessions

        def counting() -> Any:
            nonlocal transactions
            transactions += 1
            return real()

        keepalive.sessions = counting
        try:
            await keepalive.heartbeat(connection)  # what `ping` does
            assert transactions == 0 and kiosk_id in keepalive._seen
            await keepalive.flush_seen()
            assert transactions == 1
        finally:
            keepalive.sessions = real
        async with env.app[app_keys.DB_SESSIONS]() as session:
            seen = await session.scalar(select(Kiosk.last_seen_at).where(Kiosk.id == kiosk_id))
        assert seen is not None and utcnow() - seen < timedelta(minutes=1)
    finally:
        await kiosk.close()


async def test_coalesced_lookups_share_one_batch_call() -> None:
    asked: list[list[int]] = []

    async def batch(keys: list[int]) -> dict[int, str]:
        asked.append(sorted(keys))
        await asyncio.sleep(0)
        return {k: f"v{k}" for k in keys if k != 3}

    lookups: Coalescer[int, str] = Coalescer(batch, max_batch=3)
    answers = await asyncio.gather(*(lookups.get(k) for k in [1, 2, 2, 3, 4]))
    assert answers == ["v1", "v2", "v2", None, "v4"]
    assert asked == [[1, 2, 3], [4]]  # one turn of the loop, split at max_batch
    assert await lookups.get(5) == "v5" and lookups.calls == 3


async def test_a_failed_batch_reaches_every_asker() -> None:
    async def batch(keys: list[int]) -> dict[int, str]:
        raise OSError("database down")

    lookups: Coalescer[int, str] = Coalescer(batch)
    results = await asyncio.gather(lookups.get(1), lookups.get(2), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)


async def test_kiosk_places_are_read_in_one_query_before_their_first_connect(env: Env) -> None:
    places = env.app[SIGNALING].welcomer.places
    places._places.clear()  # the street was added after start-up: read it as a new process would
    assert await places.preload() == 2
    reads: list[object] = []
    original = places._read

    async def counted(kiosk_ids: list[int] | None) -> dict[int, tuple[str, str]]:
        reads.append(kiosk_ids)
        return await original(kiosk_ids)

    places._lookups = Coalescer(counted)
    kiosk = await _kiosk(env, 1)
    try:
        site, street = kiosk.welcome["kiosk"]["site"], kiosk.welcome["kiosk"]["street"]
        assert site and street and reads == []  # the welcome found the place preloaded
    finally:
        await kiosk.close()


async def test_kiosk_places_are_read_again_before_they_expire(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preloaded places expire after their TTL; the refresh reads them all again, in chunks, so a
    failover long after start-up still finds every kiosk's place here."""
    monkeypatch.setattr(places_module, "REFRESH_CHUNK", 1)
    places = env.app[SIGNALING].welcomer.places
    places._places.clear()
    chunks: list[int] = []
    original = places._read

    async def counted(kiosk_ids: list[int] | None, after: int = 0) -> dict[int, tuple[str, str]]:
        found = await original(kiosk_ids, after=after)
        chunks.append(len(found))
        return found

    monkeypatch.setattr(places, "_read", counted)
    stop = asyncio.Event()
    refresh = asyncio.create_task(places.run_refresh(stop, every_s=0.05))
    try:
        # The pass ends with a third, empty read after both places are in: wait for that too (on
        # a busy machine it can come well after the second).
        for _ in range(250):
            if len(places._places) == 2 and len(chunks) >= 3:
                break
            await asyncio.sleep(0.02)
        assert len(places._places) == 2
        assert chunks[:3] == [1, 1, 0]  # one kiosk a chunk, then the empty one that ends the pass
    finally:
        stop.set()
        await asyncio.wait_for(refresh, 5)


async def test_the_shared_no_ticket_answer_outlives_a_working_day(env: Env) -> None:
    kiosk = await _kiosk(env)
    try:
        queue = env.app[SIGNALING].queue_service
        ttl = await queue.redis.ttl(queue.keys.kiosk_no_ticket(kiosk.welcome["kiosk"]["id"]))
        assert SHARED_TTL_S - 60 <= ttl <= SHARED_TTL_S
    finally:
        await kiosk.close()


def _hash(client: Client) -> str:
    cookie = next(c for c in client.http.cookie_jar if c.key == "jl_session")
    return token_hash(cookie.value)


async def test_live_kiosk_sign_ins_are_kept_ready_without_keeping_them_alive(env: Env) -> None:
    kiosks = [await _kiosk(env, n) for n in range(2)]
    try:
        cache = env.app[SESSION_CACHE]
        sessions = env.app[app_keys.DB_SESSIONS]
        async with sessions() as session, session.begin():
            # One sign-in revoked, the other last seen long enough ago that a resolve would touch it.
            await session.execute(update(AuthSession).where(AuthSession.token_hash == _hash(kiosks[0]))
                                  .values(revoked=True))
            await session.execute(update(AuthSession).where(AuthSession.token_hash == _hash(kiosks[1]))
                                  .values(last_seen_at=utcnow() - timedelta(minutes=30)))
        cache._entries.clear()
        assert await cache.prefill() == 1
        assert list(cache._entries) == [_hash(kiosks[1])]
        async with sessions() as session:
            seen = await session.scalar(select(AuthSession.last_seen_at)
                                        .where(AuthSession.token_hash == _hash(kiosks[1])))
        assert seen is not None and utcnow() - seen > timedelta(minutes=29)  # not touched by the prefill
        hits = cache.hits
        await kiosks[1].connect()  # a first connect answered from memory
        assert cache.hits == hits + 1
    finally:
        for kiosk in kiosks:
            await kiosk.close()


async def test_a_prefill_reads_the_sign_ins_in_chunks(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    kiosks = [await _kiosk(env, n) for n in range(2)]
    try:
        cache = env.app[SESSION_CACHE]
        cache._entries.clear()
        monkeypatch.setattr(session_cache_module, "PREFILL_CHUNK", 1)
        opened = 0
        original = cache.sessions

        def counting() -> object:
            nonlocal opened
            opened += 1
            return original()

        cache.sessions = counting
        try:
            assert await cache.prefill() == 2
        finally:
            cache.sessions = original
        assert opened == 1 + 2  # the list of live sign-ins, then one chunk per sign-in
        assert set(cache._entries) == {_hash(k) for k in kiosks}
    finally:
        for kiosk in kiosks:
            await kiosk.close()


async def test_a_revocation_during_a_prefill_is_not_undone_by_it(env: Env) -> None:
    kiosk = await _kiosk(env)
    try:
        cache = env.app[SESSION_CACHE]
        cache._entries.clear()
        address = f"kiosk:{kiosk.welcome['kiosk']['id']}"
        original = cache.sessions

        def revoking_while_reading() -> object:
            cache.forget_address(address)  # the close notice arrives while the batch is read
            return original()

        cache.sessions = revoking_while_reading
        try:
            assert await cache.prefill() == 0
        finally:
            cache.sessions = original
        assert not cache._entries
        assert await cache.prefill() == 1  # the next batch reads the database afresh
    finally:
        await kiosk.close()
