"""Load the Lua scripts once and call them by SHA.

Each `lua/<name>-<numkeys>.lua` file is one atomic operation. Shared helpers live in
`lua/includes/` and are inlined where a script says `--- @include "name"` (the BullMQ way), so
there are no inline Lua strings in Python and no copy-paste between scripts. Scripts are sent
with SCRIPT LOAD on first use and run with EVALSHA; after a Redis restart (NOSCRIPT) they are
loaded again and the call retried once.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

_INCLUDE = re.compile(r'^--- @include "([\w-]+)"\s*$', re.MULTILINE)
_NAME = re.compile(r"^(?P<name>\w+)-(?P<keys>\d+)\.lua$")


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


def load_sources() -> dict[str, Script]:
    """Read every script of the package, keyed by operation name (file name without key count)."""
    lua_dir = resources.files("session_queue") / "lua"
    scripts: dict[str, Script] = {}
    for entry in lua_dir.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        source = _expand(entry.read_text("utf-8"), lua_dir, set())
        sha = hashlib.sha1(source.encode("utf-8")).hexdigest()
        scripts[match["name"]] = Script(match["name"], int(match["keys"]), source, sha)
    return scripts


class ScriptRunner:
    """Calls scripts on one Redis client by EVALSHA, loading them when the server lacks them.

    With `batch=True`, calls made by concurrent tasks in the same event-loop turn are sent as
    one pipeline (no MULTI): each script stays its own atomic step, in call order, but the
    client pays one round trip for the group. A lone call just waits one loop turn.
    """

    def __init__(self, redis: Redis, scripts: dict[str, Script] | None = None, *, batch: bool = False) -> None:
        self._redis = redis
        self.scripts = scripts if scripts is not None else load_sources()
        self._loaded = False
        self._batch = batch
        self._pending: list[tuple[Script, list[str], list[str], asyncio.Future[Any]]] = []

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
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            if not self._pending:
                asyncio.get_running_loop().call_soon(self._flush_soon)
            self._pending.append((script, keys, args, future))
            return await future
        return await self._evalsha(script, keys, args)

    async def _evalsha(self, script: Script, keys: list[str], args: list[str]) -> Any:
        try:
            return await self._redis.evalsha(script.sha, script.numkeys, *keys, *args)
        except NoScriptError:
            await self.load()
            return await self._redis.evalsha(script.sha, script.numkeys, *keys, *args)

    def _flush_soon(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._flush(batch))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _flush(self, batch: list[tuple[Script, list[str], list[str], asyncio.Future[Any]]]) -> None:
        try:
            pipe = self._redis.pipeline(transaction=False)
            for script, keys, args, _ in batch:
                pipe.evalsha(script.sha, script.numkeys, *keys, *args)
            results = await pipe.execute(raise_on_error=False)
            for (script, keys, args, future), result in zip(batch, results, strict=True):
                if isinstance(result, NoScriptError):  # Redis restarted: reload, run alone
                    result = await self._evalsha(script, keys, args)
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
