"""Demo seeding: the district's places and staff, idempotent, with credentials that work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.auth.passwords import verify_password
from server.auth.tokens import token_hash
from server.db.engine import make_engine, make_session_factory
from server.db.models import Centre, Kiosk, Site, Street, User
from server.district.accounts import upsert_user
from server.district.demo import DemoConflict, seed_demo
from tests.helpers import make_settings, prepare_database

ROOT = Path(__file__).resolve().parent.parent
SECRET = "demo-test-secret-" + "y" * 30


async def _seed(database_url: str, data_dir: Path) -> dict[str, object]:
    settings = make_settings(data_dir, DATABASE_URL=database_url)
    await prepare_database(settings)
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return (await seed_demo(session, SECRET, "http://127.0.0.1:8080")).as_json()
    finally:
        await engine.dispose()


async def _count(database_url: str, model: type) -> int:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


async def test_seeding_twice_gives_the_same_data(database_url: str, tmp_path: Path) -> None:
    first = await _seed(database_url, tmp_path)
    counts = {m.__name__: await _count(database_url, m) for m in (Street, Centre, Site, Kiosk, User)}
    second = await _seed(database_url, tmp_path)
    assert first == second
    assert counts == {m.__name__: await _count(database_url, m) for m in (Street, Centre, Site, Kiosk, User)}
    assert counts["Street"] == 14
    assert counts["Centre"] == 14
    assert counts["Site"] == 249
    assert counts["Kiosk"] == 249


async def test_every_centre_covers_every_skill_with_few_per_person(database_url: str, tmp_path: Path) -> None:
    data = await _seed(database_url, tmp_path)
    caseworkers = data["caseworkers"]
    assert isinstance(caseworkers, list)
    by_centre: dict[str, list[dict[str, object]]] = defaultdict(list)
    for person in caseworkers:
        by_centre[str(person["centre"])].append(person)
    all_skills = {skill for person in caseworkers for skill in person["skills"]}
    assert len(by_centre) == 14
    for people in by_centre.values():
        assert len(people) >= 3
        assert {skill for person in people for skill in person["skills"]} == all_skills  # type: ignore[attr-defined]
        assert all(1 <= len(person["skills"]) <= 6 for person in people)  # type: ignore[arg-type]
    assert len(data["supervisors"]) == 2  # type: ignore[arg-type]


async def test_printed_credentials_work(database_url: str, tmp_path: Path) -> None:
    data = await _seed(database_url, tmp_path)
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            for person in [data["caseworkers"][0], data["supervisors"][1], data["admin"]]:  # type: ignore[index]
                user = await session.scalar(select(User).where(User.username == person["username"]))
                assert user is not None
                assert verify_password(user.password_hash, person["password"])
            kiosk_info = data["kiosks"][100]  # type: ignore[index]
            kiosk = await session.get(Kiosk, kiosk_info["id"])
            assert kiosk is not None
            assert kiosk.token_hash == token_hash(kiosk_info["token"])
            assert "演示" in kiosk_info["site"]
    finally:
        await engine.dispose()


def _cli_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a `jinglin` run on its own data dir (SQLite, generated key)."""
    env = {**os.environ, "JINGLIN_DATA_DIR": str(data_dir), **settings}
    env.pop("DATABASE_URL", None)
    env.pop("JINGLIN_SECRET_KEY", None)
    return env


def test_cli_demo_json_shape_and_repeatable(tmp_path: Path) -> None:
    env = _cli_env(tmp_path, JINGLIN_PORT="8123")
    runs = [
        subprocess.run([sys.executable, "-m", "server", "demo", "--json"], cwd=ROOT, env=env,
                       capture_output=True, text=True, check=True, timeout=240)
        for _ in range(2)
    ]
    first, second = (json.loads(run.stdout) for run in runs)
    assert first == second
    assert set(first) == {"kiosks", "caseworkers", "supervisors", "admin"}
    assert len(first["kiosks"]) == 249
    assert set(first["kiosks"][0]) == {"id", "site", "street", "token", "url"}
    assert first["kiosks"][0]["url"] == f"http://127.0.0.1:8123/kiosk?token={first['kiosks'][0]['token']}"
    assert set(first["caseworkers"][0]) == {"username", "password", "centre", "skills"}
    assert set(first["supervisors"][0]) == {"username", "password"}
    assert set(first["admin"]) == {"username", "password"}
    # Secrets never reach the logs printed beside the JSON.
    assert first["admin"]["password"] not in runs[0].stderr


async def test_demo_never_takes_over_a_real_account_of_the_same_name(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    await prepare_database(settings)
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            # README's production set-up: the first administrator is created as `admin`.
            await upsert_user(session, username="admin", password="a real password 123", role="admin",
                              display_name="区管理员")
        with pytest.raises(DemoConflict):
            async with make_session_factory(engine)() as session, session.begin():
                await seed_demo(session, SECRET, "http://127.0.0.1:8080")
        async with make_session_factory(engine)() as session:
            admin = await session.scalar(select(User).where(User.username == "admin"))
            assert admin is not None and not admin.is_demo and admin.display_name == "区管理员"
            assert verify_password(admin.password_hash, "a real password 123")
            assert await session.scalar(select(func.count()).select_from(Site)) == 0  # nothing half-seeded
    finally:
        await engine.dispose()


def test_cli_demo_refuses_or_skips_a_database_with_real_accounts(tmp_path: Path) -> None:
    env = _cli_env(tmp_path, JINGLIN_PASSWORD_PROFILE="fast")

    def jinglin(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, check=False, timeout=240)

    assert jinglin("migrate").returncode == 0
    assert jinglin("admin", "create", "admin", "--password-stdin", stdin="a real password 123\n").returncode == 0
    skipped = jinglin("demo", "--if-empty")
    assert skipped.returncode == 0 and "not seeded" in skipped.stdout
    skipped_json = jinglin("demo", "--if-empty", "--json")
    assert skipped_json.returncode == 0 and json.loads(skipped_json.stdout)["seeded"] is False
    refused = jinglin("demo", "--json")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("error: ") and "'admin'" in refused.stderr
    assert "Traceback" not in refused.stderr
