"""The app factory: health, metrics, OpenAPI and the JSON error shape."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from server.app import create_app
from server.db.migrate import upgrade_database
from server.http import app_keys
from server.http.errors import json_errors
from tests.helpers import make_settings


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = make_settings(tmp_path)
    await upgrade_database(settings.resolved_database_url)
    async with TestClient(TestServer(create_app(settings))) as test_client:
        yield test_client


async def test_healthz_ok_with_embedded_defaults(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_healthz_ok_with_redis_and_database_servers(tmp_path: Path, redis_url: str, database_url: str) -> None:
    settings = make_settings(tmp_path, REDIS_URL=redis_url, DATABASE_URL=database_url)
    await upgrade_database(settings.resolved_database_url)
    async with TestClient(TestServer(create_app(settings))) as test_client:
        response = await test_client.get("/healthz")
        assert response.status == 200, await response.text()


async def test_healthz_names_a_stopped_redis(client: TestClient) -> None:
    embedded = client.app[app_keys.EMBEDDED_REDIS]
    assert embedded is not None
    embedded.kill_for_test()
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["redis"] == "unavailable"
    assert body["database"] == "ok"
    assert body["error"]["code"] == "unavailable"
    assert "redis" in body["error"]["message"]


async def test_unknown_path_gives_json_error(client: TestClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_wrong_method_gives_json_error(client: TestClient) -> None:
    response = await client.post("/healthz")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/healthz", "/missing", "/static/common/no-such-module.js"):
        response = await client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Server"] == "jinglin"  # no Python or aiohttp version to a prober
    assert (await client.get("/api/v1/auth/me")).headers["Cache-Control"] == "no-store"


async def test_metrics_count_requests_by_route(client: TestClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert 'jinglin_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text


async def test_openapi_describes_every_registered_route(client: TestClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    registered = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if route.method in ("HEAD", "*") or path is None or path.startswith("/static"):
            continue
        registered.add((route.method, path))
    assert registered <= documented, registered - documented
    assert documented <= registered, documented - registered


async def test_an_unhandled_error_logs_the_route_template_only(caplog: pytest.LogCaptureFixture) -> None:
    async def failing(request: web.Request) -> web.Response:
        raise ValueError(f"bad id {request.match_info['capture_id']}")

    app = web.Application(middlewares=[json_errors])
    app.router.add_post("/api/v1/captures/{capture_id}/image", failing)
    id_number = "11010519491231002X"
    async with TestClient(TestServer(app)) as test_client:
        response = await test_client.post(f"/api/v1/captures/{id_number}/image?q={id_number}")
        assert response.status == 500
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "/api/v1/captures/{capture_id}/image" in logged
    assert id_number not in logged
    assert not [r for r in caplog.records if r.exc_info]


async def test_metrics_are_readable_from_the_configured_networks_or_with_the_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, JINGLIN_METRICS_NETWORKS="10.0.0.0/8", JINGLIN_METRICS_TOKEN="m" * 32)
    await upgrade_database(settings.resolved_database_url)
    async with TestClient(TestServer(create_app(settings))) as test_client:
        # The test client connects from 127.0.0.1, outside 10.0.0.0/8.
        assert (await test_client.get("/metrics")).status == 403
        assert (await test_client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 403
        response = await test_client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        assert response.status == 200


async def test_metrics_default_to_this_host_only(client: TestClient) -> None:
    assert client.app[app_keys.SETTINGS].metrics_networks == ["127.0.0.0/8", "::1/128"]
    assert (await client.get("/metrics")).status == 200


async def test_a_dependency_outage_is_a_503_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def database_down(request: web.Request) -> web.Response:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    app = web.Application(middlewares=[json_errors])
    app.router.add_get("/api/v1/ws", database_down)
    async with TestClient(TestServer(app)) as test_client:
        response = await test_client.get("/api/v1/ws")
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "unavailable"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_every_operation_documents_the_outage_status(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "503" in operation["responses"], f"{method.upper()} {path}"


async def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    response = await client.head("/healthz")
    assert response.status == 200
    assert await response.read() == b""
