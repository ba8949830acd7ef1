"""Behind a TLS proxy: forwarded client address, scheme and host from trusted proxies only; the public URL."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.app import create_app
from server.auth.throttle import MAX_FAILURES_PER_ADDRESS
from server.db.migrate import upgrade_database
from server.district.accounts import upsert_user
from server.http import app_keys
from server.http.forwarded import client_address
from server.settings import SettingsError
from tests.helpers import make_settings

PASSWORD = "correct horse battery"
PUBLIC = "https://jinglin.example.gov.cn"
# What nginx in deploy/nginx/jinglin.conf sends for a browser at PUBLIC.
PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "jinglin.example.gov.cn",
           "X-Forwarded-For": "203.0.113.7", "Origin": PUBLIC}
LOGIN = {"username": "cw1", "password": PASSWORD}


async def _client(tmp_path: Path, **overrides: object) -> TestClient:
    settings = make_settings(tmp_path, **overrides)
    await upgrade_database(settings.resolved_database_url)
    app = create_app(settings)
    client = TestClient(TestServer(app))
    await client.start_server()
    async with app[app_keys.DB_SESSIONS]() as session, session.begin():
        await upsert_user(session, username="cw1", password=PASSWORD, role="supervisor")
    return client


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[TestClient]:
    """The server behind a proxy on loopback (the test client's address), no allowed origins set."""
    client = await _client(tmp_path, JINGLIN_TRUSTED_PROXIES="127.0.0.1,::1")
    yield client
    await client.close()


async def test_sign_in_from_the_public_https_origin_gets_a_secure_cookie(proxied: TestClient) -> None:
    response = await proxied.post("/api/v1/auth/login", json=LOGIN, headers=PROXIED)
    assert response.status == 200, await response.text()
    assert "Secure" in response.headers["Set-Cookie"]


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    client = await _client(tmp_path, JINGLIN_TRUSTED_PROXIES="10.0.0.0/8")
    try:
        response = await client.post("/api/v1/auth/login", json=LOGIN, headers=PROXIED)
        # The client is not the proxy: its claim to be https://jinglin.example.gov.cn is not believed.
        assert response.status == 403
    finally:
        await client.close()


async def test_the_address_throttle_counts_the_forwarded_client(proxied: TestClient) -> None:
    for attempt in range(MAX_FAILURES_PER_ADDRESS):
        bad = {"username": f"nobody{attempt}", "password": "wrong guess"}
        response = await proxied.post("/api/v1/auth/login", json=bad, headers=PROXIED)
        assert response.status == 401
    assert (await proxied.post("/api/v1/auth/login", json=LOGIN, headers=PROXIED)).status == 429
    # Another resident behind the same proxy is a different address, not the same counter.
    other = {**PROXIED, "X-Forwarded-For": "198.51.100.9"}
    assert (await proxied.post("/api/v1/auth/login", json=LOGIN, headers=other)).status == 200


def test_client_address_skips_trusted_hops_and_ignores_forged_ones() -> None:
    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    # A client cannot choose its address by sending X-Forwarded-For itself: the proxy appends.
    assert client_address("10.0.0.2", "1.1.1.1, 203.0.113.7, 10.0.0.5", proxies) == "203.0.113.7"
    assert client_address("10.0.0.2", "", proxies) == "10.0.0.2"


async def test_public_url_makes_sign_in_work_and_refuses_other_hosts(tmp_path: Path) -> None:
    client = await _client(tmp_path, JINGLIN_PUBLIC_URL=PUBLIC)
    try:
        host = {"Host": "jinglin.example.gov.cn", "Origin": PUBLIC}
        response = await client.post("/api/v1/auth/login", json=LOGIN, headers=host)
        assert response.status == 200, await response.text()
        assert "Secure" in response.headers["Set-Cookie"]
        # A forged Host with a matching Origin used to pass the cross-site check.
        evil = {"Host": "evil.example", "Origin": "http://evil.example"}
        response = await client.post("/api/v1/auth/login", json=LOGIN, headers=evil)
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "bad_host"
        # Probes reach each process by its own address.
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()


@pytest.mark.parametrize(("name", "value"), [("JINGLIN_TRUSTED_PROXIES", "nginx.internal"),
                                             ("JINGLIN_PUBLIC_URL", "jinglin.example.gov.cn/app")])
def test_bad_proxy_settings_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        make_settings(tmp_path, **{name: value})
