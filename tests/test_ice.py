"""ICE servers handed to clients, with coturn's TURN REST credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from server.signaling.ice import ice_servers, ice_transport_policy, turn_credentials
from tests.helpers import make_settings


def test_turn_rest_credentials_match_coturn_scheme() -> None:
    username, credential = turn_credentials("s3cret", "kiosk:7", ttl_s=3600, now=1_800_000_000)
    assert username == "1800003600:kiosk:7"
    expected = base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()).decode()
    assert credential == expected


def test_no_ice_servers_configured(tmp_path: Path) -> None:
    assert ice_servers(make_settings(tmp_path), "kiosk:1") == []


def test_stun_and_turn_from_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, JINGLIN_STUN_URLS="stun:turn.example:3478",
                             JINGLIN_TURN_URLS="turn:turn.example:3478?transport=udp,turns:turn.example:5349",
                             JINGLIN_TURN_SECRET="shared", JINGLIN_TURN_TTL_S="600")
    stun, turn = ice_servers(settings, "caseworker:3")
    assert stun.urls == ["stun:turn.example:3478"]
    assert stun.username is None
    assert turn.urls == ["turn:turn.example:3478?transport=udp", "turns:turn.example:5349"]
    assert turn.username is not None
    assert turn.username.endswith(":caseworker:3")
    expiry = int(turn.username.split(":")[0])
    assert turn.credential == turn_credentials("shared", "caseworker:3", 600, now=expiry - 600)[1]


def test_turn_needs_a_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, JINGLIN_TURN_URLS="turn:turn.example:3478")
    assert ice_servers(settings, "kiosk:1") == []


def test_relay_is_forced_on_kiosks_only_when_set(tmp_path: Path) -> None:
    assert ice_transport_policy(make_settings(tmp_path), "kiosk") == "all"
    forced = make_settings(tmp_path, JINGLIN_KIOSK_FORCE_RELAY="true")
    assert ice_transport_policy(forced, "kiosk") == "relay"
    assert ice_transport_policy(forced, "caseworker") == "all"
