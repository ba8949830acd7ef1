"""Schemathesis against /api/v1/openapi.json: no 5xx, and every response matches the schema.

The server runs as a real process with demo data; requests are made as a signed-in supervisor
(who may read the most) and again signed out. Logout is left out (it would end the session the
walk uses). The WebSocket endpoint is walked too: a plain GET without an upgrade is its 400.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from server.simulate.local import LocalServer, launch

SKIPPED_PATHS = {"/api/v1/auth/logout"}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with tempfile.TemporaryDirectory(prefix="jl-schema-") as data_dir:
        running = launch(Path(data_dir))
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def api_schema(server: LocalServer) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    return schema.exclude(path=list(SKIPPED_PATHS))


@pytest.fixture(scope="module")
def supervisor(server: LocalServer) -> Iterator[requests.Session]:
    session = requests.Session()
    login = server.demo["supervisors"][0]
    response = session.post(f"{server.url}/api/v1/auth/login",
                            json={"username": login["username"], "password": login["password"]}, timeout=10)
    assert response.status_code == 200, (response.status_code, response.text, server.log_tail())
    yield session
    session.close()


def _walk(schema: schemathesis.BaseSchema, server: LocalServer, session: requests.Session | None,
          examples: int) -> list[str]:
    """Run generated cases for every operation; return the failures (operation: error)."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.url, session=session,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    return failures


def test_api_as_supervisor(api_schema: schemathesis.BaseSchema, supervisor: requests.Session,
                           server: LocalServer) -> None:
    failures = _walk(api_schema, server, supervisor, examples=12)
    assert not failures, "\n\n".join(failures)


def test_api_signed_out(api_schema: schemathesis.BaseSchema, server: LocalServer) -> None:
    failures = _walk(api_schema, server, None, examples=5)
    assert not failures, "\n\n".join(failures)
