"""The /admin pages in Debian chromium, from a fresh database (no demo data) to a completed call:
sign in, build a street and its centre, import a site sheet with a broken row (the preview names
it), fix and apply it, enrol a kiosk and open it with the shown token, rotate the token and watch
the open kiosk lose its session, create a caseworker with a skill who then receives the offer for
a matching matter; set the centre's service hours and dates (a refused week writes nothing).
Screenshots of every admin screen go to artifacts/screenshots/admin/."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.kiosk_harness import (
    ROOT,
    Caseworker,
    Server,
    _free_port,
    _wait_healthy,
    join_queue,
    kiosk_page,
    launch_browser,
    pick_matter,
)

pytestmark = pytest.mark.browser

SHOTS = ROOT / "artifacts" / "screenshots" / "admin"
DISTRICT = ZoneInfo("Asia/Shanghai")
ADMIN_PASSWORD = "first-admin-password"
CENTRE = "江宁路街道社区事务受理服务中心"
SITE = "江宁路第一居委"
BROKEN = f"name,street,kind,address\n{SITE},江宁路街道,居委,江宁路1号\n第二居委,江宁路街,居委,\n"
FIXED = BROKEN.replace("江宁路街,", "江宁路街道,")


@contextlib.contextmanager
def fresh_server(data_dir: Path) -> Iterator[Server]:
    """`jinglin migrate` + `jinglin admin create` on an empty data dir, then `jinglin serve`."""
    port = _free_port()
    env = {**os.environ, "JINGLIN_DATA_DIR": str(data_dir), "JINGLIN_PASSWORD_PROFILE": "fast",
           "JINGLIN_PORT": str(port), "JINGLIN_LOG_LEVEL": "WARNING"}
    for args, stdin in ((["migrate"], ""), (["admin", "create", "root", "--password-stdin"], ADMIN_PASSWORD)):
        subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=env, input=stdin, text=True,
                       capture_output=True, check=True, timeout=120)
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=90)
        yield Server(url=f"http://127.0.0.1:{port}", demo={}, process=process, env=env)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def section(page: Page, name: str) -> None:
    page.get_by_test_id("admin-nav").locator(f'[data-section="{name}"]').click()
    expect(page.locator(f'main [data-section="{name}"]')).to_be_visible()


def test_fresh_district_through_admin_pages(tmp_path: Path) -> None:
    broken, fixed = tmp_path / "sites-broken.csv", tmp_path / "sites.csv"
    broken.write_text(BROKEN, encoding="utf-8")
    fixed.write_text(FIXED, encoding="utf-8")
    with fresh_server(tmp_path / "data") as server, launch_browser() as browser, \
            kiosk_page(browser) as admin, kiosk_page(browser) as kiosk:
        admin.set_viewport_size({"width": 1440, "height": 900})
        admin.on("dialog", lambda dialog: dialog.accept())
        admin.goto(f"{server.url}/admin")
        shot(admin, "00-login")
        admin.get_by_test_id("login-username").fill("root")
        admin.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
        admin.get_by_test_id("login-submit").click()
        expect(admin.locator("body")).to_have_attribute("data-ready", "true")

        # Structure: a street, its centre, then the site sheet.
        street_form = admin.locator('[data-role="street-form"]')
        street_form.locator('input[name="name"]').fill("江宁路街道")
        street_form.locator("button").click()
        expect(admin.locator('[data-role="centres"]')).to_contain_text("江宁路街道")
        centre_form = admin.locator('[data-role="centre-form"]')
        centre_form.locator('input[name="name"]').fill(CENTRE)
        centre_form.locator('input[name="phone"]').fill("021-62000000")
        centre_form.locator("button").click()
        expect(admin.locator('[data-role="centres"]')).to_contain_text(CENTRE)
        admin.get_by_test_id("site-import-file").set_input_files(str(broken))
        preview = admin.get_by_test_id("site-import-preview")
        expect(preview).to_contain_text("第 3 行")
        expect(preview).to_contain_text("江宁路街")
        expect(admin.get_by_test_id("site-import-apply")).to_be_disabled()
        shot(admin, "01-structure-import-preview")
        admin.get_by_test_id("site-import-file").set_input_files(str(fixed))
        expect(preview).to_have_attribute("data-errors", "0")
        admin.get_by_test_id("site-import-apply").click()
        expect(preview).to_have_attribute("data-applied", "true")
        expect(admin.locator('[data-role="sites"]')).to_contain_text("第二居委")
        shot(admin, "02-structure-applied")

        # Kiosks: enrol, open the kiosk with the shown token, rotate, the open kiosk is signed out.
        section(admin, "kiosks")
        admin.locator('[data-role="site-select"]').select_option(label=SITE)
        admin.get_by_test_id("kiosk-add").click()
        expect(admin.get_by_test_id("kiosk-token")).not_to_be_empty()
        token = admin.get_by_test_id("kiosk-token").inner_text().strip()
        assert len(token) >= 40
        expect(admin.locator('[data-role="token-qr"]')).to_have_attribute("src", re.compile("^data:image/svg"))
        shot(admin, "03-kiosk-token")
        kiosk.goto(f"{server.url}/kiosk?token={token}")
        expect(kiosk.locator('[data-role="site-label"]')).to_have_text(SITE)
        expect(admin.locator('[data-role="kiosks"] tr')).to_have_count(1)
        admin.get_by_test_id("kiosk-rotate").click()
        expect(admin.get_by_test_id("kiosk-token")).not_to_have_text(token)
        expect(admin.get_by_test_id("kiosk-token")).not_to_be_empty()
        new_token = admin.get_by_test_id("kiosk-token").inner_text().strip()
        expect(kiosk.locator("body")).to_have_class(re.compile("not-registered"), timeout=10000)
        admin.set_viewport_size({"width": 800, "height": 1100})
        admin.emulate_media(media="print")
        admin.locator('[data-role="sheet"]').evaluate("node => { node.hidden = false; }")
        shot(admin, "04-kiosk-enrolment-sheet")
        admin.emulate_media(media="screen")
        admin.set_viewport_size({"width": 1440, "height": 900})

        # Staff: a caseworker with the skill of the matter the resident will pick.
        matter = pick_matter(server)
        section(admin, "staff")
        form = admin.locator('[data-role="user-form"]')
        form.locator('input[name="username"]').fill("cw1")
        form.locator('input[name="display_name"]').fill("受理员一")
        form.locator('select[name="centre"]').select_option(label=CENTRE)
        form.locator('input[name="skills"]').fill(matter["skill"])
        admin.get_by_test_id("user-add").click()
        one_time_line = admin.locator('[data-role="one-time"]')
        expect(one_time_line).to_be_visible()
        one_time = one_time_line.inner_text().rsplit("：", 1)[1].strip()
        row = admin.locator('[data-testid="user-row"][data-username="cw1"]')
        expect(row.get_by_test_id("user-skills")).to_have_value(matter["skill"])
        expect(row.get_by_test_id("user-disable")).to_be_visible()
        expect(row.get_by_test_id("user-reset-password")).to_be_visible()
        shot(admin, "05-staff")

        # Catalog: edit a matter; an invalid edit shows the validator's messages.
        section(admin, "catalog")
        # The list is redrawn when the search answers: click the matter in the filtered list.
        with admin.expect_response(lambda r: "/api/v1/matters?q=jlk" in r.url):
            admin.locator('[data-role="matter-search"]').fill("jlk")
        admin.locator(f'[data-matter-id="{matter["id"]}"]').click()
        edit = admin.get_by_test_id("matter-edit")
        edit.locator('input[name="typical_minutes"]').fill("0")
        admin.get_by_test_id("matter-save").click()
        expect(admin.locator('[data-role="matter-errors"]')).to_contain_text(matter["id"])
        shot(admin, "06-catalog-invalid")
        edit.locator('input[name="typical_minutes"]').fill("12")
        admin.get_by_test_id("matter-save").click()
        expect(admin.locator('[data-role="matter-errors"]')).to_contain_text("已保存")
        shot(admin, "07-catalog-saved")
        admin.get_by_test_id("matter-save").click()  # again, unchanged: nothing is published
        expect(admin.locator('[data-role="matter-errors"]')).to_contain_text("没有改动")

        section(admin, "audit")
        expect(admin.get_by_test_id("audit-row").first).to_be_visible()
        expect(admin.locator('[data-testid="audit-row"][data-action="kiosk_token_rotated"]')).to_have_count(1)
        shot(admin, "08-audit")

        # Signing in to the console with the one-time password leads to choosing one's own; then the
        # caseworker signs in and is offered the resident's call.
        kiosk.goto(f"{server.url}/agent")
        kiosk.get_by_test_id("login-username").fill("cw1")
        kiosk.get_by_test_id("login-password").fill(one_time)
        kiosk.get_by_test_id("login-submit").click()
        kiosk.wait_for_url("**/password?**")
        expect(kiosk.locator('input[name="username"]')).to_have_value("cw1")
        kiosk.locator('input[name="password"]').fill(one_time)
        kiosk.locator('input[name="new_password"]').fill("caseworker-own-pass")
        kiosk.locator('input[name="repeat"]').fill("caseworker-own-pass")
        kiosk.locator('button[type="submit"]').click()
        expect(kiosk.get_by_test_id("password-message")).to_contain_text("已修改")
        shot(kiosk, "09-password-changed")
        caseworker = Caseworker(server.url, "cw1", "caseworker-own-pass")
        try:
            caseworker.sign_in_available()
            join_queue(kiosk, server, {"token": new_token, "site": SITE}, matter, shots=False)
            call = caseworker.accept_next_offer()
            assert call
            caseworker.end_call("accepted")
        finally:
            caseworker.close()

        # Service hours last: from then on the centre is closed outside them, and the call above
        # must not depend on the time of day the test runs.
        _hours_form(admin, server)
        section(admin, "audit")
        # The CLI's override is audited as well as the form's edits.
        for action, count in (("hours_set", 1), ("override_set", 2), ("override_removed", 1)):
            expect(admin.locator(f'[data-testid="audit-row"][data-action="{action}"]')).to_have_count(count)


def _hours_form(admin: Page, server: Server) -> None:
    """The centre's hours in /admin: the same data as `jinglin hours`; a refused week writes nothing."""
    today = datetime.now(DISTRICT).date()
    cli_day, special = (today + timedelta(days=3)).isoformat(), (today + timedelta(days=5)).isoformat()
    server.command("hours", "override", "--centre", "1", "--date", cli_day, "--closed", "--note", "盘点")
    section(admin, "hours")
    expect(admin.get_by_test_id("hours-always-open")).to_be_visible()  # no weekday hours yet
    expect(admin.locator(f'[data-testid="override-item"][data-date="{cli_day}"]')).to_contain_text("盘点")
    days = admin.get_by_test_id("hours-day")
    expect(days).to_have_count(7)
    for weekday in range(5):
        days.nth(weekday).get_by_test_id("hours-open").check()  # starts from 09:00-17:00
        days.nth(weekday).get_by_test_id("hours-lunch-start").fill("12:00")
        days.nth(weekday).get_by_test_id("hours-lunch-end").fill("13:00")
    expect(days.nth(0).get_by_test_id("hours-opens")).to_have_value("09:00")
    expect(admin.get_by_test_id("hours-always-open")).to_be_hidden()  # days are ticked now
    days.nth(0).get_by_test_id("hours-closes").fill("08:00")  # before the opening
    days.nth(1).get_by_test_id("hours-lunch-end").fill("")  # half a lunch break
    admin.get_by_test_id("hours-save").click()
    error = admin.get_by_test_id("hours-week-error")
    expect(error).to_contain_text("有 2 处需要修改")
    expect(error).to_contain_text("周一的关门时间必须晚于开门时间")
    expect(error).to_contain_text("周二的午休需要同时填写开始和结束时间")
    shot(admin, "10-hours-refused")
    assert json.loads(server.command("hours", "show", "--centre", "1", "--json"))["always_open"]  # nothing written
    days.nth(0).get_by_test_id("hours-closes").fill("17:00")
    days.nth(1).get_by_test_id("hours-lunch-end").fill("13:00")
    admin.get_by_test_id("hours-save").click()
    expect(admin.locator('[data-role="hours-week-saved"]')).to_have_text("已保存")
    expect(error).to_be_hidden()

    # A date with its own hours; the date the command closed is opened again.
    form = admin.get_by_test_id("override-form")
    form.get_by_test_id("override-save").click()
    expect(admin.get_by_test_id("override-error")).to_have_text("请选择日期")
    form.get_by_test_id("override-date").fill(special)
    form.get_by_test_id("override-kind").select_option("open")
    form.get_by_test_id("override-opens").fill("09:00")
    form.get_by_test_id("override-closes").fill("11:00")
    form.get_by_test_id("override-note").fill("值班")
    form.get_by_test_id("override-save").click()
    expect(admin.locator(f'[data-testid="override-item"][data-date="{special}"]')).to_contain_text("09:00-11:00")
    expect(admin.locator(f'[data-testid="hours-preview"] li[data-date="{special}"]')).to_contain_text("09:00-11:00")
    admin.locator(f'[data-testid="override-item"][data-date="{cli_day}"]').get_by_test_id("override-remove").click()
    expect(admin.locator(f'[data-testid="override-item"][data-date="{cli_day}"]')).to_have_count(0)
    shot(admin, "11-hours")

    shown = {d["date"]: d for d in json.loads(server.command("hours", "show", "--centre", "1", "--json"))["days"]}
    assert shown[special]["periods"] == ["09:00-11:00"] and shown[special]["note"] == "值班"
    assert shown[cli_day]["reason"] != "override"
    weekday_hours = [d["periods"] for d in shown.values() if d["reason"] == "hours"]
    assert weekday_hours and all(p == ["09:00-12:00", "13:00-17:00"] for p in weekday_hours)
