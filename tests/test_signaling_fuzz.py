"""Random and mutated WebSocket messages never crash the server or disturb another session."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.protocol.messages import CASEWORKER_TYPES, KIOSK_TYPES
from server.signaling.websocket import _FAST_MODELS, _parse
from tests.test_signaling import MATTER, Client, Env, _caseworker, _into_call, _kiosk
from tests.test_signaling import env as env

TYPES = sorted(KIOSK_TYPES | CASEWORKER_TYPES | {"hello", "teleport", ""})
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
                    st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=12)
FIELDS = ["id", "matter_id", "mode", "priority", "session_id", "score", "comment", "status", "reason", "ticket_id",
          "fence", "outcome", "case_number", "call_id", "data", "capture_id", "material", "decision", "v", "resume"]
messages = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(TYPES)},
                          optional={name: json_values for name in FIELDS}),
    json_values,
)


@pytest.fixture
async def live_call(env: Env) -> AsyncIterator[tuple[Env, Client, Client, str, list[Client]]]:
    clients: list[Client] = []
    kiosk, cw, call_id = await _into_call(env, clients)
    yield env, kiosk, cw, call_id, clients
    for client in clients:
        await client.close()


async def _still_relays(kiosk: Client, cw: Client, call_id: str, n: int) -> None:
    data = {"candidate": {"candidate": f"probe {n}", "sdpMid": "0", "sdpMLineIndex": 0}}
    await cw.send({"type": "signal", "call_id": call_id, "data": data})
    assert (await kiosk.expect("signal", timeout=5))["data"] == data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(messages, min_size=1, max_size=8))
async def test_random_messages_change_nothing_for_others(
        live_call: tuple[Env, Client, Client, str, list[Client]], batch: list[Any]) -> None:
    env, kiosk, cw, call_id, clients = live_call
    fuzzers = getattr(test_random_messages_change_nothing_for_others, "_fuzzers", None)
    if fuzzers is None or fuzzers[0].ws is None or fuzzers[0].ws.closed:
        fuzzers = [await _kiosk(env, clients, 1), await _caseworker(env, clients, "cw2")]
        test_random_messages_change_nothing_for_others._fuzzers = fuzzers  # type: ignore[attr-defined]
    for message in batch:
        for fuzzer in fuzzers:
            await fuzzer.send(json.dumps(message))
    for fuzzer in fuzzers:
        await _answers_ping(fuzzer)
    await _still_relays(kiosk, cw, call_id, len(batch))


async def _answers_ping(client: Client) -> None:
    """The fuzzing connection still works: a ping is answered (retrying while rate-limited)."""
    async with asyncio.timeout(10):
        for attempt in range(100):
            ref = f"probe-{attempt}"
            await client.send({"type": "ping", "id": ref})
            try:
                async with asyncio.timeout(0.5):
                    while (reply := await client.next_message()).get("ref") != ref:
                        pass
                assert reply["type"] == "pong", reply
                return
            except TimeoutError:
                continue  # the ping itself was over the rate; the bucket refills


async def test_mutated_real_messages(env: Env) -> None:
    clients: list[Client] = []
    try:
        kiosk, cw, call_id = await _into_call(env, clients)
        other = await _kiosk(env, clients, 1)
        base = {"type": "join", "matter_id": MATTER, "mode": "handle", "priority": "normal"}
        mutations: list[Any] = [
            {**base, "mode": None}, {**base, "priority": "vip"}, {**base, "matter_id": "x" * 500},
            {**base, "matter_id": ["gaj"]}, {**base, "type": "JOIN"}, {"type": "signal", "call_id": call_id},
            {"type": "signal", "call_id": call_id, "data": {"description": {"type": "offer", "sdp": 5}}},
            {"type": "rate", "session_id": call_id, "score": 5}, {"type": "cancel", "extra": True},
            "\u0000", "{" * 5000, json.dumps(base)[:-3], 12345, None, [],
        ]
        for mutation in mutations:
            await other.send(mutation if isinstance(mutation, str) else json.dumps(mutation))
        await _answers_ping(other)
        await _still_relays(kiosk, cw, call_id, 0)
        async with aiohttp.ClientSession() as http:
            health = await http.get(env.url("/healthz"))
            assert health.status == 200
    finally:
        for client in clients:
            await client.close()


def _union_only(raw: str) -> tuple[Any, Any, Any]:
    """What `_parse` answered before frequent types got their own model: the union for everything."""
    with patch.dict(_FAST_MODELS, clear=True):
        return _parse(raw, KIOSK_TYPES | CASEWORKER_TYPES | {"hello"})


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({"type": st.sampled_from(["signal", "ping", "capture_signal"])},
                             optional={name: json_values for name in ["id", "call_id", "capture_id", "data"]})
       | st.builds(lambda call_id, data: {"type": "signal", "call_id": call_id, "data": data},
                   st.text(max_size=70), st.fixed_dictionaries({}, optional={
                       "candidate": st.fixed_dictionaries({}, optional={
                           "candidate": st.text(max_size=20), "sdpMid": st.none() | st.text(max_size=5),
                           "sdpMLineIndex": st.none() | st.integers(-3, 3), "t": json_values}),
                       "description": st.fixed_dictionaries({}, optional={
                           "type": st.sampled_from(["offer", "answer", "pranswer"]), "sdp": st.text(max_size=20)}),
                       "x": json_values})))
def test_fast_validation_answers_like_the_union(message: dict[str, Any]) -> None:
    raw = json.dumps(message)
    fast = _parse(raw, KIOSK_TYPES | CASEWORKER_TYPES | {"hello"})
    union = _union_only(raw)
    assert fast[1:] == union[1:]
    assert (fast[0] is None) == (union[0] is None)
    if fast[0] is not None:
        assert type(fast[0]) is type(union[0])
        assert fast[0].model_dump() == union[0].model_dump()
