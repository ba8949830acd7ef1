"""The supervisor dashboard in Debian chromium: sign-in, live tiles following the queue within a
second (pushed over the WebSocket, no polling), kiosks, follow-ups, reports; screenshots saved to
artifacts/screenshots/supervisor/ for a person to look at."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from server.http import app_keys
from server.queueing.service import QUEUE
from server.runtime.district_time import DISTRICT_TZ
from server.runtime.embedded_redis import EmbeddedRedis
from tests.test_reports_api import PASSWORD, Env, seed_history, start_env
from tests.test_reports_live import waiting_ticket

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots" / "supervisor"

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    return CHROMIUM


@pytest.fixture
async def page_env(tmp_path: Path, embedded_redis: EmbeddedRedis, chromium: str) -> AsyncIterator[Env]:
    env = await start_env(tmp_path, f"sqlite:///{tmp_path / 'page.sqlite3'}", embedded_redis)
    today = datetime.now(UTC).astimezone(DISTRICT_TZ).date().isoformat()
    async with env.app[app_keys.DB_SESSIONS]() as db, db.begin():
        await seed_history(db, env.ids, day=today)
    yield env
    await env.server.close()


@pytest.fixture
async def page(page_env: Env) -> AsyncIterator[Page]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        await browser.close()
        assert errors == []


async def _text(page: Page, testid: str) -> str:
    return (await page.get_by_test_id(testid).inner_text()).strip()


async def test_live_dashboard_follows_the_queue(page_env: Env, page: Page) -> None:
    env = page_env
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.goto(env.url("/supervisor"))
    await page.get_by_test_id("login-username").fill("boss")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_selector("body[data-ready='1']")
    await page.wait_for_selector("[data-testid='connection'][data-state='live']")
    assert await _text(page, "stat-waiting") == "0"
    assert await _text(page, "stat-available") == "0"
    assert await _text(page, "stat-sl") == "60.0%"  # the seeded day: 3 of 5 within 60 s
    kiosks = page.get_by_test_id("kiosk-status")
    assert await kiosks.count() == 2
    assert {await kiosks.nth(i).get_attribute("data-kiosk-id") for i in range(2)} == {
        str(env.ids["kiosk1"]), str(env.ids["kiosk2"])}

    # A resident joins and an (archives-only) caseworker logs in: the tiles follow within a second
    # (each expectation's 1 s timeout starts once the queue has changed).
    await waiting_ticket(env, waited_s=75)
    await expect(page.get_by_test_id("stat-waiting")).to_have_text("1", timeout=1000)
    await expect(page.get_by_test_id("stat-available")).to_have_text("1", timeout=1000)
    assert (await _text(page, "stat-longest-wait")).startswith("1分")

    await page.wait_for_selector("body[data-loaded='1']")
    items = page.get_by_test_id("followup-item")
    assert await items.count() == 2
    assert await items.first.get_attribute("data-overdue") == "1"
    await page.wait_for_selector("[data-testid='report-chart'] canvas")
    await page.wait_for_selector("[data-testid='staffing-chart'] canvas")
    await expect(page.get_by_test_id("staffing-open")).to_contain_text("服务时段共 24 小时")  # no hours set
    await page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    await page.locator("#live").screenshot(path=str(SHOTS / "live.png"))

    started = time.monotonic()
    await env.app[QUEUE].queue.cancel("live1")
    await expect(page.get_by_test_id("stat-waiting")).to_have_text("0", timeout=1000)
    assert time.monotonic() - started < 1.0

    # Resolving a follow-up without a note is refused in the page; with one it moves on.
    first = items.first
    await first.get_by_test_id("followup-resolve").click()
    assert await first.locator(".s-error").is_visible()
    await first.locator("textarea").fill("已电话回访，居民表示理解")
    await first.get_by_test_id("followup-resolve").click()
    await page.wait_for_selector("[data-testid='followup-item'][data-state='resolved']")
    await page.locator("#followups").screenshot(path=str(SHOTS / "followups.png"))

    # Group the report by hour and look at it.
    await page.get_by_test_id("report-by").select_option("hour")
    await page.get_by_test_id("report-run").click()
    await page.wait_for_selector("[data-testid='report-table'] tr[data-key='09']")
    await page.locator("#reports").screenshot(path=str(SHOTS / "reports.png"))
    href = await page.get_by_test_id("export-xlsx").get_attribute("href")
    assert href is not None and href.startswith("/api/v1/reports/sessions.xlsx?from=")

    # An alert threshold out of range is said beside the form and not sent: the figures go on.
    await page.get_by_test_id("alert-wait").fill("-5")
    await page.get_by_test_id("alert-wait").press("Tab")
    await expect(page.get_by_test_id("filters-error")).to_contain_text("最长等待告警")
    assert await _text(page, "stat-available") == "1"
    await env.app[QUEUE].queue.set_offline(str(env.ids["cw3"]))
    await expect(page.get_by_test_id("stat-available")).to_have_text("0", timeout=3000)
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")

    # Signed out in another tab: the board says so and offers the reload, not "reconnecting".
    assert (await page.context.request.post(env.url("/api/v1/auth/logout"))).ok
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "signed_out", timeout=10000)
    await page.get_by_test_id("connection-reload").click()
    await expect(page.get_by_test_id("login-username")).to_be_visible()
