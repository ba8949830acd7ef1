"""Run a simulation: cast the actors, spread the sessions over the kiosks, collect the report."""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.simulate.actor import Options
from server.simulate.caseworker import SimCaseworker
from server.simulate.cast import CastError, pick_cast
from server.simulate.client import ProtocolClient
from server.simulate.kiosk import SimKiosk
from server.simulate.ledger import Ledger, SessionRecord
from server.simulate.local import LocalServer, launch


@dataclass(frozen=True)
class Plan:
    """What to simulate."""

    kiosks: int = 2
    caseworkers: int = 2
    sessions: int = 4
    drop_rate: float = 0.0
    seed: int | None = None
    options: Options = field(default_factory=Options)


async def _matters(url: str) -> list[dict[str, Any]]:
    client = ProtocolClient(url, "catalog")
    try:
        data = await client.get_json("/api/v1/matters")
    finally:
        await client.close()
    matters: list[dict[str, Any]] = data["matters"]
    return matters


def _records(plan: Plan, rng: random.Random) -> list[SessionRecord]:
    records = []
    for index in range(plan.sessions):
        drop = None
        if rng.random() < plan.drop_rate:
            drop = (rng.choice(("kiosk", "caseworker")), rng.choice(("wait", "call")))
        records.append(SessionRecord(index=index, drop=drop))
    return records


async def simulate(url: str, demo: dict[str, Any], plan: Plan, ledger: Ledger | None = None,
                   *, caseworker_url: str | None = None) -> dict[str, Any]:
    """Run `plan` against the server at `url` with the credentials of `demo`; return the report.

    `caseworker_url` puts the caseworkers on another server process sharing the same Redis and
    database (the kiosks stay on `url`).
    """
    rng = random.Random(plan.seed)
    ledger = ledger or Ledger()
    ledger.records = _records(plan, rng)
    try:
        kiosk_roles, cw_roles = pick_cast(demo, await _matters(url), plan.kiosks, plan.caseworkers, rng)
    except CastError as exc:
        ledger.error(f"cast: {exc}")
        return ledger.report()
    kiosks = [SimKiosk(role, url, ledger, plan.options, random.Random(rng.random())) for role in kiosk_roles]
    caseworkers = [SimCaseworker(role, caseworker_url or url, ledger, plan.options) for role in cw_roles]
    stop = asyncio.Event()
    try:
        # Caseworkers first, so the first tickets find someone available.
        await asyncio.gather(*(cw.start() for cw in caseworkers))
        await asyncio.gather(*(kiosk.start() for kiosk in kiosks))
        cw_tasks = [asyncio.create_task(cw.run(stop)) for cw in caseworkers]
        await asyncio.gather(*(_kiosk_sessions(kiosk, ledger.records[i::len(kiosks)])
                               for i, kiosk in enumerate(kiosks)))
        stop.set()
        await asyncio.gather(*cw_tasks)
    except Exception as exc:  # a broken run still reports what it saw
        ledger.error(f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        await asyncio.gather(*(actor.close() for actor in [*kiosks, *caseworkers]), return_exceptions=True)
    return ledger.report()


async def _kiosk_sessions(kiosk: SimKiosk, records: list[SessionRecord]) -> None:
    for rec in records:
        try:
            await kiosk.run_session(rec)
        except Exception as exc:  # one broken session must not stop the kiosk's next ones
            kiosk.ledger.error(f"{kiosk.name}: session {rec.index}: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def own_server(overrides: dict[str, str] | None = None) -> Iterator[LocalServer]:
    """A seeded server in a temporary data dir, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="jl-simulate-") as tmp:
        server = launch(Path(tmp), overrides)
        try:
            yield server
        finally:
            server.stop()
