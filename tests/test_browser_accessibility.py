"""Every screen of the product through axe-core, and the text-size floors (docs/accessibility.md).

One seeded server and two Debian Chromiums with fake media: the kiosk's plays a synthetic ID card
(so the capture view and the console's review are real), the other holds the caseworker console,
the index page, the password page, the supervisor dashboard and the administration pages. A real
call connects the two, so the call, capture, outcome, ended, rating and thanks screens are checked
as a resident and a caseworker meet them. Each screen must have no serious or critical axe
violation; the kiosk's text is at least 24 px and the console's at least 14 px at 1366x768.

Every test checks all its screens before failing (one run lists every problem), and the module
writes a per-screen table to artifacts/accessibility/report.json. Screenshots of the kiosk's start,
catalog and waiting screens and of the supervisor board, at 1366x768 and 1920x1080, go to
artifacts/screenshots/accessibility/.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, WebSocketRoute, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.accessibility import Audit, ScreenResult, assert_accessible, assert_min_font, smallest_text
from tests.kiosk_harness import (
    CASE_NUMBER,
    ROOT,
    SEARCH,
    Server,
    caseworker_for,
    pick_matter,
    require_chromium,
    run_server,
    screen,
    start_chromium,
    wait_until,
)
from tests.quality_fixtures.video import write_document_y4m

pytestmark = pytest.mark.browser

VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
SHOT_SIZES = ((1366, 768), (1920, 1080))
SHOTS = ROOT / "artifacts" / "screenshots" / "accessibility"
REPORT = ROOT / "artifacts" / "accessibility" / "report.json"
KIOSK_MIN_PX = 24
CONSOLE_MIN_PX = 14
ADMIN_SECTIONS = ("structure", "kiosks", "staff", "catalog", "hours", "audit")


@dataclass
class Rig:
    """The server, the two browsers, and what the tests of the module found."""

    server: Server
    kiosk_browser: Browser
    staff_browser: Browser
    results: list[ScreenResult]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    require_chromium()
    video = tmp_path_factory.mktemp("a11y-media") / "id_card.y4m"
    write_document_y4m(video, fps=10, seconds=3.0, settle_s=0.6)
    results: list[ScreenResult] = []
    with run_server(tmp_path_factory.mktemp("a11y")) as server, sync_playwright() as playwright:
        kiosk_browser = start_chromium(playwright, [f"--use-file-for-fake-video-capture={video}"])
        staff_browser = start_chromium(playwright)
        try:
            yield Rig(server, kiosk_browser, staff_browser, results)
        finally:
            staff_browser.close()
            kiosk_browser.close()
            Audit(results).write(REPORT)


@pytest.fixture
def audit(rig: Rig) -> Iterator[Audit]:
    """This test's screens; added to the module's report whatever the outcome."""
    found = Audit()
    yield found
    rig.results.extend(found.results)


@pytest.fixture
def errors() -> Iterator[list[str]]:
    """Uncaught page errors of the test's pages fail it."""
    seen: list[str] = []
    yield seen
    assert not seen, f"uncaught errors in the pages: {seen}"


def new_page(browser: Browser, errors: list[str], side: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda error: errors.append(f"{side}: {error}"))
    return context, page


def shots(page: Page, name: str) -> None:
    """Screenshots at both sizes, then back to 1366x768."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SHOT_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(100)


def sign_in(page: Page, login: dict[str, Any]) -> None:
    page.get_by_test_id("login-username").fill(login["username"])
    page.get_by_test_id("login-password").fill(login["password"])
    page.get_by_test_id("login-submit").click()


class Socket:
    """The kiosk's WebSocket through Playwright, so a test can cut it (the offline banner)."""

    def __init__(self) -> None:
        self.routes: list[WebSocketRoute] = []
        self.down = False

    def relay(self, route: WebSocketRoute) -> None:
        if not self.down:
            route.connect_to_server()
        self.routes.append(route)


def test_kiosk_and_console_through_a_call(rig: Rig, audit: Audit, errors: list[str]) -> None:
    server = rig.server
    matter = pick_matter(server)
    material = next(m for m in matter["materials"] if m["capture"])
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    console_context, console = new_page(rig.staff_browser, errors, "console")
    kiosk_context, k = new_page(rig.kiosk_browser, errors, "kiosk")
    try:
        # The index page, the console's sign-in and the password page; the caseworker signs in.
        console.goto(f"{server.url}/")
        audit.check(console, "index")
        console.goto(f"{server.url}/password")
        expect(console.locator('[data-role="password-form"] h1')).not_to_be_empty()
        audit.check(console, "console password change", min_font_px=CONSOLE_MIN_PX)
        console.goto(f"{server.url}/agent")
        expect(console.get_by_test_id("login-submit")).to_be_visible()
        audit.check(console, "console sign-in", min_font_px=CONSOLE_MIN_PX)
        console.get_by_test_id("login-password").fill("wrong-password")
        console.get_by_test_id("login-username").fill(login["username"])
        console.get_by_test_id("login-submit").click()
        expect(console.get_by_test_id("login-error")).to_be_visible()
        audit.check(console, "console sign-in error", min_font_px=CONSOLE_MIN_PX)
        sign_in(console, login)
        expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "offline")
        audit.check(console, "console idle (offline)", min_font_px=CONSOLE_MIN_PX)

        # The kiosk: unregistered, then signed in with its token, through to the queue.
        socket = Socket()
        k.route_web_socket("**/api/v1/ws", socket.relay)
        k.goto(f"{server.url}/kiosk")
        expect(k.locator('section[data-screen="boot"] h1')).to_have_text("本终端尚未登记")
        audit.check(k, "kiosk not registered", min_font_px=KIOSK_MIN_PX)
        k.goto(f"{server.url}/kiosk?token={kiosk['token']}")
        screen(k, "start")
        expect(k.locator('[data-role="site-label"]')).to_have_text(kiosk["site"])
        audit.check(k, "kiosk start", min_font_px=KIOSK_MIN_PX)
        shots(k, "kiosk-start")
        k.get_by_test_id("large-toggle").click()
        expect(k.locator("html")).to_have_class("k-large")
        audit.check(k, "kiosk start, large text", min_font_px=KIOSK_MIN_PX)
        k.get_by_test_id("large-toggle").click()
        expect(k.locator("html")).not_to_have_class("k-large")
        k.get_by_test_id("start-handle").click()
        screen(k, "catalog")
        expect(k.get_by_test_id("matter-item").first).to_be_visible()
        audit.check(k, "kiosk catalog", min_font_px=KIOSK_MIN_PX)
        shots(k, "kiosk-catalog")
        k.locator('[data-action="keypad-toggle"]').click()
        k.get_by_test_id("matter-search").fill(SEARCH)
        expect(k.get_by_test_id("matter-item").first).to_have_attribute("data-matter-id", matter["id"])
        audit.check(k, "kiosk catalog, search keypad", min_font_px=KIOSK_MIN_PX)
        k.locator(f'[data-testid="matter-item"][data-matter-id="{matter["id"]}"]').click()
        screen(k, "matter")
        audit.check(k, "kiosk matter", min_font_px=KIOSK_MIN_PX)
        k.get_by_test_id("matter-start").click()
        screen(k, "device")
        expect(k.get_by_test_id("device-check-status")).to_have_attribute("data-state", "ok")
        audit.check(k, "kiosk device check", min_font_px=KIOSK_MIN_PX)
        k.get_by_test_id("device-check-continue").click()
        screen(k, "consent")
        expect(k.get_by_test_id("consent-accept")).to_be_enabled()
        audit.check(k, "kiosk consent notice", min_font_px=KIOSK_MIN_PX)
        k.get_by_test_id("consent-accept").click()
        screen(k, "availability")
        expect(k.get_by_test_id("priority-none")).to_be_visible()
        audit.check(k, "kiosk availability and priority", min_font_px=KIOSK_MIN_PX)
        shots(k, "kiosk-availability")
        # Nobody with the skill is signed in (the console is offline): 回电 on the big keypad, and back.
        k.get_by_test_id("no-staff-notice").get_by_test_id("callback-request").click()
        screen(k, "callback")
        k.locator('[data-role="callback-keypad"] [data-key="1"]').click()
        audit.check(k, "kiosk 回电 keypad", min_font_px=KIOSK_MIN_PX)
        k.locator('[data-screen="callback"] [data-action="back"]').click()
        screen(k, "availability")
        k.get_by_test_id("priority-none").click()
        screen(k, "waiting")
        expect(k.get_by_test_id("queue-wait")).not_to_be_empty()
        audit.check(k, "kiosk waiting", min_font_px=KIOSK_MIN_PX)
        shots(k, "kiosk-waiting")
        k.get_by_test_id("queue-cancel").click()
        expect(k.get_by_test_id("queue-cancel-confirm")).to_be_visible()
        audit.check(k, "kiosk waiting, cancel dialog", min_font_px=KIOSK_MIN_PX)
        k.get_by_test_id("queue-cancel-no").click()
        # A network blip: the banner shows while the socket is down, and goes when it is back.
        socket.down = True
        socket.routes[-1].close(code=4000, reason="blip")
        banner = k.locator('[data-role="offline-banner"]')
        expect(banner).to_be_visible()
        audit.check(k, "kiosk offline banner", min_font_px=KIOSK_MIN_PX)
        wait_until(k, lambda: len(socket.routes) >= 2, 10)
        socket.down = False
        socket.routes[-1].close(code=4000, reason="still down")
        expect(banner).to_be_hidden(timeout=15000)
        screen(k, "waiting")

        # The caseworker goes available and is offered the resident's ticket.
        console.get_by_test_id("status-available").click()
        expect(console.get_by_test_id("offer")).to_be_visible(timeout=10000)
        audit.check(console, "console offer", min_font_px=CONSOLE_MIN_PX)
        console.get_by_test_id("offer-accept").click()
        screen(k, "call")
        expect(console.get_by_test_id("call-stage")).to_be_visible()
        for page in (k, console):
            remote = page.get_by_test_id("remote-video")
            wait_until(page, lambda remote=remote: remote.evaluate("v => v.videoWidth > 0"), 45)
        expect(console.get_by_test_id("call-quality")).not_to_have_attribute("data-level", "unknown", timeout=8000)
        audit.check(k, "kiosk call", min_font_px=KIOSK_MIN_PX)
        audit.check(console, "console call", min_font_px=CONSOLE_MIN_PX)

        # A document capture: the kiosk's guidance, the console's waiting and review.
        console.locator(f'[data-testid="request-capture"][data-material="{material["name"]}"]').click()
        expect(k.get_by_test_id("capture-guidance")).to_be_visible()
        audit.check(k, "kiosk capture view", min_font_px=KIOSK_MIN_PX)
        review = console.get_by_test_id("capture-image")
        if not review.is_visible():
            expect(console.get_by_test_id("capture-status")).to_be_visible()
            audit.check(console, "console capture waiting", min_font_px=CONSOLE_MIN_PX)
            take_now = console.get_by_test_id("capture-now")
            # The kiosk's auto-capture may take the still meanwhile: then there is nothing to press.
            with contextlib.suppress(PlaywrightTimeoutError):
                take_now.click(timeout=3000)
        expect(review).to_be_visible(timeout=15000)
        wait_until(console, lambda: review.evaluate("i => i.complete && i.naturalWidth > 0"), 10)
        audit.check(console, "console capture review", min_font_px=CONSOLE_MIN_PX)
        console.get_by_test_id("capture-accept").click()
        expect(console.get_by_test_id("capture-review")).to_be_hidden()

        # The outcome: refused without a choice, the transfer form, then 受理 (the server's case number).
        console.get_by_test_id("end-call").click()
        expect(console.get_by_test_id("outcome-error")).to_be_visible()
        audit.check(console, "console outcome (error)", min_font_px=CONSOLE_MIN_PX)
        console.get_by_test_id("outcome-select").select_option("transfer")
        expect(console.get_by_test_id("transfer-skill")).to_be_visible()
        audit.check(console, "console outcome (transfer)", min_font_px=CONSOLE_MIN_PX)
        console.get_by_test_id("outcome-select").select_option("accepted")
        console.get_by_test_id("end-call").click()

        # The resident's end of the call; a bad rating opens a follow-up for the supervisor.
        screen(k, "ended")
        expect(k.get_by_test_id("receipt")).to_be_visible()
        audit.check(k, "kiosk ended", min_font_px=KIOSK_MIN_PX)
        expect(console.get_by_test_id("wrap-up")).to_be_visible()
        expect(k.get_by_test_id("receipt-case-number")).to_have_text(CASE_NUMBER)
        case_number = k.get_by_test_id("receipt-case-number").inner_text()
        expect(console.get_by_test_id("today-sessions")).to_contain_text(case_number)
        audit.check(console, "console wrap-up and sessions list", min_font_px=CONSOLE_MIN_PX)
        k.get_by_test_id("ended-rate").click()
        screen(k, "rating")
        k.locator('[data-testid="rating-option"][data-rating="1"]').click()
        k.locator(".k-chip").first.click()
        audit.check(k, "kiosk rating", min_font_px=KIOSK_MIN_PX)
        k.get_by_test_id("rating-submit").click()
        screen(k, "followup-phone")  # 1 star: the optional 回访 phone
        k.locator('[data-role="revisit-keypad"] [data-key="1"]').click()
        audit.check(k, "kiosk 回访 phone offer", min_font_px=KIOSK_MIN_PX)
        # 大字 on a 1280x800 kiosk: no key is pushed off the side, and what falls below the screen
        # scrolls into reach (the screens scrolled nothing before, and cut the buttons off).
        k.set_viewport_size({"width": 1280, "height": 800})
        k.get_by_test_id("large-toggle").click()
        expect(k.locator("html")).to_have_class("k-large")
        layout = k.evaluate("""() => {
            const screen = document.querySelector('[data-screen="followup-phone"]');
            const keys = [...screen.querySelectorAll('[data-role="revisit-keypad"] button')];
            return {right: Math.max(...keys.map((b) => b.getBoundingClientRect().right)), width: innerWidth,
                    overflow: getComputedStyle(screen).overflowY};
        }""")
        assert layout["right"] <= layout["width"] and layout["overflow"] == "auto", layout
        k.get_by_test_id("followup-phone-skip").scroll_into_view_if_needed()
        expect(k.get_by_test_id("followup-phone-skip")).to_be_in_viewport()
        k.get_by_test_id("large-toggle").click()
        k.set_viewport_size(VIEWPORT)
        k.get_by_test_id("followup-phone-skip").click()
        screen(k, "thanks")
        audit.check(k, "kiosk thanks", min_font_px=KIOSK_MIN_PX)
        console.get_by_test_id("finish-wrap-up").click()
        expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
        audit.check(console, "console idle (available) and sessions list", min_font_px=CONSOLE_MIN_PX)
        console.get_by_test_id("status-offline").click()
        expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "offline")
    finally:
        kiosk_context.close()
        console_context.close()
    audit.assert_clean()


@contextlib.contextmanager
def staff_page(rig: Rig, audit: Audit, errors: list[str], path: str, login: dict[str, Any], *,
               screen: str) -> Iterator[Page]:
    """A staff page at 1366x768: its sign-in form checked as `screen`, then signed in."""
    context, page = new_page(rig.staff_browser, errors, path)
    try:
        page.goto(rig.server.url + path)
        expect(page.get_by_test_id("login-submit")).to_be_visible()
        audit.check(page, screen)
        sign_in(page, login)
        yield page
    finally:
        context.close()


def test_supervisor_dashboard(rig: Rig, audit: Audit, errors: list[str]) -> None:
    login = rig.server.demo["supervisors"][0]
    with staff_page(rig, audit, errors, "/supervisor", login, screen="supervisor sign-in") as page:
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector("[data-testid='connection'][data-state='live']")
        page.wait_for_selector("body[data-loaded='1']")  # kiosks, reports and follow-ups are in
        expect(page.get_by_test_id("kiosk-status").first).to_be_visible()
        audit.check(page, "supervisor board")
        shots(page, "supervisor-board")
        page.get_by_test_id("report-by").select_option("hour")
        page.get_by_test_id("report-run").click()
        page.wait_for_selector("[data-testid='report-table'] tbody tr")
        page.locator("#reports").scroll_into_view_if_needed()
        audit.check(page, "supervisor reports")
        items = page.get_by_test_id("followup-item")
        if items.count():
            items.first.get_by_test_id("followup-resolve").click()
            expect(items.first.locator(".s-error")).to_be_visible()
        page.locator("#followups").scroll_into_view_if_needed()
        audit.check(page, "supervisor follow-ups")
    audit.assert_clean()


def test_admin_sections(rig: Rig, audit: Audit, errors: list[str]) -> None:
    with staff_page(rig, audit, errors, "/admin", rig.server.demo["admin"], screen="admin sign-in") as page:
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        for name in ADMIN_SECTIONS:
            page.get_by_test_id("admin-nav").locator(f'[data-section="{name}"]').click()
            expect(page.locator(f'main [data-section="{name}"]')).to_be_visible()
            if name == "kiosks":
                page.get_by_test_id("kiosk-add").click()
                expect(page.get_by_test_id("kiosk-token")).not_to_be_empty()
            elif name == "catalog":
                # The whole list (it scrolls), and a matter opened from the keyboard for editing.
                page.locator('[data-role="matters"] [data-matter-id] button').first.focus()
                page.keyboard.press("Enter")
                expect(page.get_by_test_id("matter-edit")).to_be_visible()
            elif name == "audit":
                expect(page.get_by_test_id("audit-row").first).to_be_visible()
            elif name == "staff":
                expect(page.get_by_test_id("user-row").first).to_be_visible()
            elif name == "hours":
                expect(page.get_by_test_id("hours-day")).to_have_count(7)
                expect(page.get_by_test_id("hours-preview").locator("li")).to_have_count(14)
            else:
                expect(page.locator('[data-role="sites"] tr').first).to_be_visible()
            # The site, kiosk and staff tables run to hundreds of rows of one template: 30 of each.
            audit.check(page, f"admin {name}", table_rows=30)
    audit.assert_clean()


def test_the_docs_list_exactly_the_screens_walked() -> None:
    """docs/accessibility.md's table of screens and the names checked above are the same list."""
    doc = (ROOT / "docs" / "accessibility.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    checked = r'(?:audit\.check\(\w+, |(?<![-\w])screen=)"([^"]+)"'
    walked = set(re.findall(checked, Path(__file__).read_text(encoding="utf-8")))
    walked |= {f"admin {name}" for name in ADMIN_SECTIONS}
    assert len(walked) >= 30
    assert listed == walked, f"only in the docs: {listed - walked}; only in the walk: {walked - listed}"


# ---- the helpers themselves: they find what they should, offline -------------------------------

BEFORE = """<!doctype html><html lang="zh-CN"><head><title>t</title></head><body><main>
<p><span style="background:#f2f2f2;color:#999;font-size:12.8px">离线</span></p>
<ul style="max-height:3rem;overflow:auto">{items}</ul>
<select><option>全部</option></select>
</main></body></html>"""
AFTER = """<!doctype html><html lang="zh-CN"><head><title>t</title></head><body><main>
<p><span style="background:#f2f2f2;color:#5a5a5a;font-size:14px">离线</span></p>
<ul style="max-height:3rem;overflow:auto" tabindex="0" aria-label="终端状态">{items}</ul>
<select aria-label="受理中心" style="font-size:14px"><option style="font-size:8px">全部</option></select>
<p hidden style="font-size:9px">隐藏</p><p style="display:none;font-size:9px">不显示</p>
<p style="visibility:hidden;font-size:9px">看不见</p><p style="opacity:0;font-size:9px">透明</p>
<p style="font-size:10px">   </p>
</main></body></html>"""
ITEMS = "".join(f"<li>终端 {n}</li>" for n in range(20))


def test_helpers_find_the_old_faults_without_the_network(rig: Rig, errors: list[str]) -> None:
    context, page = new_page(rig.staff_browser, errors, "helpers")
    requests: list[str] = []
    try:
        # Nothing may leave the browser: axe-core comes from the installed package, not a CDN.
        context.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
        page.set_content(BEFORE.format(items=ITEMS))
        with pytest.raises(AssertionError) as failed:
            assert_accessible(page, "old faults")
        report = str(failed.value)
        for rule in ("color-contrast (serious", "scrollable-region-focusable (serious", "select-name (critical"):
            assert rule in report, report
        assert report.startswith("old faults: 3 rule(s) violated"), report
        with pytest.raises(AssertionError, match=r"12\.8 px .*below 14 px"):
            assert_min_font(page, "old faults", 14)

        page.set_content(AFTER.format(items=ITEMS))
        assert_accessible(page, "fixed")
        assert_min_font(page, "fixed", 14)  # hidden, transparent and blank text and options do not count
        assert smallest_text(page).px == 14
        assert requests == []
    finally:
        context.close()
