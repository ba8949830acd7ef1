"""The script loader: settings and key names written into the Lua text, on both Redis backends."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from session_queue import KEY_PARTS, QueueConfig, QueueError, SessionQueue, TicketSpec, Transition
from session_queue.scripts import _templates, load_sources, lua_constants, lua_number, lua_string, shake

T0 = 1_700_000_000.0


def test_settings_are_written_into_the_script_text() -> None:
    default = load_sources()
    other = load_sources(QueueConfig(wrap_up_s=7.5, routing_scan=3))
    assert set(default) == set(other)
    assert '["wrap"] = 7.5' in other["endCall"].source and '["scan"] = 3' in other["endCall"].source
    assert default["endCall"].sha != other["endCall"].sha
    assert default["ping"].sha == other["ping"].sha  # no constants in it
    assert load_sources(QueueConfig(wrap_up_s=7.5, routing_scan=3))["endCall"].sha == other["endCall"].sha
    for script in default.values():
        assert not re.search(r"^--- @constants", script.source, re.MULTILINE)
        assert "cjson.decode(ARGV[3])" not in script.source  # no per-call config argument


def test_every_key_part_used_by_a_script_is_in_keys_py() -> None:
    used = {m for _, _, source in _templates() for m in re.findall(r"\bkey\('(\w+)'", source)}
    assert used and used <= set(KEY_PARTS)


def test_numbers_refuse_what_lua_cannot_read() -> None:
    for bad in (float("inf"), float("nan"), True):
        with pytest.raises(ValueError):
            lua_number(bad)


async def test_literals_read_back_exactly_in_lua(redis_client: aioredis.Redis) -> None:
    for text in ("plain", 'q"uo\\te', "line\nbreak\ttab\r", "中文 ü", "nul\x00byte", "]]--[["):
        got = await redis_client.eval(f"return {lua_string(text)}", 0)
        assert got == text.encode("utf-8")
    for number in (0, 20, 0.1, 2.5, 1e-7, 10**9, 123456.789, 1e21, 21600):
        # the same double the old per-call JSON config decoded to
        same = await redis_client.eval(
            f"return tostring({lua_number(number)} == cjson.decode(ARGV[1]))", 0, json.dumps(number)
        )
        assert same == b"true", number
    constants = lua_constants(QueueConfig())
    got = await redis_client.eval(constants + "\nreturn cjson.encode({K, CFG})", 0)
    keys, cfg = json.loads(got)
    assert keys == KEY_PARTS
    assert cfg["offer"] == 20 and cfg["ttl"] == 6 * 3600


async def test_engines_with_different_settings_share_one_redis(redis_client: aioredis.Redis) -> None:
    async def call_ended(config: QueueConfig) -> str:
        q = SessionQueue(redis_client, config, prefix=f"s{uuid.uuid4().hex[:8]}:", clock=lambda: T0)
        await q.rebuild([])
        await q.caseworker_login("c1", "s1", ["A"])
        transitions = await q.enqueue(TicketSpec(id="t1", kiosk_id="k", street_id="s1", matter_id="m",
                                                 skill="A"))
        fence = transitions[-1].extra["fence"]
        await q.accept("c1", "t1", fence)
        await q.end_call("c1", "t1", fence + 1, handle_s=60)
        status = await q.caseworker("c1")
        assert status is not None
        return status.state

    assert await call_ended(QueueConfig(wrap_up_s=30)) == "wrap_up"
    assert await call_ended(QueueConfig(wrap_up_s=0)) == "available"
    assert await call_ended(QueueConfig(wrap_up_s=30)) == "wrap_up"


async def test_lone_batched_call_refusal_and_reload(redis_client: aioredis.Redis) -> None:
    q = SessionQueue(redis_client, prefix=f"s{uuid.uuid4().hex[:8]}:", clock=lambda: T0, batch=True)
    await q.rebuild([])
    with pytest.raises(QueueError) as refused:
        await q.cancel("missing")
    assert refused.value.code == "unknown_ticket"
    await redis_client.script_flush()
    await q.enqueue(TicketSpec(id="t1", kiosk_id="k", street_id="s1", matter_id="m", skill="A"))
    assert (await q.position("t1")).position == 1



async def test_batched_calls_on_a_killed_connection(redis_client: aioredis.Redis) -> None:
    """The batch lanes send on pooled connections directly, with the client's retry policy as
    redis-py applies it (none by default): calls on a connection the server closed fail with a
    ConnectionError and change nothing; the connection is replaced and every later call works."""
    q = SessionQueue(redis_client, prefix=f"s{uuid.uuid4().hex[:8]}:", clock=lambda: T0, batch=True)
    await q.rebuild([])
    await q.enqueue(TicketSpec(id="t0", kiosk_id="k", street_id="s1", matter_id="m", skill="A"))
    pool = redis_client.connection_pool
    checkout = pool.get_connection

    async def checkout_then_kill(*args: Any, **kwargs: Any) -> Any:
        """Hand out the next connection only after the server has closed it (once), so the batch
        surely meets a dead connection (an idle one seen closed would be replaced at checkout)."""
        pool.get_connection = checkout  # type: ignore[method-assign]
        connection = await checkout(*args, **kwargs)
        await connection.send_command("CLIENT", "ID")
        client_id = await connection.read_response()
        assert await redis_client.execute_command("CLIENT", "KILL", "ID", client_id) == 1
        return connection

    pool.get_connection = checkout_then_kill  # type: ignore[method-assign]

    def spec(i: int) -> TicketSpec:
        return TicketSpec(id=f"t{i}", kiosk_id="k", street_id="s1", matter_id="m", skill="A")

    first = await asyncio.gather(*(q.enqueue(spec(i)) for i in range(1, 9)), return_exceptions=True)
    assert all(isinstance(r, (list, RedisConnectionError)) for r in first), first
    failed = [i for i, r in enumerate(first, start=1) if isinstance(r, RedisConnectionError)]
    assert failed  # the batch on the killed connection
    for i in failed:  # never applied: the same ticket goes in now
        await q.enqueue(spec(i))
    await asyncio.gather(*(q.enqueue(spec(i)) for i in range(9, 17)))
    queued = {f"t{i}": (await q.position(f"t{i}")).position for i in range(17)}
    assert sorted(queued.values()) == list(range(1, 18))


async def test_batched_call_times_out_with_a_redis_error(redis_client: aioredis.Redis, redis_url: str) -> None:
    """A Redis that stops answering fails the batch with redis' TimeoutError after the client's
    socket timeout (what the server's callers handle), and the next call works again."""
    slow = aioredis.from_url(redis_url, socket_timeout=0.2)
    q = SessionQueue(slow, prefix=f"s{uuid.uuid4().hex[:8]}:", clock=lambda: T0, batch=True)
    try:
        await q.rebuild([])
        busy = asyncio.create_task(redis_client.eval(  # holds the server for ~1-2 s
            "local n = 0 for i = 1, 2e8 do n = n + i end return 1", 0))
        await asyncio.sleep(0.05)
        with pytest.raises(RedisTimeoutError):
            await q.enqueue(TicketSpec(id="t1", kiosk_id="k", street_id="s1", matter_id="m", skill="A"))
        await busy
        await q.enqueue(TicketSpec(id="t2", kiosk_id="k", street_id="s1", matter_id="m", skill="A"))
        assert (await q.position("t2")).position >= 1
    finally:
        await slow.aclose()

def test_transition_from_json_is_the_dataclass() -> None:
    item = {"entity": "ticket", "ticket_id": "t1", "caseworker_id": None, "from_state": "waiting",
            "to_state": "offered", "kind": "offer", "actor": "router", "fence": 2,
            "ts": "1700000000.5", "extra": None}
    built = Transition.from_json(item)
    assert built == Transition(entity="ticket", ticket_id="t1", caseworker_id=None, from_state="waiting",
                               to_state="offered", kind="offer", actor="router", fence=2,
                               ts=1_700_000_000.5, extra={})
    assert Transition.from_json({**item, "extra": {"fence": 3}}).extra == {"fence": 3}
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.kind = "x"  # type: ignore[misc]


def test_shake_drops_only_unreached_local_functions() -> None:
    source = "\n".join([
        "local function one(x) return x end",
        "local function helper(x)",
        "  local function inner() return one(x) end",
        "  return inner()",
        "end",
        "local function unused_leaf() return 1 end",
        "local function unused_caller()",
        "  return unused_leaf() + unused_caller()",
        "end",
        "local T = {}",
        "return helper(2)",
    ])
    shaken = shake(source)
    assert "unused_leaf" not in shaken and "unused_caller" not in shaken  # a chain, and recursion
    assert "local function one" in shaken and "local function helper" in shaken
    assert "local function inner" in shaken and "local T = {}" in shaken


def test_every_script_keeps_what_it_calls() -> None:
    scripts = load_sources()
    # the hot path builds fewer closures per call than the 35 helpers of its includes
    for name in ("enqueue", "accept", "endCall"):
        defined = re.findall(r"^local function (\w+)", scripts[name].source, re.MULTILINE)
        assert 0 < len(defined) < 30
        for fn in defined:
            assert len(re.findall(rf"\b{fn}\b", scripts[name].source)) >= 2
