"""Typed settings read from the environment, with clear errors for bad values."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from session_queue import DEFAULT_PREFIX

SECRET_KEY_FILE = "secret_key"
# A generated key is 64 characters (48 random bytes); a shorter one than this would make the
# encryption of captures, recordings and signatures guessable (an empty file, a placeholder).
MIN_SECRET_KEY_CHARS = 32
EMBEDDED_REDIS = "embedded"
SECRET_VARIABLES = {"JINGLIN_SECRET_KEY", "JINGLIN_TURN_SECRET", "JINGLIN_METRICS_TOKEN"}

# Lists read from the environment as "a,b,c" (JSON arrays also accepted).
CommaList = Annotated[list[str], NoDecode]


class SettingsError(ValueError):
    """Raised with a readable message naming every bad environment variable."""


class Settings(BaseSettings):
    """Everything the server needs to know about its environment.

    Every field maps to an environment variable (see README "Configuration"). Defaults give a
    single-host server: a SQLite file and an embedded Redis inside `JINGLIN_DATA_DIR`.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path("./data"), validation_alias="JINGLIN_DATA_DIR")
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    redis_url: str = Field(default=EMBEDDED_REDIS, validation_alias="REDIS_URL")
    # Every Redis key and channel of the server and of its queue starts with this.
    redis_prefix: str = Field(default=DEFAULT_PREFIX, pattern=r"^[A-Za-z0-9_.:-]{1,32}$",
                              validation_alias="JINGLIN_REDIS_PREFIX")
    secret_key: str = Field(default="", validation_alias="JINGLIN_SECRET_KEY")
    # A file holding the secret, kept outside the data dir so that a copy of the data dir does not
    # decrypt its captures; created with a fresh key when missing.
    secret_key_file: Path | None = Field(default=None, validation_alias="JINGLIN_SECRET_KEY_FILE")
    host: str = Field(default="127.0.0.1", validation_alias="JINGLIN_HOST")
    port: int = Field(default=8080, ge=1, le=65535, validation_alias="JINGLIN_PORT")
    log_json: bool = Field(default=False, validation_alias="JINGLIN_LOG_JSON")
    uvloop: bool = Field(default=True, validation_alias="JINGLIN_UVLOOP")
    log_level: str = Field(default="INFO", validation_alias="JINGLIN_LOG_LEVEL")
    allowed_origins: CommaList = Field(default_factory=list, validation_alias="JINGLIN_ALLOWED_ORIGINS")
    # Reverse proxies whose X-Forwarded-For/-Proto/-Host are believed (addresses or CIDR networks).
    trusted_proxies: CommaList = Field(default_factory=list, validation_alias="JINGLIN_TRUSTED_PROXIES")
    # The https origin people open; when set, requests must carry its host and its scheme applies.
    public_url: str = Field(default="", validation_alias="JINGLIN_PUBLIC_URL")
    # Kiosks send media through TURN only (iceTransportPolicy "relay"): sites that must relay, tests.
    kiosk_force_relay: bool = Field(default=False, validation_alias="JINGLIN_KIOSK_FORCE_RELAY")
    stun_urls: CommaList = Field(default_factory=list, validation_alias="JINGLIN_STUN_URLS")
    turn_urls: CommaList = Field(default_factory=list, validation_alias="JINGLIN_TURN_URLS")
    turn_secret: str = Field(default="", validation_alias="JINGLIN_TURN_SECRET")
    turn_ttl_s: int = Field(default=3 * 3600, ge=60, validation_alias="JINGLIN_TURN_TTL_S")
    offer_timeout_s: float = Field(default=20.0, gt=0, validation_alias="JINGLIN_OFFER_TIMEOUT_S")
    kiosk_grace_s: float = Field(default=120.0, gt=0, validation_alias="JINGLIN_KIOSK_GRACE_S")
    wrap_up_s: float = Field(default=30.0, ge=0, validation_alias="JINGLIN_WRAP_UP_S")
    call_reconnect_s: float = Field(default=30.0, gt=0, validation_alias="JINGLIN_CALL_RECONNECT_S")
    # WebSocket admission per process (docs/protocol.md "Admission"): hellos taken per second, the
    # burst saved up, and how many may be in setup (hello → welcome) at once.
    ws_admit_rate: float = Field(default=300.0, gt=0, validation_alias="JINGLIN_WS_ADMIT_RATE")
    ws_admit_burst: float = Field(default=50.0, ge=1, validation_alias="JINGLIN_WS_ADMIT_BURST")
    ws_admit_pending: int = Field(default=100, ge=1, validation_alias="JINGLIN_WS_ADMIT_PENDING")
    # The kernel holds this many connections not yet accepted (capped by net.core.somaxconn): a
    # reconnect storm of thousands of sockets waits there to be refused or admitted, rather than
    # have its SYNs dropped and retried by TCP after 1, 3, 7 and 15 s.
    listen_backlog: int = Field(default=4096, ge=16, le=65535, validation_alias="JINGLIN_LISTEN_BACKLOG")
    # A new connection waits in that queue (taken at the admission rate, server/signaling/listener.py)
    # at most this long: past it, it is taken and told when to come back (`try_again`).
    accept_max_wait_s: float = Field(default=5.0, gt=0, le=60, validation_alias="JINGLIN_ACCEPT_MAX_WAIT_S")
    widen_after_s: float = Field(default=300.0, ge=0, validation_alias="JINGLIN_WIDEN_AFTER_S")
    reconcile_settle_s: float = Field(default=20.0, ge=0, validation_alias="JINGLIN_RECONCILE_SETTLE_S")
    sl_threshold_s: float = Field(default=60.0, gt=0, validation_alias="JINGLIN_SL_THRESHOLD_S")
    capture_retention_days: int = Field(default=30, ge=1, validation_alias="JINGLIN_CAPTURE_RETENTION_DAYS")
    # Handled calls are recorded in the console (全程录音录像); residents are told so before the call.
    recording_enabled: bool = Field(default=True, validation_alias="JINGLIN_RECORDING")
    recording_retention_days: int = Field(default=180, ge=1, validation_alias="JINGLIN_RECORDING_RETENTION_DAYS")
    # 受理编号 issued by the server at 受理: centre id, district date (YYYYMMDD), per-centre daily sequence.
    case_number_format: str = Field(default="JA-{centre:04d}-{date}-{seq:04d}", min_length=5, max_length=80,
                                    validation_alias="JINGLIN_CASE_NUMBER_FORMAT")
    # Allow the caseworker to type a case number issued by another system instead.
    case_number_typed: bool = Field(default=False, validation_alias="JINGLIN_CASE_NUMBER_TYPED")
    # One uploaded chunk (a few seconds of WebM at ≤ 40 MB/hour is ~60 KB); larger bodies get 413.
    recording_max_chunk_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024,
                                           validation_alias="JINGLIN_RECORDING_MAX_CHUNK_BYTES")
    # Supervisors always may replay; the session's own caseworker only when this is on.
    recording_caseworker_replay: bool = Field(default=False, validation_alias="JINGLIN_RECORDING_CASEWORKER_REPLAY")
    # Below this much free space on the data volume /healthz warns and recording uploads get 507.
    min_free_disk_mb: int = Field(default=1024, ge=0, validation_alias="JINGLIN_MIN_FREE_DISK_MB")
    # Who may read /metrics: clients in these networks, or any client sending this bearer token.
    metrics_networks: CommaList = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"],
                                        validation_alias="JINGLIN_METRICS_NETWORKS")
    metrics_token: str = Field(default="", validation_alias="JINGLIN_METRICS_TOKEN")
    # Past this estimated wait the kiosk offers 预约/回电 before queueing (docs/hours.md).
    wait_limit_s: float = Field(default=1800.0, gt=0, validation_alias="JINGLIN_WAIT_LIMIT_S")
    # A waiting ticket whose skill has had nobody signed in this long is ended (reason no_staff).
    no_staff_grace_s: float = Field(default=600.0, gt=0, validation_alias="JINGLIN_NO_STAFF_GRACE_S")
    # A fixed start for the service clock (ISO time with offset; it runs on from there): tests, demos.
    clock_start: datetime | None = Field(default=None, validation_alias="JINGLIN_CLOCK_START")

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-02-16T10:00:00+08:00")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("case_number_format")
    @classmethod
    def _case_number_format(cls, value: str) -> str:
        # Fail at start-up, not at the first 受理: every placeholder must be known and the result fit 40 chars.
        try:
            sample = value.format(centre=9999, date="20261231", seq=9999)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"JINGLIN_CASE_NUMBER_FORMAT: use only {{centre}}, {{date}}, {{seq}} ({exc})") from exc
        if "{seq" not in value or len(sample) > 40:
            raise ValueError("JINGLIN_CASE_NUMBER_FORMAT must contain {seq} and give at most 40 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _supported_redis(cls, value: str) -> str:
        if value != EMBEDDED_REDIS and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be redis://, rediss://, unix:// or 'embedded'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        if not value:
            return value
        parsed = urlsplit(value)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.path not in {"", "/"}:
            raise ValueError("must be an origin such as https://jinglin.example.gov.cn")
        return f"{parsed.scheme}://{parsed.netloc}"

    @field_validator("metrics_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(item, strict=False)) for item in value]
        except ValueError as exc:
            raise ValueError(f"must be IP networks such as 10.0.0.0/8 ({exc})") from None

    @field_validator("allowed_origins", "stun_urls", "turn_urls", "metrics_networks", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # Plain comma-separated lists read better in an env file than JSON arrays.
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                return value
            return [item.strip() for item in stripped.split(",") if item.strip()]
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL: the given one with an async driver, or the SQLite file."""
        url = self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"
        return to_async_url(url)

    @property
    def sqlite_path(self) -> Path:
        """The embedded default's SQLite file in the data dir (used when DATABASE_URL is unset)."""
        return self.data_dir / "jinglin.sqlite3"

    @property
    def uses_embedded_redis(self) -> bool:
        """True when the app must start its own Redis server."""
        return self.redis_url == EMBEDDED_REDIS

    def ensure_data_dir(self) -> Path:
        """Create the data dir and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def resolved_secret_key(self) -> str:
        """The secret: JINGLIN_SECRET_KEY, else JINGLIN_SECRET_KEY_FILE, else a key generated once into the data dir.

        The last is the single-host default; docs/security.md recommends one of the first two.
        ValueError when the key set is shorter than MIN_SECRET_KEY_CHARS (blanks around it aside)."""
        if self.secret_key:
            return checked_secret_key(self.secret_key.strip(), "JINGLIN_SECRET_KEY")
        if self.secret_key_file is not None:
            if self.secret_key_file.resolve().is_relative_to(self.data_dir.resolve()):
                raise ValueError("JINGLIN_SECRET_KEY_FILE must be outside JINGLIN_DATA_DIR")
            path = self.secret_key_file
        else:
            path = self.ensure_data_dir() / SECRET_KEY_FILE
        if path.exists():
            return checked_secret_key(path.read_text().strip(), str(path))
        key = secrets.token_urlsafe(48)
        write_key_file(path, key)
        return key


def checked_secret_key(key: str, source: str) -> str:
    """key, or ValueError naming source when it is too short to be a secret."""
    if len(key) < MIN_SECRET_KEY_CHARS:
        raise ValueError(f"the secret key in {source} has {len(key)} characters, at least "
                         f"{MIN_SECRET_KEY_CHARS} are needed (generate one: python3 -c "
                         "'import secrets; print(secrets.token_urlsafe(48))')")
    return key


def write_key_file(path: Path, key: str) -> None:
    """Create a key file readable by its owner only (its directory too, when new)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.write_text(key)


def to_async_url(url: str) -> str:
    """Map sync database URLs to their asyncio drivers (aiosqlite, asyncpg)."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url[len("postgres://") :]
    return url


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            shown = "(hidden)" if name in SECRET_VARIABLES else repr(error.get("input"))
            problems.append(f"{name}: {error['msg']} (got {shown})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None
