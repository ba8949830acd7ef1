"""The administration commands: a fresh database (no demo data) reaches a working district through
`jinglin` alone — first admin, streets, centres, the 249-site sample sheet, kiosks, staff with
skills — and then a real call is offered, accepted and completed. Every command speaks `--json`
and fails with a non-zero exit and a one-line reason. Runs on both databases."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.cli import main
from server.runtime.embedded_redis import EmbeddedRedis
from tests.kiosk_harness import ROOT, _free_port, _wait_healthy
from tests.protocol_client import Client, Env

SAMPLE = ROOT / "docs" / "samples" / "sites.csv"
MATTER = "gaj-jlks-01"  # 公安 · 敬老卡申领: skill police-general
ADMIN_PASSWORD = "first-admin-password"
CW_PASSWORD = "caseworker-password"


class Jinglin:
    """Runs `jinglin …` (server.cli.main, in this process) against one data directory and database."""

    def __init__(self, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
        self.env = env
        self.capsys = capsys

    def run(self, *args: str, stdin: str = "", ok: bool = True) -> tuple[str, str]:
        self.capsys.readouterr()
        saved = sys.stdin
        sys.stdin = io.StringIO(stdin + "\n")
        try:
            code = main(list(args))
        finally:
            sys.stdin = saved
        out, err = self.capsys.readouterr()
        assert (code == 0) == ok, (args, out[-500:], err[-500:])
        if not ok:
            assert err.startswith("error: ") and err.count("\n") == 1, err
        return out, err

    def json(self, *args: str, stdin: str = "") -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin)[0])


@pytest.fixture
def jinglin(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Iterator[Jinglin]:
    env = {"JINGLIN_DATA_DIR": str(tmp_path), "JINGLIN_PASSWORD_PROFILE": "fast",
           "DATABASE_URL": database_url, "JINGLIN_LOG_LEVEL": "WARNING", "JINGLIN_PORT": str(_free_port())}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield Jinglin({**os.environ, **env}, capsys)


def test_fresh_district_through_the_cli_alone(jinglin: Jinglin, tmp_path: Path) -> None:
    jinglin.run("migrate")
    admin = jinglin.json("admin", "create", "root", "--password-stdin", stdin=ADMIN_PASSWORD)
    assert admin["role"] == "admin"
    jinglin.run("admin", "create", "second", "--password-stdin", stdin=ADMIN_PASSWORD, ok=False)
    jinglin.run("street", "add", "江宁路街道", "--json")
    jinglin.run("street", "add", "江宁路街道", ok=False)
    centre = jinglin.json("centre", "add", "江宁路街道社区事务受理服务中心", "--street", "jiangninglu",
                          "--phone", "021-62000000")
    assert centre["street"] == "江宁路街道"
    jinglin.run("centre", "add", "X", "--street", "nowhere", ok=False)

    # The sample sheet names 14 streets; only one exists: a dry run lists the rest as errors.
    preview = jinglin.json("site", "import", str(SAMPLE))
    assert not preview["applied"] and len(preview["added"]) == 19 and len(preview["errors"]) == 230
    jinglin.run("site", "import", str(SAMPLE), "--apply", ok=False)
    for code, name in (("shimenerlu", "石门二路街道"), ("nanjingxilu", "南京西路街道"), ("jingansi", "静安寺街道"),
                       ("caojiadu", "曹家渡街道"), ("tianmuxilu", "天目西路街道"), ("beizhan", "北站街道"),
                       ("baoshanlu", "宝山路街道"), ("zhijiangxilu", "芷江西路街道"), ("gonghexinlu", "共和新路街道"),
                       ("daninglu", "大宁路街道"), ("pengpuxincun", "彭浦新村街道"), ("linfenlu", "临汾路街道"),
                       ("pengpuzhen", "彭浦镇")):
        assert jinglin.json("street", "add", name)["code"] == code
    applied = jinglin.json("site", "import", str(SAMPLE), "--apply")
    assert applied["applied"] and len(applied["added"]) == 249 and not applied["errors"]
    exported = tmp_path / "sites.csv"
    assert jinglin.json("site", "export", "--output", str(exported))["message"] == f"249 sites written to {exported}"
    assert exported.read_text(encoding="utf-8-sig").splitlines()[1:] == \
        SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    listed_sites = jinglin.json("site", "export")["sites"]  # --json without --output: the API's format=json
    assert len(listed_sites) == 249 and {"name", "street", "kind", "address"} <= set(listed_sites[0])
    csv_out, _ = jinglin.run("site", "export")
    assert csv_out.lstrip("\ufeff").splitlines()[1:] == SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    site = jinglin.json("site", "add", "江宁路测试居委", "--street", "江宁路街道")

    kiosk = jinglin.json("kiosk", "add", "--site", str(site["id"]))
    token = kiosk["token"]
    assert kiosk["qr_svg"].startswith("<svg")
    listed = jinglin.json("kiosk", "list")["kiosks"]
    assert [k["site"] for k in listed] == ["江宁路测试居委"]
    rotated = jinglin.json("kiosk", "rotate", str(kiosk["kiosk"]["id"]))
    assert rotated["token"] != token
    assert jinglin.json("kiosk", "disable", str(kiosk["kiosk"]["id"]))["enabled"] is False
    assert jinglin.json("kiosk", "enable", str(kiosk["kiosk"]["id"]))["enabled"] is True
    jinglin.run("kiosk", "rotate", "999", ok=False)

    jinglin.run("user", "add", "cw1", "--role", "caseworker", "--centre", "江宁路街道社区事务受理服务中心",
                "--skill", "archives", "--password-stdin", stdin=CW_PASSWORD)
    jinglin.run("user", "add", "cw2", "--role", "caseworker", "--password-stdin", stdin=CW_PASSWORD, ok=False)
    # A name differing only in case is the same account to the people who use it: refused.
    jinglin.run("user", "add", "Cw1", "--role", "caseworker", "--centre", "江宁路街道社区事务受理服务中心",
                "--password-stdin", stdin=CW_PASSWORD, ok=False)
    assert jinglin.json("user", "set-skills", "cw1", "police-general", "archives")["skills"] == \
        ["archives", "police-general"]
    jinglin.run("user", "set-skills", "cw1", "flying", ok=False)
    users = jinglin.json("user", "list", "--role", "caseworker")["users"]
    assert [u["username"] for u in users] == ["cw1"]
    reset = jinglin.json("user", "reset-password", "cw1")
    assert len(reset["password"]) >= 10
    assert json.loads(jinglin.run("user", "disable", "cw1", "--json")[0])["message"].startswith("disabled cw1")
    jinglin.run("user", "enable", "cw1")
    jinglin.run("user", "disable", "root", ok=False)  # the last admin
    jinglin.run("user", "list", "--centre", "nowhere", ok=False)

    # Hours set by the CLI are audited like the /admin form's.
    centre_id = str(centre["id"])
    jinglin.json("hours", "week", "--centre", centre_id, "--days", "mon-fri", "--open", "09:00", "--close", "17:00",
                 "--lunch", "12:00-13:00")
    later = (date.today() + timedelta(days=40)).isoformat()
    jinglin.json("hours", "override", "--centre", centre_id, "--date", later, "--closed", "--note", "盘点")
    jinglin.json("hours", "override", "--centre", centre_id, "--date", later, "--remove")
    # The API's rules: nothing to remove is 404, a past date cannot be changed.
    _, err = jinglin.run("hours", "override", "--centre", centre_id, "--date", later, "--remove", ok=False)
    assert "没有单独设置" in err
    past = (date.today() - timedelta(days=2)).isoformat()
    _, err = jinglin.run("hours", "override", "--centre", centre_id, "--date", past, "--closed", ok=False)
    assert "不能修改已经过去的日期" in err
    _, err = jinglin.run("hours", "week", "--centre", centre_id, "--open", "18:00", "--close", "09:00", ok=False)
    assert "关门时间必须晚于开门时间" in err
    _, err = jinglin.run("hours", "override", "--centre", centre_id, "--date", later, ok=False)
    assert "请填写" in err  # neither --closed nor hours
    # Back to no hours (always open), so the call below is served whatever the time of the run.
    jinglin.json("hours", "week", "--centre", centre_id, "--days", "mon-fri", "--closed")

    audit = jinglin.json("audit", "export")["entries"]
    actions = {entry["action"] for entry in audit}
    assert {"street_added", "centre_added", "sites_imported", "sites_exported", "kiosk_added", "kiosk_token_rotated",
            "kiosk_disabled", "user_added", "user_changed", "password_reset", "user_disabled",
            "hours_set", "override_set", "override_removed"} <= actions
    hours_set = [e for e in audit if e["action"] == "hours_set"]
    assert len(hours_set) == 2 and {e["actor"] for e in hours_set} == {"cli"}  # the refused edit wrote nothing
    assert sorted(e["data"]["week"]["mon"] for e in hours_set) == ["09:00-17:00 lunch 12:00-13:00", "closed"]
    assert all("盘点" not in json.dumps(e["data"], ensure_ascii=False) for e in audit)  # never the note
    csv_text = jinglin.run("audit", "export")[0]
    assert csv_text.lstrip("\ufeff").startswith("id,at,actor,action")

    # The district works: the kiosk's resident is offered to the caseworker, who completes the call.
    assert CW_PASSWORD  # cw1's password was reset: the caseworker picks a new one first.
    _serve_and_call(jinglin, rotated["token"], reset["password"])


def _serve_and_call(jinglin: Jinglin, token: str, one_time: str) -> None:
    port = jinglin.env["JINGLIN_PORT"]
    process = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=jinglin.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        asyncio.run(_call(Env(server=None, kiosk_tokens=[token], base_url=url), one_time))
    finally:
        process.terminate()
        process.wait(10)


async def _call(env: Env, one_time: str) -> None:
    kiosk, cw = Client(env), Client(env)
    try:
        changed = await cw.http.post(env.url("/api/v1/auth/password"), json={
            "username": "cw1", "password": one_time, "new_password": CW_PASSWORD})
        assert changed.status == 200
        await kiosk.kiosk_login(env.kiosk_tokens[0])
        await kiosk.connect()
        await cw.staff_login("cw1", CW_PASSWORD)
        await cw.connect()
        await kiosk.send({"type": "join", "matter_id": MATTER, "mode": "handle"})
        ticket = (await kiosk.expect("ticket"))["ticket"]
        await cw.send({"type": "set_status", "status": "available"})
        offer = (await cw.expect("offer", timeout=10))["offer"]
        assert offer["ticket_id"] == ticket["session_id"]
        await cw.send({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
        await cw.expect("call")
        await kiosk.expect("call")
        reply = await cw.request({"type": "end_call", "ticket_id": offer["ticket_id"], "outcome": "accepted"}, ref=9)
        assert reply["type"] != "error", reply
    finally:
        await kiosk.close()
        await cw.close()


def test_ordinary_bad_input_gets_one_error_line_not_a_traceback(jinglin: Jinglin, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    jinglin.run("migrate")
    # A script with no terminal and no --password-stdin: there is nobody to ask.
    _, err = jinglin.run("admin", "create", "root", ok=False)
    assert "--password-stdin" in err
    jinglin.run("admin", "create", "root", "--password-stdin", stdin=ADMIN_PASSWORD)
    jinglin.run("user", "add", "cw-07", "--role", "caseworker", "--centre", "1", ok=False)
    jinglin.run("kiosk", "enable", "99999999999999999999", ok=False)  # past the database's integers
    jinglin.run("hours", "show", "--centre", "99999999999999999999", ok=False)
    jinglin.run("site", "export", "--output", str(tmp_path / "no" / "such" / "dir.csv"), ok=False)
    _, err = jinglin.run("appointments", "capacity", "--centre", "1", "--per-slot", "3", "--remove", ok=False)
    assert "--per-slot N 或 --remove" in err
    # The API's Chinese messages (docs/admin.md), one line each.
    _, err = jinglin.run("appointments", "capacity", "--centre", "4242", "--per-slot", "3", ok=False)
    assert err == "error: 没有这个受理服务中心\n"
    _, err = jinglin.run("hours", "week", "--centre", "4242", "--open", "09:00", "--close", "17:00", ok=False)
    assert err == "error: 没有这个受理服务中心\n"
    _, err = jinglin.run("hours", "week", "--centre", "1", "--days", "fri-mon", "--open", "09:00", "--close", "17:00",
                         ok=False)
    assert "前后颠倒" in err
    _, err = jinglin.run("hours", "week", "--centre", "1", "--open", "9am", "--close", "17:00", ok=False)
    assert "不是 时:分 格式" in err
    _, err = jinglin.run("site", "export", "--format", "xlsx", ok=False)
    assert "--output" in err and "XLSX" in err
    jinglin.run("appointments", "capacity", "--centre", "1", "--skill", "no-such-skill", "--per-slot", "4", ok=False)
    for address in ("notaurl", "javascript:alert(1)", "https://x.example/kiosk?x=1"):
        # Printed as the kiosk's link and put in its enrolment QR code.
        with pytest.raises(SystemExit) as usage:
            main(["kiosk", "add", "--site", "1", "--base-url", address])
        assert usage.value.code == 2
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/x")  # nothing listens there
    _, err = jinglin.run("user", "list", ok=False)
    assert "127.0.0.1" in err


def test_audit_export_writes_the_file_it_is_given_and_logs_only_real_exports(jinglin: Jinglin,
                                                                             tmp_path: Path) -> None:
    jinglin.run("migrate")
    jinglin.run("admin", "create", "root", "--password-stdin", stdin=ADMIN_PASSWORD)
    target = tmp_path / "audit.json"
    message = jinglin.json("audit", "export", "--output", str(target))
    assert message["message"].endswith(f"written to {target}")
    written = json.loads(target.read_text(encoding="utf-8"))  # JSON in the file, not on stdout
    assert written["entries"] and {"action", "actor"} <= set(written["entries"][0])
    before = len(jinglin.json("audit", "export", "--action", "audit_exported")["entries"])
    jinglin.run("audit", "export", "--output", str(tmp_path / "no" / "such" / "dir.csv"), ok=False)
    after = len(jinglin.json("audit", "export", "--action", "audit_exported")["entries"])
    assert after == before + 1  # the query just made, not the export that failed


def test_a_reader_that_went_away_ends_the_command_quietly(jinglin: Jinglin) -> None:
    """`jinglin audit export | head`: the pipe closes under the command; it stops without a
    traceback, with the status of a tool ended by SIGPIPE."""
    jinglin.run("migrate")
    jinglin.run("admin", "create", "root", "--password-stdin", stdin=ADMIN_PASSWORD)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = subprocess.run([sys.executable, "-m", "server", "audit", "export"], cwd=ROOT, env=jinglin.env,
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == "", done.stderr


def test_kiosk_list_says_when_online_is_only_an_estimate(jinglin: Jinglin, monkeypatch: pytest.MonkeyPatch,
                                                         embedded_redis: EmbeddedRedis) -> None:
    """Live presence is in Redis: without it (no server running with the embedded one, or the
    Redis server down) `online` is estimated from the last seen time, and the list says so on
    standard error; its output is unchanged."""
    jinglin.run("migrate")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    out, err = jinglin.run("kiosk", "list", "--json")
    assert json.loads(out) == {"kiosks": []}
    assert err.startswith("note: live presence unavailable") and err.count("\n") == 1, err
    monkeypatch.setenv("REDIS_URL", embedded_redis.url)
    out, err = jinglin.run("kiosk", "list", "--json")
    assert json.loads(out) == {"kiosks": []} and err == ""
