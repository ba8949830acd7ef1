"""The catalog over HTTP: list, search, one matter, departments, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from tests.helpers import make_settings, prepare_database


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = make_settings(tmp_path)
    await prepare_database(settings)  # what `jinglin migrate` does: schema + shipped catalog
    async with TestClient(TestServer(create_app(settings))) as test_client:
        yield test_client


async def test_all_179_matters_with_every_field(client: TestClient) -> None:
    body = await (await client.get("/api/v1/matters")).json()
    assert body["total"] == 179
    assert len(body["matters"]) == 179
    assert body["version"]
    first = body["matters"][0]
    assert set(first) == {"id", "name", "department", "category", "mode", "on_the_spot", "typical_minutes",
                          "skill", "guide", "materials"}
    assert all(set(m) == {"name", "capture", "document_type"} for matter in body["matters"]
               for m in matter["materials"])


@pytest.mark.parametrize("q", ["敬老卡", "jlk", "jinglaoka", "JLK"])
async def test_search_finds_jinglaoka(client: TestClient, q: str) -> None:
    body = await (await client.get("/api/v1/matters", params={"q": q})).json()
    assert body["total"] >= 1
    assert body["matters"][0]["name"].startswith("敬老卡")


@pytest.mark.parametrize("q", ["%' OR 1=1 --", ".*", "[", "x" * 5000])
async def test_hostile_queries_answer_quietly(client: TestClient, q: str) -> None:
    response = await client.get("/api/v1/matters", params={"q": q})
    assert response.status == 200
    assert (await response.json())["total"] < 179


async def test_control_characters_are_ignored(client: TestClient) -> None:
    response = await client.get("/api/v1/matters", params={"q": "\u0000敬老卡\u0007"})
    assert response.status == 200
    assert (await response.json())["matters"][0]["name"].startswith("敬老卡")


async def test_filters(client: TestClient) -> None:
    body = await (await client.get("/api/v1/matters", params={"department": "公安", "mode": "consult"})).json()
    assert body["total"] > 0
    assert all(m["department"] == "公安" and m["mode"] in ("consult", "both") for m in body["matters"])


async def test_bad_mode_is_a_clear_error(client: TestClient) -> None:
    response = await client.get("/api/v1/matters", params={"mode": "teleport"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_mode"


async def test_one_matter_and_unknown_id(client: TestClient) -> None:
    listing = await (await client.get("/api/v1/matters")).json()
    matter_id = listing["matters"][5]["id"]
    one = await (await client.get(f"/api/v1/matters/{matter_id}")).json()
    assert one == listing["matters"][5]
    missing = await client.get("/api/v1/matters/no-such-matter")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "unknown_matter"


async def test_departments(client: TestClient) -> None:
    body = await (await client.get("/api/v1/departments")).json()
    assert len(body["departments"]) >= 10
    assert sum(d["matters"] for d in body["departments"]) == 179
