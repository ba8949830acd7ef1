"""Settings: defaults, environment parsing and clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JINGLIN_DATA_DIR", "DATABASE_URL", "REDIS_URL", "JINGLIN_SECRET_KEY", "JINGLIN_PORT",
                 "JINGLIN_HOST", "JINGLIN_LOG_LEVEL", "JINGLIN_ALLOWED_ORIGINS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_give_sqlite_in_data_dir_and_embedded_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.uses_embedded_redis
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'jinglin.sqlite3'}"


def test_postgres_url_gets_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.resolved_database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    assert not settings.uses_embedded_redis


@pytest.mark.parametrize(
    ("name", "value", "mentioned"),
    [
        ("JINGLIN_PORT", "eighty", "JINGLIN_PORT"),
        ("JINGLIN_PORT", "70000", "JINGLIN_PORT"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REDIS_URL", "http://localhost", "REDIS_URL"),
        ("JINGLIN_LOG_LEVEL", "LOUD", "JINGLIN_LOG_LEVEL"),
        ("JINGLIN_OFFER_TIMEOUT_S", "-1", "JINGLIN_OFFER_TIMEOUT_S"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, mentioned: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert mentioned in str(info.value)


def test_every_bad_variable_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGLIN_PORT", "0")
    monkeypatch.setenv("REDIS_URL", "ftp://x")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "JINGLIN_PORT" in str(info.value)
    assert "REDIS_URL" in str(info.value)


def test_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGLIN_ALLOWED_ORIGINS", "http://a.example, http://b.example")
    assert load_settings().allowed_origins == ["http://a.example", "http://b.example"]


def test_secret_key_generated_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    first = load_settings().resolved_secret_key()
    second = load_settings().resolved_secret_key()
    assert first == second
    assert len(first) >= 43
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode & 0o077 == 0


def test_configured_secret_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGLIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINGLIN_SECRET_KEY", "k" * 40)
    assert load_settings().resolved_secret_key() == "k" * 40
    assert not (tmp_path / "secret_key").exists()
