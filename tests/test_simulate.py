"""The simulator's own parts, and `jinglin simulate` end to end against a server it starts itself."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from server.simulate import cli
from server.simulate.cast import CastError, pick_cast
from server.simulate.ledger import Ledger, SessionRecord, percentile, summary
from server.simulate.local import SHARED_STATE_SETTINGS, server_env
from server.simulate.peers import split_candidates

SDP = "\r\n".join([
    "v=0", "a=group:BUNDLE 0 1", "m=video 9 UDP/TLS/RTP/SAVPF 97", "a=mid:0",
    "a=candidate:abc 1 udp 2130706431 192.0.2.2 5000 typ host", "a=end-of-candidates",
    "m=audio 9 UDP/TLS/RTP/SAVPF 96", "a=mid:1", "a=candidate:abc 1 udp 2130706431 192.0.2.2 5002 typ host",
]) + "\r\n"


def test_split_candidates_moves_them_out_of_the_sdp() -> None:
    sdp, candidates = split_candidates(SDP)
    assert "a=candidate" not in sdp and "end-of-candidates" not in sdp and "a=mid:1" in sdp
    assert candidates == [
        {"candidate": "candidate:abc 1 udp 2130706431 192.0.2.2 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0},
        {"candidate": "candidate:abc 1 udp 2130706431 192.0.2.2 5002 typ host", "sdpMid": "1", "sdpMLineIndex": 1},
    ]


def test_percentiles_and_summary() -> None:
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 50) == 0.05 and percentile(values, 95) == 0.095
    assert summary(values) == {"p50": 50.0, "p95": 95.0, "max": 100.0}
    assert summary([]) == {"p50": None, "p95": None, "max": None}


def test_ledger_counts_double_assignment_and_lost_sessions() -> None:
    ledger = Ledger(records=[SessionRecord(index=0), SessionRecord(index=1, outcome="completed")])
    ledger.hold("t1", "cw-a")
    ledger.hold("t1", "cw-a")  # the same holder again (e.g. re-offered after a reject) is fine
    ledger.release("t1", "cw-a")
    ledger.hold("t1", "cw-b")
    assert not ledger.double_assigned
    ledger.hold("t1", "cw-c")
    report = ledger.report()
    assert report["double_assigned"] == 1 and report["lost"] == 1 and report["completed"] == 1
    assert report["errors"]


DEMO = {
    "kiosks": [{"site": f"{street}{i}", "street": street, "token": f"tok-{street}-{i}"}
               for street in ("A街道", "B街道") for i in range(3)],
    "caseworkers": [{"username": f"cw-{street}-{i}", "password": "pw", "centre": f"{street}社区事务受理服务中心",
                     "skills": [skill]} for street, skill in (("A街道", "s1"), ("B街道", "s2")) for i in range(2)],
}
MATTERS = [{"id": "m1", "skill": "s1", "mode": "both"}, {"id": "m2", "skill": "s2", "mode": "consult"},
           {"id": "m3", "skill": "s9", "mode": "handle"}]


def test_cast_keeps_kiosks_in_streets_with_a_caseworker_who_can_serve_them() -> None:
    kiosks, caseworkers = pick_cast(DEMO, MATTERS, 5, 2, random.Random(1))
    streets = {cw.street for cw in caseworkers}
    assert streets == {"A街道", "B街道"} and len(kiosks) == 5
    for kiosk in kiosks:
        assert kiosk.street in streets
        skills = {s for cw in caseworkers if cw.street == kiosk.street for s in cw.skills}
        for matter_id, mode in kiosk.matters:
            matter = next(m for m in MATTERS if m["id"] == matter_id)
            assert matter["skill"] in skills and mode in {"handle", "consult"}
            assert matter["mode"] in {mode, "both"}
    with pytest.raises(CastError):
        pick_cast(DEMO, MATTERS, 6, 1, random.Random(1))  # one street holds only 3 kiosks


def test_simulate_command_prints_only_the_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["simulate", "--kiosks", "2", "--caseworkers", "2", "--sessions", "4",
                              "--drop-rate", "1", "--hold-s", "1", "--video", "320x240@15", "--seed", "7", "--json"])
    code = args.handler(args)
    out = capsys.readouterr().out
    report = json.loads(out)  # exactly one JSON object, nothing else
    assert set(report) == {"sessions_requested", "completed", "abandoned", "lost", "double_assigned", "setup_ms",
                           "wait_ms", "frames_decoded_min", "errors"}
    assert report["sessions_requested"] == 4
    assert report["completed"] + report["abandoned"] == 4, report
    assert report["lost"] == 0 and report["double_assigned"] == 0 and report["errors"] == [], report
    assert report["frames_decoded_min"] > 0
    assert code == 0


def test_a_throw_away_server_does_not_inherit_the_callers_database_redis_or_key(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Run from a shell set up for a real installation, `jinglin simulate` must not seed demo
    # accounts and sessions into it.
    for name, value in {"DATABASE_URL": "postgresql://real/db", "REDIS_URL": "redis://real:6379/0",
                        "JINGLIN_REDIS_PREFIX": "real:", "JINGLIN_SECRET_KEY": "real-secret",
                        "JINGLIN_SECRET_KEY_FILE": "/etc/real.key", "JINGLIN_PUBLIC_URL": "https://x.example"}.items():
        monkeypatch.setenv(name, value)
    env = server_env(tmp_path, 8123)
    assert not SHARED_STATE_SETTINGS & set(env)
    assert env["JINGLIN_DATA_DIR"] == str(tmp_path) and env["JINGLIN_PORT"] == "8123"
    assert env["JINGLIN_PUBLIC_URL"] == "https://x.example"  # other settings still pass through
    shared = server_env(tmp_path, 8123, {"DATABASE_URL": "sqlite:///bench.db", "REDIS_URL": "redis://bench"})
    assert shared["DATABASE_URL"] == "sqlite:///bench.db" and shared["REDIS_URL"] == "redis://bench"


def test_bad_simulate_input_gets_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    for bad in (["--video", "abc"], ["--video", "640x480@0"], ["--sessions", "-3"], ["--kiosks", "0"]):
        with pytest.raises(SystemExit) as usage:
            parser.parse_args(["simulate", *bad])
        assert usage.value.code == 2, bad
    assert parser.parse_args(["simulate", "--video", "320x240"]).video == (320, 240, 15.0)
    capsys.readouterr()  # the usage errors above
    not_json = tmp_path / "demo.json"
    not_json.write_text("nope", encoding="utf-8")
    for demo in (tmp_path / "missing.json", not_json):
        args = parser.parse_args(["simulate", "--url", "http://127.0.0.1:1", "--demo-json", str(demo)])
        assert args.handler(args) == 2
        assert capsys.readouterr().err.startswith(f"error: --demo-json {demo}: ")
