"""Real calls through real server processes: aiortc peers on this host, signaling over the WebSocket.

One seeded server subprocess serves the whole module; each test uses the kiosks and caseworkers of
its own street, so that routing (own street first for 300 s) keeps the tests apart.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.runtime.embedded_redis import EmbeddedRedis
from server.simulate.actor import Options
from server.simulate.client import Message, ProtocolClient, of_type
from server.simulate.local import LocalServer, launch
from server.simulate.peers import CallPeer
from server.simulate.runner import Plan, simulate

CALL_RECONNECT_S = 2
SMALL_VIDEO = (320, 240, 15.0)  # keeps two cores free enough for several calls at once


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One seeded `jinglin serve` subprocess (embedded defaults) for the module."""
    running = launch(tmp_path_factory.mktemp("calls"), {"JINGLIN_CALL_RECONNECT_S": str(CALL_RECONNECT_S)})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def matters(server: LocalServer) -> list[dict[str, Any]]:
    """The active matters."""
    with urllib.request.urlopen(server.url + "/api/v1/matters") as response:
        data: dict[str, Any] = json.load(response)
    return data["matters"]


class Street:
    """The demo kiosks and caseworkers of one street, and a matter its first caseworker handles."""

    def __init__(self, demo: dict[str, Any], matters: list[dict[str, Any]], index: int) -> None:
        names = sorted({k["street"] for k in demo["kiosks"]})
        self.name = names[index]
        self.kiosks = [k for k in demo["kiosks"] if k["street"] == self.name]
        self.caseworkers = [c for c in demo["caseworkers"] if c["centre"].startswith(self.name)]
        skills = set(self.caseworkers[0]["skills"])
        self.matter = next(m for m in matters if m["skill"] in skills)
        # Only caseworkers who can serve the matter: a ticket must not depend on who else is in.
        self.able = [c for c in self.caseworkers if self.matter["skill"] in c["skills"]]

    def join(self) -> Message:
        """The `join` message for this street's matter."""
        mode = "handle" if self.matter["mode"] in {"handle", "both"} else "consult"
        return {"type": "join", "matter_id": self.matter["id"], "mode": mode}


@pytest.fixture
async def clients() -> AsyncIterator[list[ProtocolClient]]:
    """Collects clients made by a test and closes them after it."""
    made: list[ProtocolClient] = []
    yield made
    for client in made:
        await client.close()


async def kiosk(server: LocalServer, entry: dict[str, Any], made: list[ProtocolClient]) -> ProtocolClient:
    """A signed-in, connected kiosk."""
    client = ProtocolClient(server.url, f"kiosk:{entry['site']}")
    made.append(client)
    await client.login_kiosk(entry["token"])
    await client.connect()
    return client


async def caseworker(server: LocalServer, entry: dict[str, Any], made: list[ProtocolClient],
                     available: bool = True) -> ProtocolClient:
    """A signed-in, connected caseworker, available unless told otherwise."""
    client = ProtocolClient(server.url, f"caseworker:{entry['username']}")
    made.append(client)
    await client.login_staff(entry["username"], entry["password"])
    await client.connect()
    if available:
        await client.call({"type": "set_status", "status": "available"})
    return client


class Call:
    """A live call between a kiosk and a caseworker, with media peers on both sides."""

    def __init__(self, kiosk: ProtocolClient, cw: ProtocolClient, call: Message) -> None:
        self.kiosk, self.cw, self.id = kiosk, cw, call["call_id"]
        self.kiosk_peer = self._peer(kiosk, "answerer")
        self.cw_peer = self._peer(cw, "offerer")

    def _peer(self, client: ProtocolClient, role: Any) -> CallPeer:
        async def send(data: dict[str, Any]) -> None:
            await client.wait_connected(10)
            await client.send({"type": "signal", "call_id": self.id, "data": data})
        peer = CallPeer(self.id, role, send, client.welcome.get("ice_servers"), video=SMALL_VIDEO)
        client.on("signal", lambda m: peer.feed(m["data"]) if m["call_id"] == self.id else None)
        return peer

    async def frames_flow(self, timeout: float = 15) -> None:
        """Until both sides decoded video."""
        assert await self.kiosk_peer.wait_first_frame(timeout), "kiosk decoded no video"
        assert await self.cw_peer.wait_first_frame(timeout), "caseworker decoded no video"

    async def close(self) -> None:
        """Close both peers."""
        await self.kiosk_peer.close()
        await self.cw_peer.close()


async def start_call(k: ProtocolClient, cw: ProtocolClient, street: Street) -> Call:
    """Kiosk joins, caseworker accepts the offer, both open peers; returns once video flows."""
    mark_k, mark_cw = k.mark(), cw.mark()
    await k.call(street.join())
    offer = (await cw.wait_for(of_type("offer"), 10, start=mark_cw, what="offer"))["offer"]
    await cw.call({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    cw_call = (await cw.wait_for(of_type("call"), 10, start=mark_cw, what="call"))["call"]
    k_call = (await k.wait_for(of_type("call"), 10, start=mark_k, what="call"))["call"]
    assert cw_call["role"] == "offerer" and k_call["role"] == "answerer"
    assert cw_call["call_id"] == k_call["call_id"] == offer["ticket_id"]
    call = Call(k, cw, cw_call)
    await call.cw_peer.start()
    await call.frames_flow()
    return call


async def more_frames(peer: CallPeer, extra: int, timeout: float = 10) -> None:
    """Wait until `peer` decoded `extra` more video frames than now."""
    target = peer.video_frames + extra
    deadline = time.monotonic() + timeout
    while peer.video_frames < target:
        assert time.monotonic() < deadline, f"video stalled at {peer.video_frames} frames (wanted {target})"
        await asyncio.sleep(0.05)


async def test_full_session_decodes_frames_on_both_sides(server: LocalServer) -> None:
    plan = Plan(kiosks=1, caseworkers=1, sessions=1, seed=1,
                options=Options(hold_s=1.5, video=SMALL_VIDEO, session_timeout_s=40))
    report = await simulate(server.url, server.demo, plan)
    assert report["errors"] == []
    assert report["completed"] == 1 and report["lost"] == 0 and report["double_assigned"] == 0
    # 1.5 s held at 15 fps: well over 10 frames decoded on each side.
    assert report["frames_decoded_min"] >= 10
    assert report["setup_ms"]["max"] < 5000


async def test_kiosk_drop_while_waiting_keeps_ticket_and_position(
        server: LocalServer, matters: list[dict[str, Any]], clients: list[ProtocolClient]) -> None:
    street = Street(server.demo, matters, 1)  # no caseworker of this street signs in: tickets wait
    first = await kiosk(server, street.kiosks[0], clients)
    second = await kiosk(server, street.kiosks[1], clients)
    for k in (first, second):
        mark = k.mark()
        await k.call(street.join())
        await k.wait_for(of_type("ticket"), 10, start=mark)
    before = [m for m in second.messages if m["type"] == "ticket"][-1]["ticket"]
    assert before["state"] == "waiting" and before["position"] == 2

    await second.drop()
    await asyncio.sleep(1.0)
    welcome = await second.connect(resume=True)
    after = welcome["state"]["ticket"]
    assert after["session_id"] == before["session_id"]
    assert after["state"] == "waiting" and after["position"] == 2
    for k in (second, first):
        await k.call({"type": "cancel"})


async def test_caseworker_drop_mid_call_requeues_ticket(
        server: LocalServer, matters: list[dict[str, Any]], clients: list[ProtocolClient]) -> None:
    street = Street(server.demo, matters, 2)
    k = await kiosk(server, street.kiosks[0], clients)
    cw = await caseworker(server, street.able[0], clients)
    call = await start_call(k, cw, street)
    try:
        mark = k.mark()
        await cw.drop()  # and never comes back
        ended = await k.wait_for(of_type("call_ended", call_id=call.id), CALL_RECONNECT_S + 10, start=mark,
                                 what="call_ended")
        assert ended["reason"] == "peer_gone"
        ticket = await k.wait_for(lambda m: m["type"] == "ticket" and m["ticket"]["state"] == "waiting",
                                  10, start=mark, what="ticket waiting")
        assert ticket["ticket"]["session_id"] == call.id
        assert ticket["ticket"]["position"] == 1
    finally:
        await call.close()
    await k.call({"type": "cancel"})


async def test_call_survives_websocket_blips(
        server: LocalServer, matters: list[dict[str, Any]], clients: list[ProtocolClient]) -> None:
    street = Street(server.demo, matters, 3)
    k = await kiosk(server, street.kiosks[0], clients)
    cw = await caseworker(server, street.able[0], clients)
    call = await start_call(k, cw, street)
    try:
        for side, other in ((k, cw), (cw, k)):
            mark = other.mark()
            await side.drop()
            await asyncio.sleep(0.5)
            welcome = await side.connect(resume=True)
            assert welcome["state"]["call"]["call_id"] == call.id
            await other.wait_for(of_type("peer", call_id=call.id, online=True), 10, start=mark, what="peer online")
            # The media path never depended on the WebSocket: frames keep coming on both sides.
            await more_frames(call.kiosk_peer, 15)
            await more_frames(call.cw_peer, 15)
        # Signaling still relays after both reconnected.
        mark = k.mark()
        await cw.send({"type": "signal", "call_id": call.id, "data": {"candidate": {"candidate": "", "sdpMid": "0"}}})
        await k.wait_for(of_type("signal", call_id=call.id), 5, start=mark, what="relayed signal")
        await cw.call({"type": "end_call", "ticket_id": call.id, "outcome": "completed"})
        ended = await k.wait_for(of_type("call_ended", call_id=call.id), 10, start=mark)
        assert ended["outcome"] == "completed"
    finally:
        await call.close()
    await cw.call({"type": "finish_wrap_up"})


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[LocalServer, LocalServer]]:
    """Two server processes sharing one Redis, one SQLite file and one secret key."""
    redis = EmbeddedRedis(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    asyncio.run(redis.start())
    shared = {"REDIS_URL": redis.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
              "JINGLIN_SECRET_KEY": "two-process-test-" + "k" * 32}
    first = launch(tmp_path / "a", shared)
    try:
        second = launch(tmp_path / "b", shared, demo=first.demo)
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()
        asyncio.run(redis.stop())


def test_kiosk_and_caseworker_on_different_server_processes(two_servers: tuple[LocalServer, LocalServer]) -> None:
    first, second = two_servers
    plan = Plan(kiosks=1, caseworkers=1, sessions=2, seed=2,
                options=Options(hold_s=1.0, video=SMALL_VIDEO, session_timeout_s=40))
    report = asyncio.run(simulate(first.url, first.demo, plan, caseworker_url=second.url))
    assert report["errors"] == []
    assert report["completed"] == 2 and report["lost"] == 0
    assert report["frames_decoded_min"] >= 5


async def test_strangers_cannot_join_or_read_a_call(
        server: LocalServer, matters: list[dict[str, Any]], clients: list[ProtocolClient]) -> None:
    street = Street(server.demo, matters, 4)
    k = await kiosk(server, street.kiosks[0], clients)
    cw = await caseworker(server, street.able[0], clients)
    other_kiosk = await kiosk(server, street.kiosks[1], clients)
    other_cw = await caseworker(server, street.caseworkers[-1], clients, available=False)
    call = await start_call(k, cw, street)
    try:
        data = {"candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.9 9 typ host", "sdpMid": "0"}}
        for stranger in (other_kiosk, other_cw):
            reply = await stranger.request({"type": "signal", "call_id": call.id, "data": data})
            assert reply["type"] == "error" and reply["code"] == "not_in_call"
        reply = await k.request({"type": "accept", "ticket_id": call.id, "fence": 1})
        assert reply["type"] == "error" and reply["code"] == "forbidden"
        # The members keep talking; the strangers hear none of it.
        mark = k.mark()
        await cw.send({"type": "signal", "call_id": call.id, "data": data})
        await k.wait_for(of_type("signal", call_id=call.id), 5, start=mark)
        await asyncio.sleep(0.3)
        for stranger in (other_kiosk, other_cw):
            assert not [m for m in stranger.messages if m["type"] in {"signal", "call"}]
        await cw.call({"type": "end_call", "ticket_id": call.id, "outcome": "completed"})
    finally:
        await call.close()
    await cw.call({"type": "finish_wrap_up"})


async def test_upgrade_refused_for_foreign_origin_and_without_cookie(
        server: LocalServer, matters: list[dict[str, Any]], clients: list[ProtocolClient]) -> None:
    street = Street(server.demo, matters, 4)
    k = ProtocolClient(server.url, "foreign")
    clients.append(k)
    await k.login_kiosk(street.kiosks[2]["token"])
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await k.open(origin="https://evil.example")
    assert refused.value.status == 403
    anonymous = ProtocolClient(server.url, "anonymous")
    clients.append(anonymous)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await anonymous.open()
    assert refused.value.status == 401
    await k.open(origin=server.url)  # the server's own origin is fine


async def test_bad_input_is_refused_without_disturbing_another_call(
        server: LocalServer, matters: list[dict[str, Any]], clients: list[ProtocolClient]) -> None:
    street = Street(server.demo, matters, 5)
    k = await kiosk(server, street.kiosks[0], clients)
    cw = await caseworker(server, street.able[0], clients)
    attacker = await kiosk(server, street.kiosks[1], clients)
    call = await start_call(k, cw, street)
    try:
        cases: list[tuple[str, str]] = [
            ("not json at all", "malformed"),
            ("[1, 2]", "malformed"),
            (json.dumps({"type": "teleport", "id": 1}), "malformed"),
            (json.dumps({"type": "join", "id": 2}), "invalid"),
            (json.dumps({"type": "rate", "session_id": "x", "score": 9, "id": 3}), "invalid"),
            (json.dumps({"type": "ping", "pad": "x" * (100 * 1024)}), "too_large"),
        ]
        for raw, code in cases:
            mark = attacker.mark()
            await attacker.send_raw(raw)
            error = await attacker.wait_for(of_type("error"), 5, start=mark, what=f"error for {raw[:30]}")
            assert error["code"] == code, raw[:60]
        # Flooding: refused with rate_limited, then the connection is closed (4429).
        mark = attacker.mark()
        for _ in range(400):
            await attacker.send_raw('{"type":"ping"}')
        code = await attacker.wait_closed(10)
        assert any(m.get("code") == "rate_limited" for m in attacker.messages[mark:])
        assert code == 4429
        # The other call never noticed: video keeps decoding, its requests are answered.
        await more_frames(call.kiosk_peer, 15)
        await more_frames(call.cw_peer, 15)
        pong = await k.request({"type": "ping"})
        assert pong["type"] == "pong"
        await cw.call({"type": "end_call", "ticket_id": call.id, "outcome": "completed"})
    finally:
        await call.close()
    await cw.call({"type": "finish_wrap_up"})
