"""The server's queue service: every transition reaches the database; rebuild after a Redis loss.

Runs on every combination of database (SQLite, PostgreSQL) and Redis (embedded, server).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from session_queue import QueueConfig, SessionQueue
from sqlalchemy import select

from server.db.engine import make_engine, make_session_factory
from server.db.models import CaseworkerEvent, Kiosk, ServiceSession, SessionEvent, User
from server.db.types import utcnow
from server.queueing.reconciler import QueueReconciler
from server.queueing.service import QueueService
from tests.district import add_staff, add_street
from tests.helpers import make_settings, prepare_database

SKILL = "police-household"
MATTER = "gaj-jlks-01"


@dataclass
class World:
    service: QueueService
    kiosk_ids: list[int]
    caseworker_id: int
    street_id: int


@pytest.fixture
async def world(tmp_path: Path, database_url: str, redis_client: aioredis.Redis) -> AsyncIterator[World]:
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    await prepare_database(settings)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        street = await add_street(session, sites=3)
        staff = await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL]})
        world = World(service=QueueService(redis_client, sessions, QueueConfig(wrap_up_s=0.0)),
                      kiosk_ids=street.kiosk_ids, caseworker_id=staff["cw1"], street_id=street.street_id)
    yield world
    await engine.dispose()


async def _events(world: World, session_id: str) -> list[tuple[str, str | None, str | None]]:
    async with world.service.sessions() as session:
        rows = await session.scalars(select(SessionEvent).where(SessionEvent.session_id == session_id)
                                     .order_by(SessionEvent.id))
        return [(e.kind, e.from_state, e.to_state) for e in rows]


async def _session(world: World, session_id: str) -> ServiceSession:
    async with world.service.sessions() as session:
        row = await session.get(ServiceSession, session_id)
        assert row is not None
        return row


async def test_whole_session_is_recorded(world: World) -> None:
    queue = world.service.queue
    ticket = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle")
    assert ticket.ticket_number.startswith("A")
    cw = str(world.caseworker_id)
    offer = await queue.caseworker_login(cw, str(world.street_id), [SKILL])
    offered = [t for t in offer if t.entity == "ticket" and t.to_state == "offered"]
    assert offered, offer
    accepted = await queue.accept(cw, ticket.session_id, offered[0].fence or 0)
    in_call_fence = next(t.fence for t in accepted if t.entity == "ticket")
    await queue.end_call(cw, ticket.session_id, in_call_fence or 0, handle_s=300)
    await queue.tick()

    row = await _session(world, ticket.session_id)
    assert row.state == "done"
    assert row.caseworker_id == world.caseworker_id
    assert row.centre_id is not None
    assert row.created_at <= row.offered_at <= row.answered_at <= row.ended_at <= row.closed_at  # type: ignore[operator]
    states = [to for _, _, to in await _events(world, ticket.session_id)]
    assert states[0] == "waiting"
    assert "offered" in states
    assert "in_call" in states
    assert states[-1] == "done"
    async with world.service.sessions() as session:
        cw_states = list(await session.scalars(select(CaseworkerEvent.to_state)
                                               .where(CaseworkerEvent.user_id == world.caseworker_id)
                                               .order_by(CaseworkerEvent.id)))
    assert cw_states[:3] == ["available", "offered", "in_call"]


async def test_join_is_idempotent_per_kiosk(world: World) -> None:
    first = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle")
    again = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "consult")
    assert again.session_id == first.session_id
    other = await world.service.join(world.kiosk_ids[1], MATTER, SKILL, "handle")
    assert other.ticket_number != first.ticket_number


async def test_cancel_is_recorded(world: World) -> None:
    ticket = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "consult")
    await world.service.queue.cancel(ticket.session_id)
    row = await _session(world, ticket.session_id)
    assert row.state == "cancelled"
    assert row.closed_at is not None


async def test_redis_loss_rebuilds_the_queue_in_order(world: World, redis_client: aioredis.Redis) -> None:
    tickets = []
    for kiosk_id in world.kiosk_ids:
        tickets.append(await world.service.join(kiosk_id, MATTER, SKILL, "handle"))
        await asyncio.sleep(0.01)
    await redis_client.flushdb()  # Redis restarted empty
    # The next operation notices, rebuilds from the database, and carries on.
    await world.service.call(world.service.queue.tick)
    positions = await world.service.queue.positions([t.session_id for t in tickets])
    assert [positions[t.session_id].position for t in tickets] == [1, 2, 3]
    late = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle")
    assert late.session_id == tickets[0].session_id  # still the kiosk's open ticket


async def test_ticket_numbers_go_on_after_redis_loss_when_no_ticket_is_open(
        world: World, redis_client: aioredis.Redis) -> None:
    """docs/reliability.md: the day's counter continues after the highest number of today in the
    database, ended tickets included (a restart after every resident was served)."""
    first = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "consult")
    await world.service.queue.cancel(first.session_id)
    await redis_client.flushdb()  # Redis restarted empty, nothing open
    after = await world.service.join(world.kiosk_ids[1], MATTER, SKILL, "consult")
    assert int(after.ticket_number[1:]) == int(first.ticket_number[1:]) + 1, (first, after)


async def test_open_ticket_of_a_kiosk_rebuilds_after_redis_loss(world: World, redis_client: aioredis.Redis) -> None:
    # A kiosk reconnecting right after a Redis restart (before any queue operation or timer tick)
    # must find its ticket in the live queue too: its `welcome` reads the ticket view from there.
    ticket = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle")
    await redis_client.flushdb()
    held = await world.service.open_ticket_of_kiosk(world.kiosk_ids[0])
    assert held is not None and held.session_id == ticket.session_id
    live = await world.service.queue.ticket(ticket.session_id)
    assert live is not None and live.state == "waiting"


async def test_bad_join_requests(world: World) -> None:
    from server.queueing.service import JoinError

    with pytest.raises(JoinError) as info:
        await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "teleport")
    assert info.value.code == "bad_mode"
    with pytest.raises(JoinError) as info:
        await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle", priority="vip")
    assert info.value.code == "bad_priority"
    with pytest.raises(JoinError) as info:
        await world.service.join(99999, MATTER, SKILL, "handle")
    assert info.value.code == "unknown_kiosk"
    async with world.service.sessions() as session:
        assert (await session.scalars(select(ServiceSession))).first() is None
    _ = User


# -- crash windows: the outbox reconciler and orphan rows -------------------------------------------


def _dead_process_queue(world: World, redis_client: aioredis.Redis) -> SessionQueue:
    """A queue engine whose process dies after each script, before any database write."""
    return SessionQueue(redis_client, world.service.queue.config, sink=None)


async def test_transitions_lost_with_a_killed_process_are_recorded_from_the_outbox(
        world: World, redis_client: aioredis.Redis) -> None:
    ticket = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle")
    dead = _dead_process_queue(world, redis_client)
    cw = str(world.caseworker_id)
    offer = await dead.caseworker_login(cw, str(world.street_id), [SKILL])
    fence = next(t.fence for t in offer if t.entity == "ticket" and t.to_state == "offered")
    accepted = await dead.accept(cw, ticket.session_id, fence or 0)
    in_call = next(t.fence for t in accepted if t.entity == "ticket")
    await dead.end_call(cw, ticket.session_id, in_call or 0, handle_s=120)
    await dead.tick()
    assert (await _session(world, ticket.session_id)).state == "waiting"  # the record fell behind

    reconciler = QueueReconciler(world.service, settle_s=0)
    report = await reconciler.run_once()
    assert report.transitions_recorded >= 5, report
    row = await _session(world, ticket.session_id)
    assert row.state == "done"
    assert row.caseworker_id == world.caseworker_id
    assert row.answered_at is not None and row.closed_at is not None
    states = [to for _, _, to in await _events(world, ticket.session_id)]
    assert states[:3] == ["waiting", "offered", "in_call"] and states[-1] == "done"
    async with world.service.sessions() as session:
        recovered = list(await session.scalars(select(SessionEvent.data).where(
            SessionEvent.session_id == ticket.session_id, SessionEvent.to_state == "in_call")))
        cw_states = list(await session.scalars(select(CaseworkerEvent.to_state)
                                               .where(CaseworkerEvent.user_id == world.caseworker_id)))
    assert recovered[0]["recovered"] is True
    assert "in_call" in cw_states
    # a second pass finds nothing to do, and the checked entries were trimmed
    again = await reconciler.run_once()
    assert again.transitions_recorded == 0
    assert await reconciler.outbox.length() <= 1


async def test_reconciling_a_healthy_record_adds_nothing(world: World) -> None:
    ticket = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "consult")
    await world.service.queue.caseworker_login(str(world.caseworker_id), str(world.street_id), [SKILL])
    before = await _events(world, ticket.session_id)
    report = await QueueReconciler(world.service, settle_s=0).run_once()
    assert report.entries_checked >= 2
    assert report.transitions_recorded == 0
    assert await _events(world, ticket.session_id) == before


async def test_a_late_replay_never_undoes_a_later_step(world: World, redis_client: aioredis.Redis) -> None:
    ticket = await world.service.join(world.kiosk_ids[0], MATTER, SKILL, "handle")
    dead = _dead_process_queue(world, redis_client)
    cw = str(world.caseworker_id)
    offer = await dead.caseworker_login(cw, str(world.street_id), [SKILL])  # offer never recorded
    fence = next(t.fence for t in offer if t.entity == "ticket" and t.to_state == "offered")
    await world.service.queue.reject(cw, ticket.session_id, fence or 0)  # recorded: back to waiting
    assert (await _session(world, ticket.session_id)).state == "waiting"

    await QueueReconciler(world.service, settle_s=0).run_once()
    assert (await _session(world, ticket.session_id)).state == "waiting"
    kinds = [to for _, _, to in await _events(world, ticket.session_id)]
    assert "offered" in kinds  # the history is complete, the state is the newest


async def _orphan_row(world: World, kiosk_id: int, age_s: float) -> str:
    """A session row whose process died before its ticket reached the queue."""
    async with world.service.sessions() as session, session.begin():
        row = ServiceSession(id=uuid.uuid4().hex, ticket_number="A9001", kiosk_id=kiosk_id,
                             site_id=(await session.get(Kiosk, kiosk_id)).site_id,  # type: ignore[union-attr]
                             street_id=world.street_id, matter_id=MATTER, skill=SKILL, mode="handle",
                             priority="normal", state="waiting",
                             created_at=utcnow() - timedelta(seconds=age_s))
        session.add(row)
    return row.id


async def test_an_orphan_row_is_enqueued_when_its_kiosk_returns(world: World) -> None:
    await world.service.call(world.service.queue.tick)  # the live queue is up (no rebuild to come)
    orphan = await _orphan_row(world, world.kiosk_ids[0], age_s=1)
    later = await world.service.join(world.kiosk_ids[1], MATTER, SKILL, "handle")
    held = await world.service.open_ticket_of_kiosk(world.kiosk_ids[0])
    assert held is not None and held.session_id == orphan
    positions = await world.service.queue.positions([orphan, later.session_id])
    assert positions[orphan].position == 1  # its original time keeps its place
    assert positions[later.session_id].position == 2


async def test_the_reconciler_enqueues_orphans_and_only_orphans(world: World) -> None:
    await world.service.call(world.service.queue.tick)  # the live queue is up (no rebuild to come)
    orphan = await _orphan_row(world, world.kiosk_ids[0], age_s=60)
    young = await _orphan_row(world, world.kiosk_ids[1], age_s=0)  # its join may still be running
    reconciler = QueueReconciler(world.service, settle_s=30)
    report = await reconciler.run_once()
    assert report.orphans_restored == 1
    assert await world.service.queue.ticket(orphan) is not None
    assert await world.service.queue.ticket(young) is None
    assert (await reconciler.run_once()).orphans_restored == 0


async def test_one_reconcile_pass_at_a_time(world: World, redis_client: aioredis.Redis) -> None:
    reconciler = QueueReconciler(world.service, settle_s=0)
    await redis_client.set(reconciler._lock_key, "another process", px=5000)
    assert (await reconciler.run_once()).skipped_locked
