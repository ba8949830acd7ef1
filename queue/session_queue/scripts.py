"""Load the Lua scripts once and call them by SHA.

Each `lua/<name>-<numkeys>.lua` file is one atomic operation. Shared helpers live in
`lua/includes/` and are inlined where a script says `--- @include "name"` (the BullMQ way), so
there are no inline Lua strings in Python and no copy-paste between scripts. Scripts are sent
with SCRIPT LOAD on first use and run with EVALSHA; after a Redis restart (NOSCRIPT) they are
loaded again and the call retried once.

Settings and key names are not sent with each call: the loader writes them into the script text
in place of the `--- @constants` line (see includes/common.lua), from `keys.KEY_PARTS` and the
engine's `QueueConfig`. A script's SHA therefore depends on the configuration; the key prefix and
the clock still travel in ARGV, so many prefixes share one set of scripts.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from hiredis import pack_command
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from session_queue.keys import KEY_PARTS
from session_queue.models import QueueConfig

_INCLUDE = re.compile(r'^--- @include "([\w-]+)"\s*$', re.MULTILINE)
_CONSTANTS = re.compile(r"^--- @constants\s*$", re.MULTILINE)
_NAME = re.compile(r"^(?P<name>\w+)-(?P<keys>\d+)\.lua$")
_LOCAL_FUNCTION = re.compile(r"^local function (\w+)\(")
_ONE_LINE_FUNCTION = re.compile(r"^local function \w+\(.*\)\s.*\bend$")
_DROPPED = "\0dropped"  # placeholder keeping line numbers while shake() removes blocks


@dataclass(frozen=True)
class Script:
    """One loaded script: its source after includes, SHA1 and declared key count."""

    name: str
    numkeys: int
    source: str
    sha: str


def _expand(source: str, lua_dir: Any, seen: set[str]) -> str:
    def include(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in seen:
            return ""
        seen.add(name)
        return _expand((lua_dir / "includes" / f"{name}.lua").read_text("utf-8"), lua_dir, seen)

    return _INCLUDE.sub(include, source)


def _function_blocks(lines: list[str]) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of every top-level `local function` in a script: one
    line long, or closed by the next `end` at column 0 (the layout of every file in lua/)."""
    blocks = []
    i = 0
    while i < len(lines):
        match = _LOCAL_FUNCTION.match(lines[i])
        if match:
            last = i if _ONE_LINE_FUNCTION.match(lines[i]) else lines.index("end", i)
            blocks.append((match[1], i, last))
            i = last
        i += 1
    return blocks


def shake(source: str) -> str:
    """Drop the top-level local functions a script never reaches.

    Every script inlines all the helpers of its includes, and Lua builds a closure for each on
    every call: unused ones cost microseconds per call for nothing. A function is kept while its
    name occurs in the remaining text more often than in its own body (repeated until stable).
    """
    lines = source.split("\n")
    blocks = {first: (name, last) for name, first, last in _function_blocks(lines)}
    while True:
        text = "\n".join(lines)
        unused = [
            first for first, (name, last) in blocks.items()
            if len(re.findall(rf"\b{name}\b", text))
            <= len(re.findall(rf"\b{name}\b", "\n".join(lines[first:last + 1])))
        ]
        if not unused:
            return "\n".join(line for line in lines if line != _DROPPED)
        for first in unused:
            _, last = blocks.pop(first)
            lines[first:last + 1] = [_DROPPED] * (last + 1 - first)


def lua_string(value: str) -> str:
    """A Lua 5.1 string literal for any text (bytes outside printable ASCII as \\ddd escapes)."""
    out = []
    for byte in value.encode("utf-8"):
        if byte in (0x22, 0x5C) or byte < 0x20 or byte > 0x7E:
            out.append(f"\\{byte:03d}")
        else:
            out.append(chr(byte))
    return '"' + "".join(out) + '"'


def lua_number(value: float) -> str:
    """A Lua number literal that parses to the same double as the Python value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return repr(value) if isinstance(value, int) else repr(float(value))


def lua_constants(config: QueueConfig) -> str:
    """The Lua text that replaces `--- @constants`: the key table K and the settings CFG."""
    keys = ", ".join(f"[{lua_string(name)}] = {lua_string(part)}" for name, part in KEY_PARTS.items())
    settings = {
        "offer": config.offer_timeout_s,
        "grace": config.kiosk_grace_s,
        "wrap": config.wrap_up_s,
        "widen": config.widen_after_s,
        "hw": config.handle_window,
        "dh": config.default_handle_s,
        "scan": config.routing_scan,
        "ttl": config.finished_ttl_s,
        "outbox": config.outbox_max_entries,
    }
    cfg = ", ".join(f"[{lua_string(name)}] = {lua_number(value)}" for name, value in settings.items())
    return f"local K = {{{keys}}}\nlocal CFG = {{{cfg}}}"


@lru_cache(maxsize=1)
def _templates() -> tuple[tuple[str, int, str], ...]:
    """(name, numkeys, source after includes) of every script file, read once per process."""
    lua_dir = resources.files("session_queue") / "lua"
    out = []
    for entry in sorted(lua_dir.iterdir(), key=lambda e: e.name):
        match = _NAME.match(entry.name)
        if not match:
            continue
        source = shake(_expand(entry.read_text("utf-8"), lua_dir, set()))
        out.append((match["name"], int(match["keys"]), source))
    return tuple(out)


@lru_cache(maxsize=64)
def _load_for(constants: str) -> dict[str, Script]:
    scripts: dict[str, Script] = {}
    for name, numkeys, template in _templates():
        source = _CONSTANTS.sub(lambda _: constants, template)
        sha = hashlib.sha1(source.encode("utf-8")).hexdigest()
        scripts[name] = Script(name, numkeys, source, sha)
    return scripts


def load_sources(config: QueueConfig | None = None) -> dict[str, Script]:
    """Every script of the package with `config` (default settings if None) and the key table
    written in, keyed by operation name (file name without key count)."""
    return dict(_load_for(lua_constants(config or QueueConfig())))


Call = tuple[Script, list[str], list[str], asyncio.Future[Any]]  # script, keys, args, answer


class ScriptRunner:
    """Calls scripts on one Redis client by EVALSHA, loading them when the server lacks them.

    With `batch=True`, concurrent calls are sent as pipelines (no MULTI): each script stays its
    own atomic step, in call order (see `_take` for the one exception), but the client pays one
    round trip per group. At most
    `lanes` pipelines are in flight; calls made meanwhile wait and leave together when a lane
    comes back, so groups grow with the load (fewer socket writes and reads per call) while two
    lanes keep the client and Redis busy at the same time (see `_take`). A lone call waits one
    loop turn and goes out as a pipeline of one.
    """

    lanes = 2

    def __init__(self, redis: Redis, scripts: dict[str, Script] | None = None, *, batch: bool = False) -> None:
        self._redis = redis
        self.scripts = scripts if scripts is not None else load_sources()
        self._loaded = False
        self._batch = batch
        self._pending: list[Call] = []
        self._tasks: set[asyncio.Task[None]] = set()  # strong references to the lane tasks
        self._lanes_running = 0  # counted by the lanes themselves: a done callback comes a turn late

    async def load(self) -> None:
        """SCRIPT LOAD every script (idempotent; the server keeps them until restart/flush)."""
        for script in self.scripts.values():
            await self._redis.script_load(script.source)
        self._loaded = True

    async def run(self, name: str, keys: list[str], args: list[str]) -> Any:
        """EVALSHA script `name`; on NOSCRIPT reload all scripts and retry once."""
        script = self.scripts[name]
        if len(keys) != script.numkeys:
            raise ValueError(f"{name} takes {script.numkeys} keys, got {len(keys)}")
        if not self._loaded:
            await self.load()
        if self._batch:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[Any] = loop.create_future()
            if self._lanes_running < self.lanes and (not self._pending or self._lanes_running == 0):
                # the lane's first step runs after the callbacks already queued in this loop
                # turn, so every call made in the same turn joins the batch it takes (and calls
                # left behind by a lane that was cancelled are picked up too)
                self._start_lane()
            self._pending.append((script, keys, args, future))
            return await future
        return await self._evalsha(script, keys, args)

    async def _evalsha(self, script: Script, keys: list[str], args: list[str]) -> Any:
        try:
            return await self._redis.evalsha(script.sha, script.numkeys, *keys, *args)
        except NoScriptError:
            await self.load()
            return await self._redis.evalsha(script.sha, script.numkeys, *keys, *args)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: errors already went to the callers' futures

    def _start_lane(self) -> None:
        self._lanes_running += 1
        task = asyncio.get_running_loop().create_task(self._lane())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _take(self) -> list[Call]:
        """The next batch: everything pending, or its first half while the other lane is idle.

        Callers that all wake in one loop turn would otherwise stay in lockstep in one batch:
        Redis idle while the client handles every answer, the client idle while Redis runs every
        script. Split, Redis runs the second half while the client works on the first half's
        answers (+25-40 % cycles/s in the queue bench at 4 callers). The second half leaves once
        the first is written (`_written`), so Redis still receives and runs them in call order
        (except right after a Redis restart, see `_rerun`).
        """
        pending = self._pending
        if len(pending) > 1 and self._lanes_running < self.lanes:
            half = (len(pending) + 1) // 2
            self._pending = pending[half:]
            return pending[:half]
        self._pending = []
        return pending

    def _written(self) -> None:
        """A batch is on the wire: what is still pending leaves behind it on an idle lane."""
        if self._pending and self._lanes_running < self.lanes:
            self._start_lane()

    async def _lane(self) -> None:
        try:
            # take what piled up while this lane's previous batch was out
            while self._pending:
                await self._flush(self._take())
        finally:
            self._lanes_running -= 1

    async def _roundtrip(self, batch: list[Call]) -> list[Any]:
        """Send the batch's EVALSHAs in one write on one pooled connection and read every reply
        (a script's error in its place, as an exception). The plain connection calls skip the
        client's per-command layers (retry wrapper, timers, metrics hooks, pipeline object),
        which cost more than the socket itself for short scripts; hiredis packs the commands.
        A connection that failed mid-way is dropped: its replies could be out of step."""
        pool = self._redis.connection_pool
        connection = await pool.get_connection()
        payload = b"".join(
            # hiredis' stub types the argument as a one-element tuple; any length works
            pack_command(("EVALSHA", script.sha, script.numkeys, *keys, *args))  # type: ignore[arg-type]
            for script, keys, args, _ in batch
        )

        async def attempt() -> list[Any]:
            # one deadline (the client's socket timeout) for the whole batch, not a timer per reply
            async with asyncio.timeout(connection.socket_timeout):
                await connection.send_packed_command(payload)
                self._written()
                results: list[Any] = []
                for _ in batch:
                    try:
                        results.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        results.append(exc)
                return results

        async def reconnect(_error: Exception) -> None:
            await connection.disconnect()

        try:
            # the connection's own retry policy, as redis-py applies it to every command and to
            # its pipelines (none for clients made by from_url, as the server's: a connection the
            # server closed fails this batch and is replaced; with retries, the batch is resent)
            return await connection.retry.call_with_retry(attempt, reconnect)
        except BaseException as exc:
            await connection.disconnect()
            if isinstance(exc, TimeoutError):
                raise RedisTimeoutError(f"no answer from Redis within {connection.socket_timeout} s") from exc
            raise
        finally:
            await pool.release(connection)

    async def _rerun(self, batch: list[Call], results: list[Any]) -> list[Any]:
        """Run again, alone and in order, the calls Redis refused with NOSCRIPT (it restarted or
        was flushed; `_evalsha` loads the scripts). Only then may concurrent calls be applied out
        of call order: a batch on the other lane can run while these are run again."""
        out = []
        for (script, keys, args, _), result in zip(batch, results, strict=True):
            if isinstance(result, NoScriptError):
                try:
                    result = await self._evalsha(script, keys, args)
                except ResponseError as exc:  # the script's own refusal belongs to its caller
                    result = exc
            out.append(result)
        return out

    async def _flush(self, batch: list[Call]) -> None:
        try:
            results = await self._roundtrip(batch)
            if any(isinstance(result, NoScriptError) for result in results):
                results = await self._rerun(batch, results)
            for (*_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        except BaseException as exc:  # connection errors reach every caller of the batch
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else ConnectionError(str(exc)))
            if not isinstance(exc, Exception):
                raise
