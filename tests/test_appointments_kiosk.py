"""预约 in Debian chromium with a fixed service clock: a resident books a slot at one kiosk (day, slot,
phone on the keypad, confirm, the code shown big), checks in with the code at another kiosk, and the
caseworker's offer carries the priority `appointment`; the supervisor sees it in the day's list.
axe runs on every new kiosk screen, and each is photographed at 1920x1080 and 1366x768."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import kiosk_harness
from tests.accessibility import assert_accessible, assert_min_font
from tests.kiosk_harness import (
    ROOT,
    Caseworker,
    Server,
    caseworker_for,
    pass_optional_steps,
    quick_to_device_check,
    run_server,
    screen,
)
from tests.test_hours_kiosk import _staff_get, _with_hours

pytestmark = pytest.mark.browser

browser = kiosk_harness.browser

MONDAY_MORNING = "2026-03-02T10:00:00+08:00"  # an ordinary Monday: the 10:30 slot is the first free one
SHOTS = ROOT / "artifacts" / "screenshots" / "appointments"
KIOSK_MIN_PX = 24  # docs/accessibility.md: kiosk text at 1366x768


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("appointments"), JINGLIN_CLOCK_START=MONDAY_MORNING) as running:
        _with_hours(running)
        yield running


def _look(page: Page, name: str) -> None:
    """axe on the screen, the smallest text at 1366x768, and screenshots at both sizes."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1920, 1080), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
    assert_accessible(page, f"kiosk {name}")
    assert_min_font(page, f"kiosk {name}", KIOSK_MIN_PX)
    page.set_viewport_size({"width": 1920, "height": 1080})


def _keypad(page: Page, keypad: str, digits: str) -> None:
    for key in digits:
        page.locator(f'[data-role="{keypad}"] [data-key="{key}"]').click()


def _book(page: Page, server: Server, kiosk: dict[str, Any], matter: dict[str, Any]) -> str:
    """From the no-staff notice to the code; returns the code shown."""
    quick_to_device_check(page, server.url, kiosk, matter)
    page.get_by_test_id("device-check-continue").click()
    pass_optional_steps(page, shots=False, choose=False)
    screen(page, "availability")
    expect(page.locator('[data-testid="priority-option"][data-priority="appointment"]')).to_be_visible()
    _look(page, "appointment-offer")
    page.get_by_test_id("no-staff-notice").get_by_test_id("appointment-book").click()
    screen(page, "appointment")
    slots = page.get_by_test_id("appointment-slot")
    expect(slots.first).to_have_attribute("data-slot", "2026-03-02T10:30:00+08:00")  # 09:00-10:00 have begun
    expect(page.locator('[data-slot="2026-03-02T10:00:00+08:00"]')).to_have_count(0)
    expect(page.locator('[data-testid="appointment-day"][aria-pressed="true"]')).to_have_text("今天")
    _look(page, "appointment-slots")
    slots.first.click()
    screen(page, "appointment-phone")
    _keypad(page, "appointment-keypad", "1381234123")
    page.get_by_test_id("appointment-phone-next").click()
    expect(page.locator('[data-role="appointment-phone-error"]')).to_contain_text("11位手机号")  # one digit short
    _keypad(page, "appointment-keypad", "4")
    expect(page.get_by_test_id("appointment-phone")).to_have_value("13812341234")
    _look(page, "appointment-phone")
    page.get_by_test_id("appointment-phone-next").click()
    screen(page, "appointment-confirm")
    expect(page.locator('[data-role="appointment-sum-time"]')).to_have_text("今天 10:30–11:00")
    _look(page, "appointment-confirm")
    page.get_by_test_id("appointment-confirm").click()
    screen(page, "appointment-done")
    code = page.get_by_test_id("appointment-code")
    expect(code.locator("span")).to_have_count(6)
    expect(page.locator('[data-role="appointment-done-hint"]')).to_contain_text("今天 10:00 到 10:45")
    _look(page, "appointment-code")
    text = code.inner_text().replace("\n", "").replace(" ", "")
    assert len(text) == 6 and text.isdigit(), text
    assert code.get_attribute("aria-label") == f"预约码 {' '.join(text)}"
    page.locator('[data-screen="appointment-done"] [data-action="home"]').click()
    screen(page, "start")
    expect(page.get_by_test_id("appointment-phone")).to_have_value("")  # nothing left for the next resident
    return text


def _staff_page(browser: Browser, server: Server, path: str, login: dict[str, Any]) -> tuple[Any, Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # its own cookies
    page = context.new_page()
    page.goto(f"{server.url}{path}")
    page.get_by_test_id("login-username").fill(login["username"])
    page.get_by_test_id("login-password").fill(login["password"])
    page.get_by_test_id("login-submit").click()
    return context, page


def _staff_see_it(browser: Browser, server: Server, street: str, appointment_id: int, busy: str) -> None:
    """The supervisor board and a caseworker's console list the day's appointment, number masked."""
    context, board = _staff_page(browser, server, "/supervisor", server.demo["supervisors"][0])
    try:
        item = board.locator(f'[data-testid="appointment-item"][data-appointment-id="{appointment_id}"]')
        expect(item).to_have_attribute("data-state", "checked_in", timeout=20000)
        expect(item.get_by_test_id("appointment-phone-shown")).to_have_text("138****1234")
        item.scroll_into_view_if_needed()
        board.screenshot(path=str(SHOTS / "supervisor-appointments-1366x768.png"))
        assert_accessible(board, "supervisor appointments", selector="#appointments")
    finally:
        context.close()
    login = next(c for c in server.demo["caseworkers"] if c["centre"].startswith(street) and c["username"] != busy)
    context, console = _staff_page(browser, server, "/agent", login)
    try:
        item = console.locator(f'[data-testid="appointment-item"][data-appointment-id="{appointment_id}"]')
        expect(item).to_have_attribute("data-state", "checked_in", timeout=20000)
        expect(item).to_contain_text("138****1234")
        console.screenshot(path=str(SHOTS / "console-appointments-1366x768.png"))
        assert_accessible(console, "console appointments", selector='[data-testid="appointments-panel"]')
    finally:
        context.close()


def test_book_at_one_kiosk_and_check_in_at_another(server: Server, browser: Browser) -> None:
    first, second = server.demo["kiosks"][0], server.demo["kiosks"][1]
    matter = kiosk_harness.pick_matter(server)
    with kiosk_harness.kiosk_page(browser) as page:
        code = _book(page, server, first, matter)  # nobody signed in: the no-staff notice offers 预约
    person = caseworker_for(server.demo, second["street"], matter["skill"])
    caseworker = Caseworker(server.url, person["username"], person["password"])
    try:
        caseworker.sign_in_available()
        with kiosk_harness.kiosk_page(browser) as page:
            page.goto(f"{server.url}/kiosk?token={second['token']}")
            page.get_by_test_id("appointment-checkin").click()
            screen(page, "checkin")
            _keypad(page, "checkin-keypad", "000000" if code != "000000" else "111111")
            page.get_by_test_id("appointment-checkin-submit").click()
            expect(page.locator('[data-role="checkin-error"]')).to_contain_text("没有找到这个预约码")
            for _ in range(6):
                page.locator('[data-role="checkin-keypad"] [data-key="del"]').click()
            _keypad(page, "checkin-keypad", code)
            expect(page.get_by_test_id("appointment-code-input")).to_have_value(code)
            _look(page, "appointment-checkin")
            page.get_by_test_id("appointment-checkin-submit").click()
            caseworker.accept_next_offer()
            assert caseworker.offer is not None and caseworker.offer["priority"] == "appointment"
            screen(page, "call")
    finally:
        caseworker.close()
    items = _staff_get(server, server.demo["supervisors"][0], "/api/v1/appointments?date=2026-03-02")["items"]
    assert [(i["code"], i["state"], i["phone"]) for i in items] == [(code, "checked_in", "138****1234")]
    _staff_see_it(browser, server, first["street"], items[0]["id"], person["username"])
