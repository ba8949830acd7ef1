"""docs/security.md's access table is the code's, and every role gets exactly what it says."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from server.access_table import ROLES, http_rows, markdown, message_rows
from server.http import app_keys
from tests.district import add_staff
from tests.protocol_client import PASSWORD, Client, Env
from tests.test_signaling import env as env

ROOT = Path(__file__).resolve().parent.parent
DENIED = {401, 403}


def test_security_doc_holds_the_generated_table() -> None:
    document = (ROOT / "docs" / "security.md").read_text()
    assert markdown() in document, "regenerate with: python -m server.access_table"


async def _signed_in(env: Env, role: str) -> Client:
    client = Client(env)
    if role == "kiosk":
        await client.kiosk_login(env.kiosk_tokens[2])
    elif role != "anonymous":
        await client.staff_login({"caseworker": "cw1", "supervisor": "boss", "admin": "root"}[role])
    return client


@pytest.fixture
async def with_admin(env: Env) -> Env:
    async with env.server.app[app_keys.DB_SESSIONS]() as session, session.begin():
        await add_staff(session, admins=["root"], password=PASSWORD)
    return env


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


async def test_every_endpoint_for_every_role(with_admin: Env) -> None:
    env = with_admin
    failures = []
    for role_index, role in enumerate(ROLES):
        client = await _signed_in(env, role)
        try:
            for method, path, allowed in http_rows():
                if path == "/api/v1/auth/logout":
                    continue  # would end this client's session for the rest of the walk
                kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
                response = await client.http.request(method, env.url(_fill(path)), **kwargs)
                denied = response.status in DENIED
                if denied == allowed[role_index]:
                    failures.append(f"{role} {method} {path} -> {response.status}")
        finally:
            await client.close()
    assert not failures, failures


async def test_every_message_for_every_role(with_admin: Env) -> None:
    env = with_admin
    failures = []
    for role_index, role in enumerate(ROLES):
        if role == "anonymous":
            continue  # cannot open the WebSocket at all (see test_signaling)
        client = await _signed_in(env, role)
        try:
            await client.connect()
            for n, (type_, allowed) in enumerate(message_rows()):
                reply = await client.request({"type": type_}, ref=n)
                forbidden = reply.get("code") == "forbidden"
                if forbidden == allowed[role_index]:
                    failures.append(f"{role} {type_} -> {reply}")
        finally:
            await client.close()
    assert not failures, failures
    _ = aiohttp
