"""Admission of WebSocket setups (docs/protocol.md "Admission") and the clients' reconnect backoff."""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from server.signaling import admission as admission_module
from server.signaling.admission import MAX_RETRY_MS, MIN_RETRY_MS, Admission
from server.signaling.context import SIGNALING
from server.simulate.backoff import reconnect_delay_s
from tests.protocol_client import Client, Env, street_env

ROOT = Path(__file__).resolve().parents[1]


# -- the rule ------------------------------------------------------------------------------

def test_admits_the_burst_then_refuses_with_a_hint() -> None:
    rule = Admission(rate=10, burst=3, max_pending=100)
    assert [rule.try_admit() for _ in range(3)] == [None, None, None]
    hint = rule.try_admit()
    assert hint is not None and MIN_RETRY_MS <= hint <= MAX_RETRY_MS
    assert (rule.admitted, rule.refused, rule.pending) == (3, 1, 3)


def test_refused_sockets_get_return_slots_spread_at_the_admission_rate() -> None:
    rule = Admission(rate=10, burst=1, max_pending=100)
    rule.try_admit()
    hints = [rule.try_admit() for _ in range(500)]
    assert all(h is not None for h in hints)
    # The first slot is 1 s ahead, the next ones 1 / (0.9 * 10) s apart.
    assert hints[:3] == [1000, 1112, 1223]
    assert hints[-1] == MAX_RETRY_MS
    assert hints == sorted(hints)
    # 30 s hold about 1 + 29 * 9 slots; past them the queue is full and the cap is told.
    assert abs(sum(h < MAX_RETRY_MS for h in hints) - (1 + 29 * 9)) <= 2


def test_pending_setups_are_bounded_and_released() -> None:
    rule = Admission(rate=1000, burst=1000, max_pending=2)
    assert rule.try_admit() is None and rule.try_admit() is None
    assert rule.try_admit() is not None  # two setups in progress
    rule.done()
    assert rule.try_admit() is None
    rule.done()
    rule.done()
    rule.done()  # more done() than admitted never goes below zero
    assert rule.pending == 0


def test_return_slots_follow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(admission_module.time, "monotonic", lambda: now[0])
    rule = Admission(rate=10, burst=1, max_pending=100)
    rule.bucket.updated = now[0]
    rule.try_admit()
    hints = [rule.try_admit() for _ in range(90)]
    assert hints[-1] == math.ceil(1000 * (1 + 89 / 9))  # slot 90: 1 s + 89 / 9 s ahead
    now[0] += 5.0  # half of those slots are past: a new refusal queues behind the rest
    rule.bucket.tokens, rule.bucket.updated = 0, now[0]
    assert rule.try_admit() == math.ceil(1000 * (1 + 90 / 9 - 5))
    now[0] += 60.0  # all past: the queue is empty again
    rule.bucket.tokens, rule.bucket.updated = 0, now[0]
    assert rule.try_admit() == MIN_RETRY_MS


# -- client backoff ------------------------------------------------------------------------

def test_simulated_clients_back_off_with_full_jitter_after_the_hint() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(1.0, 0.1 * 2 ** attempt)
        delays = [reconnect_delay_s(attempt, 0.1, 1.0, rng=rng) for _ in range(300)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # the whole window is used
        hinted = [reconnect_delay_s(attempt, 0.1, 1.0, retry_after_s=2.5, rng=rng) for _ in range(300)]
        # After a hint the jitter does not grow: the hint is the client's own return slot.
        assert min(hinted) >= 2.5 and max(hinted) <= 2.5 + 0.1


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_clients_back_off_with_full_jitter_after_the_hint() -> None:
    script = """
    import { reconnectDelayMs, retryAfterFromReason } from "./web/static/common/backoff.js";
    const out = {};
    out.ceilings = [0, 1, 2, 5, 10, 40].map((n) => reconnectDelayMs(n, {minDelayMs: 500, maxDelayMs: 10000,
      random: () => 1}));
    out.zero = reconnectDelayMs(3, {minDelayMs: 500, maxDelayMs: 10000, random: () => 0});
    out.hinted = reconnectDelayMs(0, {minDelayMs: 500, maxDelayMs: 10000, retryAfterMs: 2500, random: () => 0.5});
    out.hintedLate = reconnectDelayMs(9, {minDelayMs: 500, maxDelayMs: 10000, retryAfterMs: 2500, random: () => 1});
    out.reasons = [retryAfterFromReason("retry_after_ms=1500"), retryAfterFromReason("retry_after_ms=x"),
      retryAfterFromReason(""), retryAfterFromReason(undefined), retryAfterFromReason("retry_after_ms=1234567")];
    const samples = Array.from({length: 2000}, () => reconnectDelayMs(4, {minDelayMs: 500, maxDelayMs: 10000}));
    out.min = Math.min(...samples); out.max = Math.max(...samples);
    console.log(JSON.stringify(out));
    """
    done = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=True)
    out = json.loads(done.stdout)
    assert out["ceilings"] == [500, 1000, 2000, 10000, 10000, 10000]
    assert out["zero"] == 0  # full jitter: the window starts at 0
    assert out["hinted"] == 2750  # the hint first, then jitter
    assert out["hintedLate"] == 3000  # after a hint the jitter stays within minDelayMs
    assert out["reasons"] == [1500, 0, 0, 0, 0]
    assert 0 <= out["min"] < 800 and 7200 < out["max"] <= 8000


def test_the_browser_client_uses_the_hint_of_the_close() -> None:
    source = (ROOT / "web/static/common/ws_client.js").read_text()
    assert 'this.closed(socket, event.code, event.reason)' in source
    assert "retryAfterFromReason(reason)" in source and 'message.code === "try_again"' in source


# -- the server ----------------------------------------------------------------------------

@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with street_env(tmp_path, sites=4, JINGLIN_WS_ADMIT_RATE="0.5", JINGLIN_WS_ADMIT_BURST="2",
                          JINGLIN_WS_ADMIT_PENDING="10") as env:
        yield env


async def test_over_the_rate_a_socket_is_told_to_try_again_and_live_ones_are_untouched(env: Env) -> None:
    clients = [Client(env) for _ in range(3)]
    try:
        for n, client in enumerate(clients):
            await client.kiosk_login(env.kiosk_tokens[n])
        first = await clients[0].connect()
        await clients[1].connect()
        assert first["type"] == "welcome"
        with pytest.raises(Exception) as refused:
            await clients[2].connect()
        assert getattr(refused.value, "code", None) == "try_again"
        hint = refused.value.retry_after_ms  # type: ignore[attr-defined]
        assert MIN_RETRY_MS <= hint <= MAX_RETRY_MS
        assert await clients[2].wait_closed(5) == 1013
        # Live connections carry on as before.
        assert (await clients[0].request({"type": "ping"}, ref=1))["type"] == "pong"
        service = env.app[SIGNALING]
        assert service.admission.refused == 1 and service.admission.pending == 0
    finally:
        for client in clients:
            await client.close()


async def test_the_close_carries_the_hint_as_its_reason(env: Env) -> None:
    holders = [Client(env) for _ in range(2)]
    try:
        for n, client in enumerate(holders):
            await client.kiosk_login(env.kiosk_tokens[n])
            await client.connect()
        login = Client(env)
        holders.append(login)
        await login.kiosk_login(env.kiosk_tokens[2])
        async with login.http.ws_connect(login.ws_url) as ws:
            message = await ws.receive_json(timeout=5)
            closing = await ws.receive(timeout=5)
        assert message["type"] == "error" and message["code"] == "try_again"
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert closing.data == 1013 and closing.extra == f"retry_after_ms={message['retry_after_ms']}"
    finally:
        for client in holders:
            await client.close()


async def test_a_refused_client_reconnects_after_the_hint(env: Env) -> None:
    holders = [Client(env) for _ in range(2)]
    late = Client(env)
    try:
        for n, client in enumerate(holders):
            await client.kiosk_login(env.kiosk_tokens[n])
            await client.connect()
        await late.kiosk_login(env.kiosk_tokens[2])
        late.failover = True
        welcome = await late.reconnect(timeout=20)  # refused first, then admitted once the bucket refills
        assert welcome["type"] == "welcome" and late.refusals >= 1
    finally:
        for client in [*holders, late]:
            await client.close()
