"""Staff sign-in, kiosk token exchange, logout, roles and the cross-site guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from server.app import create_app
from server.db.migrate import upgrade_database
from server.http import app_keys
from tests.district import add_staff, add_street
from tests.helpers import make_settings

PASSWORD = "correct horse battery"


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[tuple[TestClient, str]]:
    settings = make_settings(tmp_path)
    await upgrade_database(settings.resolved_database_url)
    app = create_app(settings)
    async with TestClient(TestServer(app)) as test_client:
        async with app[app_keys.DB_SESSIONS]() as session, session.begin():
            street = await add_street(session, kiosk_labels=["测试终端"])
            await add_staff(session, street.centre_id, caseworkers={"cw1": ["police-household"]},
                            supervisors=["boss"], password=PASSWORD)
        yield test_client, street.kiosk_tokens[0]


@pytest.fixture
def client(seeded: tuple[TestClient, str]) -> TestClient:
    return seeded[0]


async def test_login_sets_httponly_strict_cookie(client: TestClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD})
    assert response.status == 200
    body = await response.json()
    assert body["user"]["role"] == "caseworker"
    assert body["user"]["skills"] == ["police-household"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    me = await client.get("/api/v1/auth/me")
    assert (await me.json())["username"] == "cw1"


@pytest.mark.parametrize(("username", "password"), [("cw1", "wrong password"), ("nobody", PASSWORD)])
async def test_bad_credentials_same_answer(client: TestClient, username: str, password: str) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status == 401
    assert await response.json() == {"error": {"code": "bad_credentials", "message": "用户名或密码不正确"}}


async def test_logout_ends_the_session(client: TestClient) -> None:
    await client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/"))["jl_session"].value
    assert (await client.post("/api/v1/auth/logout")).status == 200
    # The old token no longer works even if presented again.
    response = await client.get("/api/v1/auth/me", cookies={"jl_session": stolen})
    assert response.status == 401


async def test_a_password_change_ends_the_other_sessions(client: TestClient) -> None:
    """A cookie taken while the old password held (a stolen one, or another browser's) stops
    working once the account's owner chooses a new password."""
    await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD})
    other = client.session.cookie_jar.filter_cookies(client.make_url("/"))["jl_session"].value
    assert (await client.get("/api/v1/auth/me", cookies={"jl_session": other})).status == 200
    short = await client.post("/api/v1/auth/password", json={"username": "cw1", "password": PASSWORD,
                                                             "new_password": "short"})
    assert short.status == 422 and "至少 10 个字符" in (await short.json())["error"]["message"]
    changed = await client.post("/api/v1/auth/password", json={"username": "cw1", "password": PASSWORD,
                                                               "new_password": "a brand new passphrase"})
    assert changed.status == 200
    assert (await client.get("/api/v1/auth/me", cookies={"jl_session": other})).status == 401
    again = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": "a brand new passphrase"})
    assert again.status == 200
    assert again.headers["Cache-Control"] == "no-store"  # every /api/ answer


async def test_kiosk_token_exchange(seeded: tuple[TestClient, str]) -> None:
    client, token = seeded
    response = await client.post("/api/v1/kiosk/session", json={"token": token})
    assert response.status == 200
    assert (await response.json())["kiosk"]["site"] == "测试居民区（演示）"
    me = await (await client.get("/api/v1/auth/me")).json()
    assert me["role"] == "kiosk"


async def test_bad_kiosk_token(client: TestClient) -> None:
    response = await client.post("/api/v1/kiosk/session", json={"token": "x" * 43})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "bad_token"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "malformed_json"),
        (b'{"username": "cw1"}', "application/json", 422, "invalid"),
        (b"username=cw1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"username": "' + b"a" * 70000 + b'"}', "application/json", 413, "payload_too_large"),
    ],
)
async def test_bad_bodies_get_clear_errors(client: TestClient, body: bytes, content_type: str, status: int,
                                           code: str) -> None:
    response = await client.post("/api/v1/auth/login", data=body, headers={"Content-Type": content_type})
    assert response.status == status
    assert (await response.json())["error"]["code"] == code


DEEP = b"[" * 5000 + b"]" * 5000
HUGE_NUMBER = b'{"username": ' + b"9" * 5000 + b"}"


@pytest.mark.parametrize("body", [DEEP, HUGE_NUMBER, b'{"token": NaN}', b'{"token": 1e999}'],
                         ids=["deep", "huge_number", "nan", "infinite"])
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/kiosk/session", "/api/v1/followups/1"])
async def test_hostile_json_is_a_clean_400(client: TestClient, caplog: pytest.LogCaptureFixture, path: str,
                                           body: bytes) -> None:
    if path.startswith("/api/v1/followups"):
        await client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_json"
    assert not [r for r in caplog.records if r.exc_info]


async def test_foreign_origin_is_refused(client: TestClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD},
                                 headers={"Origin": "http://evil.example"})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "bad_origin"


async def test_disabled_account_loses_its_session(client: TestClient) -> None:
    from server.db.models import User

    await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD})
    async with client.app[app_keys.DB_SESSIONS]() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "cw1"))
        assert user is not None
        user.enabled = False
    assert (await client.get("/api/v1/auth/me")).status == 401


async def test_wrong_passwords_slow_an_account_down_but_never_lock_it(client: TestClient) -> None:
    statuses = []
    for _ in range(5):
        response = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": "wrong guess"})
        statuses.append(response.status)
    # Three free failures, then a growing delay (1 s after the 4th, 2 s after the 5th, ...).
    assert statuses[:4] == [401] * 4
    assert statuses[4] == 429
    response = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD})
    assert response.status == 429
    assert (await response.json())["error"]["code"] == "too_many_attempts"
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 2
    # Another account from the same address is not affected.
    response = await client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    assert response.status == 200
    # The owner who waits the few seconds gets in: a stranger's guesses delay, they do not lock.
    await asyncio.sleep(wait + 0.1)
    response = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD})
    assert response.status == 200


async def test_simultaneous_sign_ins_reserve_their_attempt_first(client: TestClient) -> None:
    guesses = [{"username": "cw1", "password": f"wrong {n}"} for n in range(24)] + [
        {"username": "cw1", "password": PASSWORD}]
    responses = await asyncio.gather(*(client.post("/api/v1/auth/login", json=g) for g in guesses))
    checked = [r.status for r in responses if r.status != 429]
    # One attempt at a time per account: the rest are refused before any password is checked.
    assert len(checked) <= 4, checked
    assert all(r.status in (200, 401, 429) for r in responses)


async def test_kiosk_token_guessing_throttled(client: TestClient) -> None:
    responses = await asyncio.gather(*(client.post("/api/v1/kiosk/session", json={"token": f"{n:043d}"})
                                       for n in range(60)))
    statuses = [r.status for r in responses]
    assert statuses.count(401) <= 30
    assert statuses.count(429) >= 30


async def test_per_address_limits_are_separate_for_kiosk_tokens_and_staff(seeded: tuple[TestClient, str]) -> None:
    client, token = seeded
    for n in range(30):
        await client.post("/api/v1/kiosk/session", json={"token": f"{n:043d}"})
    assert (await client.post("/api/v1/kiosk/session", json={"token": token})).status == 429
    # Staff sign-in from the same address has its own counter.
    response = await client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    assert response.status == 200
    for n in range(30):
        await client.post("/api/v1/auth/login", json={"username": f"nobody{n}", "password": "guess"})
    response = await client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    assert response.status == 429


async def test_a_kiosk_token_keeps_at_most_two_live_sessions(seeded: tuple[TestClient, str]) -> None:
    client, token = seeded
    cookies = []
    for _ in range(4):
        response = await client.post("/api/v1/kiosk/session", json={"token": token})
        assert response.status == 200
        cookies.append(response.cookies["jl_session"].value)
    live = [(await client.get("/api/v1/auth/me", cookies={"jl_session": c})).status for c in cookies]
    # Each exchange ends the oldest sessions beyond the newest two: a copied token's sessions
    # do not pile up as standing credentials.
    assert live == [401, 401, 200, 200]


async def test_sign_out_everywhere_ends_every_session_of_the_account(client: TestClient) -> None:
    cookies = []
    for _ in range(3):
        response = await client.post("/api/v1/auth/login", json={"username": "cw1", "password": PASSWORD})
        cookies.append(response.cookies["jl_session"].value)
    other = await client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    boss = other.cookies["jl_session"].value
    response = await client.post("/api/v1/auth/logout?everywhere=true", cookies={"jl_session": cookies[0]})
    assert response.status == 200
    for cookie in cookies:
        assert (await client.get("/api/v1/auth/me", cookies={"jl_session": cookie})).status == 401
    assert (await client.get("/api/v1/auth/me", cookies={"jl_session": boss})).status == 200
