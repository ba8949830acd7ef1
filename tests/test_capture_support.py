"""Shared setup of the capture suites (no tests here): the real app, which wires the capture
pipeline (`capture_context`, `server.capture.views.ROUTES`) itself."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.http import app_keys
from tests.district import add_staff, add_street
from tests.helpers import make_settings, prepare_database
from tests.protocol_client import Client as ProtocolClient
from tests.protocol_client import Env
from tests.quality_fixtures.dataset import Sample, generate_samples

MATTER = "gaj-jlks-01"  # 敬老卡申领、发放: has materials captured by camera
SKILL = "police-general"


@contextlib.asynccontextmanager
async def capture_env(tmp_path: Path, **overrides: str) -> AsyncIterator[Env]:
    """Start the full app plus the capture pipeline on a fresh database and the embedded Redis."""
    settings = make_settings(tmp_path, **{"JINGLIN_WRAP_UP_S": "0", **overrides})
    await prepare_database(settings)
    app = create_app(settings)
    server = TestServer(app)
    await server.start_server()
    async with app[app_keys.DB_SESSIONS]() as session, session.begin():
        street = await add_street(session, sites=2)
        await add_staff(session, street.centre_id, caseworkers={"cw1": [SKILL], "cw2": [SKILL]}, supervisors=["boss"],
                        admins=["root"])
    try:
        yield Env(server=server, kiosk_tokens=street.kiosk_tokens)
    finally:
        await server.close()


class Client(ProtocolClient):
    """The protocol client plus the kiosk's image upload."""

    async def upload(self, capture_id: str, data: bytes, filename: str = "still.jpg",
                     content_type: str = "image/jpeg") -> aiohttp.ClientResponse:
        form = aiohttp.FormData()
        # A stream, not bytes: aiohttp warns about bytes bodies over 1 MiB (an error under the suite's filter).
        form.add_field("image", io.BytesIO(data), filename=filename, content_type=content_type)
        return await self.http.post(self.env.url(f"/api/v1/captures/{capture_id}/image"), data=form)


async def into_call(env: Env, made: list[Client], kiosk_n: int = 0, cw_name: str = "cw1",
                    consent: dict[str, str] | None = None) -> tuple[Client, Client, str]:
    """A kiosk and a caseworker in a live call (the join carrying `consent` when given); returns both
    and the call id."""
    kiosk = Client(env)
    made.append(kiosk)
    await kiosk.kiosk_login(env.kiosk_tokens[kiosk_n])
    await kiosk.connect()
    cw = Client(env)
    made.append(cw)
    await cw.staff_login(cw_name)
    await cw.connect()
    join: dict[str, Any] = {"type": "join", "matter_id": MATTER, "mode": "handle"}
    if consent is not None:
        join["consent"] = consent
    await kiosk.send(join)
    ticket = (await kiosk.expect("ticket"))["ticket"]
    await cw.send({"type": "set_status", "status": "available"})
    offer = (await cw.expect("offer"))["offer"]
    await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
    await cw.expect("call")
    await kiosk.expect("call")
    return kiosk, cw, str(ticket["session_id"])


async def request_capture(kiosk: Client, cw: Client, call_id: str) -> dict[str, Any]:
    """The caseworker asks for the first camera material; returns the kiosk's capture_request."""
    material = "身份证原件"
    reply = await cw.request({"type": "capture_request", "call_id": call_id, "material": material}, ref=100)
    assert reply["type"] == "ok", reply
    opened = await cw.expect("capture_opened")
    request = await kiosk.expect("capture_request", capture_id=opened["capture_id"])
    assert request["material"] == material
    return request


@cache
def good_sample() -> Sample:
    """A good capture of a synthetic document (BGR, 1280x720 or 1920x1080)."""
    sample = next(generate_samples(1))
    assert sample.condition == "good"
    return sample


def good_still() -> np.ndarray:
    """The good capture's pixels."""
    return good_sample().image


def jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


@pytest.fixture
async def made() -> AsyncIterator[list[Client]]:
    """The protocol clients a test opens, closed after it (use as `from … import made as made`)."""
    clients: list[Client] = []
    yield clients
    for client in clients:
        await client.close()
