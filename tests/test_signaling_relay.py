"""Relaying `signal`s: directly inside one process, through Redis across processes, never twice.

Two apps ("processes": each its own hub) share one embedded Redis and one SQLite file; clients are
plain WebSockets speaking docs/protocol.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.http import app_keys
from server.runtime.embedded_redis import EmbeddedRedis
from server.signaling.context import SIGNALING
from server.signaling.hub import LOCAL_ONLY_TTL_S, Hub
from tests.district import add_staff, add_street
from tests.helpers import make_settings, prepare_database
from tests.protocol_client import Client, Env
from tests.test_signaling import MATTER, SKILL


@dataclass
class Cluster:
    envs: list[Env]  # one per process, same database and Redis

    def hub(self, n: int) -> Hub:
        return self.envs[n].server.app[SIGNALING].hub


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    (tmp_path / "redis").mkdir()
    redis = EmbeddedRedis(tmp_path / "redis")
    await redis.start()
    shared = {"REDIS_URL": redis.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
              "JINGLIN_WRAP_UP_S": "0", "JINGLIN_CALL_RECONNECT_S": "30"}
    servers: list[TestServer] = []
    try:
        for name in ("a", "b"):
            settings = make_settings(tmp_path / name, **shared)
            if not servers:
                await prepare_database(settings)
            server = TestServer(create_app(settings))
            await server.start_server()
            servers.append(server)
        async with servers[0].app[app_keys.DB_SESSIONS]() as session, session.begin():
            street = await add_street(session)
            await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL]})
        yield Cluster(envs=[Env(server=s, kiosk_tokens=street.kiosk_tokens) for s in servers])
    finally:
        for server in servers:
            await server.close()
        await redis.stop()


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        await client.close()


async def _client(env: Env, clients: list[Client], kiosk: bool) -> Client:
    client = Client(env)
    clients.append(client)
    if kiosk:
        await client.kiosk_login(env.kiosk_tokens[0])
    else:
        await client.staff_login("cw1")
    await client.connect()
    return client


async def _into_call(kiosk: Client, cw: Client) -> str:
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    ticket = (await kiosk.expect("ticket"))["ticket"]
    await cw.send({"type": "set_status", "status": "available"})
    offer = (await cw.expect("offer"))["offer"]
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    await cw.expect("call")
    await kiosk.expect("call")
    return str(ticket["session_id"])


def _candidate(n: int) -> dict[str, Any]:
    return {"candidate": {"candidate": f"candidate:{n} 1 udp 1 203.0.113.7 {40000 + n} typ host",
                          "sdpMid": "0", "sdpMLineIndex": 0}}


async def _signals(sender: Client, call_id: str, first: int, count: int, pause: float = 0.0) -> None:
    """`count` candidates numbered from `first` (within the rate limit's burst of 60 per connection)."""
    for n in range(first, first + count):
        await sender.send({"type": "signal", "call_id": call_id, "data": _candidate(n)})
        if pause:
            await asyncio.sleep(pause)


async def _received(client: Client, count: int, frm: str) -> list[int]:
    """The numbers of the next `count` signals, then check nothing else arrives for a moment."""
    numbers = []
    while len(numbers) < count:
        message = await client.expect("signal", timeout=5)
        assert message["from"] == frm
        numbers.append(int(message["data"]["candidate"]["candidate"].split()[0].split(":")[1]))
    await asyncio.sleep(0.3)
    extra = [m for m in client.drain() if m["type"] == "signal"]
    assert extra == [], extra
    return numbers


async def test_same_process_relays_directly_in_order_once(cluster: Cluster, clients: list[Client]) -> None:
    kiosk = await _client(cluster.envs[0], clients, kiosk=True)
    cw = await _client(cluster.envs[0], clients, kiosk=False)
    call_id = await _into_call(kiosk, cw)
    before = cluster.hub(0).relayed_locally
    description = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
    await cw.send({"type": "signal", "call_id": call_id, "data": description})
    got = await kiosk.expect("signal")
    assert got == {"type": "signal", "call_id": call_id, "from": "caseworker", "data": description}
    await _signals(cw, call_id, 0, 30)
    assert await _received(kiosk, 30, "caseworker") == list(range(30))
    await _signals(kiosk, call_id, 100, 30)
    assert await _received(cw, 30, "kiosk") == list(range(100, 130))
    assert cluster.hub(0).relayed_locally - before == 61


async def test_across_processes_each_connection_gets_each_signal_once(cluster: Cluster,
                                                                     clients: list[Client]) -> None:
    kiosk = await _client(cluster.envs[0], clients, kiosk=True)
    cw_b = await _client(cluster.envs[1], clients, kiosk=False)
    call_id = await _into_call(kiosk, cw_b)
    await _signals(kiosk, call_id, 0, 10)
    assert await _received(cw_b, 10, "kiosk") == list(range(10))
    assert cluster.hub(0).relayed_locally == 0  # the caseworker is in the other process

    # A second tab of the caseworker, in the kiosk's process: both tabs get every signal, once.
    cw_a = await _client(cluster.envs[0], clients, kiosk=False)
    await _signals(kiosk, call_id, 10, 10)
    for tab in (cw_a, cw_b):
        assert await _received(tab, 10, "kiosk") == list(range(10, 20))

    # The other-process tab closes: the kiosk's process now delivers directly, still once and in order.
    assert cw_b.ws is not None
    await cw_b.ws.close()
    await asyncio.sleep(LOCAL_ONLY_TTL_S + 0.2)
    await _signals(kiosk, call_id, 20, 10)
    assert await _received(cw_a, 10, "kiosk") == list(range(20, 30))
    assert cluster.hub(0).relayed_locally > 0

    # A tab opening in the other process again is reached at once (its hello drops the fast path).
    relayed = cluster.hub(0).relayed_locally
    cw_b2 = await _client(cluster.envs[1], clients, kiosk=False)
    await _signals(kiosk, call_id, 30, 10)
    for tab in (cw_a, cw_b2):
        assert await _received(tab, 10, "kiosk") == list(range(30, 40))
    assert cluster.hub(0).relayed_locally == relayed


async def test_switching_to_direct_delivery_keeps_the_order(cluster: Cluster, clients: list[Client]) -> None:
    """Signals published through Redis are never overtaken by later ones delivered directly."""
    kiosk = await _client(cluster.envs[0], clients, kiosk=True)
    cw_a = await _client(cluster.envs[0], clients, kiosk=False)
    cw_b = await _client(cluster.envs[1], clients, kiosk=False)
    call_id = await _into_call(kiosk, cw_a)
    cw_b.drain()
    # Closing the remote tab while a stream of signals is under way.
    sending = asyncio.create_task(_signals(kiosk, call_id, 0, 50, pause=(LOCAL_ONLY_TTL_S + 1) / 50))
    await asyncio.sleep(0.1)
    assert cw_b.ws is not None
    await cw_b.ws.close()
    await sending
    assert await _received(cw_a, 50, "kiosk") == list(range(50))
    assert 0 < cluster.hub(0).relayed_locally < 50  # the stream did switch over


async def test_a_stale_answer_only_costs_a_publish(cluster: Cluster, clients: list[Client]) -> None:
    """Right after the remote tab leaves, signals may still go through Redis; they arrive once."""
    kiosk = await _client(cluster.envs[0], clients, kiosk=True)
    cw_a = await _client(cluster.envs[0], clients, kiosk=False)
    cw_b = await _client(cluster.envs[1], clients, kiosk=False)
    call_id = await _into_call(kiosk, cw_a)
    await _signals(kiosk, call_id, 0, 5)
    for tab in (cw_a, cw_b):
        assert await _received(tab, 5, "kiosk") == list(range(5))
    assert cluster.hub(0).relayed_locally == 0
    assert cw_b.ws is not None
    await cw_b.ws.close()
    await _signals(kiosk, call_id, 5, 5)
    assert await _received(cw_a, 5, "kiosk") == list(range(5, 10))
    await asyncio.sleep(LOCAL_ONLY_TTL_S + 0.2)
    await _signals(kiosk, call_id, 10, 5)
    assert await _received(cw_a, 5, "kiosk") == list(range(10, 15))
    assert cluster.hub(0).relayed_locally == 5


async def test_pings_do_not_write_the_database_each_time(cluster: Cluster, clients: list[Client]) -> None:
    kiosk = await _client(cluster.envs[0], clients, kiosk=True)
    service = cluster.envs[0].server.app[SIGNALING]
    writes = 0
    real = service.sessions

    def counting() -> Any:
        nonlocal writes
        writes += 1
        return real()

    service.sessions = counting
    try:
        for n in range(20):
            reply = await kiosk.request({"type": "ping"}, ref=n)
            assert reply["type"] == "pong"
    finally:
        service.sessions = real
    assert writes <= 1  # welcome wrote last_seen_at just before; pings within LAST_SEEN_EVERY_S do not
