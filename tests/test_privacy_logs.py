"""ID numbers and secrets never reach the logs: a real server run at DEBUG level, greped afterwards.

A `jinglin serve` process with seeded demo data serves a whole session (join, offer, accept, a
captured ID card, outcome with a case number and notes, end, rating) while every text field a
person or an attacker can fill carries a demo ID number: login names and passwords, kiosk tokens,
search queries, URLs, malformed and oversized WebSocket messages, notes and comments. Then the
log is searched for the ID numbers and for every secret of the run (passwords, kiosk tokens,
session cookies, the secret key).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.simulate.local import LocalServer, launch
from tests.protocol_client import Env
from tests.quality_fixtures.documents import demo_id_number
from tests.test_capture_support import MATTER, SKILL, Client, good_still, jpeg

SECRET_KEY = "privacy-run-secret-" + "s" * 40
PHONES = ["13987654321", "021-87654321"]  # residents' numbers for a 预约: never logged either
RNG = np.random.default_rng(110)
ID_NUMBERS = [demo_id_number(RNG, birth) for birth in ("19450301", "19520714", "19381130")]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    running = launch(tmp_path / "data", {"JINGLIN_LOG_LEVEL": "DEBUG", "JINGLIN_SECRET_KEY": SECRET_KEY,
                                         "JINGLIN_WIDEN_AFTER_S": "0", "JINGLIN_WRAP_UP_S": "0"})
    try:
        yield running
    finally:
        running.stop()


def _caseworker_for(demo: dict[str, Any], skill: str) -> dict[str, Any]:
    return next(cw for cw in demo["caseworkers"] if skill in cw["skills"])


async def _probe_http(client: Client, id_number: str) -> None:
    """Every HTTP input a stranger controls, filled with an ID number."""
    for body in ({"username": id_number, "password": id_number}, {"username": "nobody", "password": id_number}):
        for _ in range(3):  # repeated: the throttle's own warnings must not echo the input either
            response = await client.http.post(client.env.url("/api/v1/auth/login"), json=body)
            assert response.status in (401, 429)
    response = await client.http.post(client.env.url("/api/v1/kiosk/session"), json={"token": id_number})
    assert response.status in (401, 429)
    response = await client.http.post(client.env.url("/api/v1/auth/login"), data=f"{{{id_number}",
                                      headers={"Content-Type": "application/json"})
    assert response.status == 400
    response = await client.http.get(client.env.url(f"/api/v1/matters?q={id_number}"))
    assert response.status == 200
    response = await client.http.get(client.env.url(f"/api/v1/sessions/{id_number}/captures"))
    assert response.status in (401, 403, 404)
    response = await client.http.get(client.env.url(f"/{id_number}"), headers={"X-Resident": id_number})
    assert response.status == 404
    # Lines too long for the HTTP parser: aiohttp refuses them before any handler, and its log record
    # would quote the raw request line or header.
    response = await client.http.get(client.env.url(f"/api/v1/matters?q={id_number}&pad=" + "a" * 9000))
    assert response.status in (400, 414, 431)
    response = await client.http.get(client.env.url("/api/v1/matters"), headers={"X-Pad": id_number + "b" * 9000})
    assert response.status in (400, 431)


async def _probe_websocket(kiosk: Client, id_number: str) -> None:
    """Malformed, unknown, refused and oversized messages carrying an ID number."""
    await kiosk.send(f'{{"type": "join", "matter_id": "{id_number}"')  # not JSON
    await kiosk.send({"type": id_number})
    await kiosk.send({"type": "join", "matter_id": id_number, "mode": "handle"})
    await kiosk.send({"type": "rate", "session_id": id_number, "score": 5, "comment": id_number})
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle", "extra": id_number * 4000})
    await kiosk.send({"type": "appointment_book", "matter_id": MATTER, "slot": id_number, "phone": PHONES[0]})
    await kiosk.send({"type": "appointment_checkin", "code": PHONES[1]})
    # each is refused (replies go to the sender only; the log is what this test reads)
    errors = [await kiosk.expect("error") for _ in range(7)]
    assert [e["code"] for e in errors][2:] == ["unknown_matter", "not_rateable", "too_large", "slot_closed",
                                               "appointment_unknown"], errors


async def _whole_session(env: Env, demo: dict[str, Any], made: list[Client]) -> str:
    kiosk = Client(env)
    made.append(kiosk)
    await kiosk.kiosk_login(env.kiosk_tokens[0])
    await kiosk.connect()
    await _probe_websocket(kiosk, ID_NUMBERS[1])
    staff = _caseworker_for(demo, SKILL)
    cw = Client(env)
    made.append(cw)
    await cw.staff_login(staff["username"], staff["password"])
    await cw.connect()
    await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
    ticket = (await kiosk.expect("ticket"))["ticket"]
    await cw.send({"type": "set_status", "status": "available"})
    offer = (await cw.expect("offer", timeout=10))["offer"]
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    await cw.expect("call")
    call_id = str(ticket["session_id"])  # a call is named by its session
    await kiosk.expect("call")
    reply = await cw.request({"type": "capture_request", "call_id": call_id, "material": "身份证原件"}, ref=7)
    assert reply["type"] == "ok", reply
    opened = await cw.expect("capture_opened")
    await kiosk.expect("capture_request", capture_id=opened["capture_id"])
    upload = await kiosk.upload(opened["capture_id"], jpeg(good_still()), filename=f"{ID_NUMBERS[2]}.jpg")
    assert upload.status == 200, await upload.text()
    ready = (await cw.expect("capture_ready", timeout=10))["capture"]
    image = await cw.http.get(cw.env.url(ready["image_url"]))
    assert image.status == 200
    # A typed case number is refused by default (the server issues them): an ID number typed there
    # must not reach the logs either.
    refused = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted",
                                "case_number": ID_NUMBERS[0]}, ref=9)
    assert refused["type"] == "error", refused
    reply = await cw.request({"type": "end_call", "ticket_id": call_id, "outcome": "accepted",
                              "notes": f"申请人身份证号 {ID_NUMBERS[0]}"}, ref=8)
    assert reply["type"] == "ok", reply
    await kiosk.expect("call_ended")
    await kiosk.send({"type": "rate", "session_id": call_id, "score": 4, "comment": f"我的号码 {ID_NUMBERS[2]}"})
    return call_id


async def test_a_full_run_logs_no_id_number_and_no_secret(server: LocalServer) -> None:
    demo = server.demo
    env = Env(server=None, kiosk_tokens=[k["token"] for k in demo["kiosks"]], base_url=server.url)
    made: list[Client] = []
    try:
        stranger = Client(env)
        made.append(stranger)
        await _probe_http(stranger, ID_NUMBERS[0])
        await _whole_session(env, demo, made)
        cookies = [c.value for client in made for c in client.http.cookie_jar]
        await asyncio.sleep(0.5)  # let the last records land
    finally:
        for client in made:
            await client.close()
    server.stop()

    log = server.log_path.read_text(errors="replace")
    # The run was really logged at DEBUG (so an empty grep means something).
    assert "DEBUG" in log and len(log.splitlines()) > 20, log[-2000:]
    secrets = {"ID number": ID_NUMBERS, "phone number": PHONES, "session cookie": cookies, "secret key": [SECRET_KEY],
               "kiosk token": [k["token"] for k in demo["kiosks"]],
               "password": [cw["password"] for cw in demo["caseworkers"]] + [demo["admin"]["password"]]}
    assert cookies, "the clients held no session cookie: the run did not log in"
    for label, values in secrets.items():
        for value in values:
            assert value not in log, f"a {label} appears in the server log"
