"""The kiosk before it queues, in Debian chromium with a fixed service clock: a closed centre shows
its next opening and gives no ticket; an open one with nobody signed in says so and lets the resident
queue anyway, and a ticket nobody can serve is ended with a notice; a priority chosen at the kiosk
reaches the caseworker's offer, and a 2-star rating after that call offers to leave a number for
the 回访."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import kiosk_harness
from tests.kiosk_harness import (
    Caseworker,
    Server,
    caseworker_for,
    pass_optional_steps,
    quick_to_device_check,
    run_server,
    screen,
    shoot,
)

pytestmark = pytest.mark.browser

browser = kiosk_harness.browser
page = kiosk_harness.page

HOLIDAY_MORNING = "2026-02-16T10:00:00+08:00"  # 春节 2026, a Monday: next opening Tue 2月24日 09:00
WORKING_MORNING = "2026-03-02T10:00:00+08:00"  # an ordinary Monday


def _staff_get(server: Server, login: dict[str, Any], path: str) -> Any:
    """GET an API document as a signed-in staff member."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    body = json.dumps({"username": login["username"], "password": login["password"]}).encode()
    opener.open(urllib.request.Request(f"{server.url}/api/v1/auth/login", data=body, method="POST", headers={
        "Content-Type": "application/json", "Origin": server.url}), timeout=10).close()
    with opener.open(f"{server.url}{path}", timeout=10) as response:
        return json.load(response)


@contextlib.contextmanager
def _board(kiosk: Page, server: Server) -> Iterator[Page]:
    """The supervisor board, signed in, in a context of its own (its own cookies)."""
    login = server.demo["supervisors"][0]
    browser = kiosk.context.browser
    assert browser is not None
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    board = context.new_page()
    try:
        board.goto(f"{server.url}/supervisor")
        board.get_by_test_id("login-username").fill(login["username"])
        board.get_by_test_id("login-password").fill(login["password"])
        board.get_by_test_id("login-submit").click()
        yield board
    finally:
        context.close()


def _supervisor_takes_it(kiosk: Page, server: Server, callback_id: int) -> None:
    """The supervisor board lists the callback masked; taking it shows the number in full."""
    with _board(kiosk, server) as board:
        item = board.locator(f'[data-testid="callback-item"][data-callback-id="{callback_id}"]')
        expect(item).to_have_attribute("data-state", "open", timeout=20000)
        expect(item.get_by_test_id("callback-phone-shown")).to_have_text("138****1234")
        item.get_by_test_id("callback-take").click()
        expect(item).to_have_attribute("data-state", "taken")
        expect(board.locator(f'[data-testid="callback-item"][data-callback-id="{callback_id}"]')
               .get_by_test_id("callback-phone-shown")).to_have_text("13812341234")


def _with_hours(server: Server) -> None:
    """Every demo centre works 09:00-17:00 Monday to Friday with a lunch break, set as the district
    administrator does through the admin API (one sign-in; the CLI's own test covers `jinglin hours`)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    headers = {"Content-Type": "application/json", "Origin": server.url}
    login = server.demo["admin"]
    body = json.dumps({"username": login["username"], "password": login["password"]}).encode()
    opener.open(urllib.request.Request(f"{server.url}/api/v1/auth/login", data=body, method="POST",
                                       headers=headers), timeout=10).close()
    week = json.dumps({"days": [{"weekday": day, "opens": "09:00", "closes": "17:00", "lunch_start": "12:00",
                                 "lunch_end": "13:00"} for day in range(5)]}).encode()
    centres = {kiosk["street"] for kiosk in server.demo["kiosks"]}
    for centre_id in range(1, len(centres) + 1):
        request = urllib.request.Request(f"{server.url}/api/v1/admin/centres/{centre_id}/hours", data=week,
                                         method="PUT", headers=headers)
        with opener.open(request, timeout=10) as response:
            assert response.status == 200


@pytest.fixture(scope="module")
def closed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("closed"), JINGLIN_CLOCK_START=HOLIDAY_MORNING) as running:
        _with_hours(running)
        yield running


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("open"), JINGLIN_CLOCK_START=WORKING_MORNING,
                    JINGLIN_NO_STAFF_GRACE_S="1") as running:
        _with_hours(running)
        yield running


def _to_availability(page: Page, server: Server, kiosk: dict[str, Any]) -> dict[str, Any]:
    """Walk a kiosk from the start screen through the device check; returns the matter."""
    matter = kiosk_harness.pick_matter(server)
    quick_to_device_check(page, server.url, kiosk, matter)
    page.get_by_test_id("device-check-continue").click()
    pass_optional_steps(page, shots=False, choose=False)  # the consent notice, when shown
    screen(page, "availability")
    return matter


def test_closed_kiosk_shows_the_next_opening_and_gives_no_ticket(closed_server: Server, page: Page) -> None:
    _to_availability(page, closed_server, closed_server.demo["kiosks"][0])
    notice = page.get_by_test_id("closed-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_attribute("data-next-open", "2026-02-24T09:00:00+08:00")
    expect(notice).to_contain_text("2月24日（周二）09:00 开始服务")
    expect(page.get_by_test_id("priority-none")).to_be_hidden()
    expect(page.get_by_test_id("priority-option")).to_have_count(3)
    expect(page.get_by_test_id("priority-option").first).to_be_hidden()
    shoot(page, "hours-closed")
    # 回电: a phone number on the big keypad, seen by a supervisor (masked).
    notice.get_by_test_id("callback-request").click()
    screen(page, "callback")
    for key in "1381234123":
        page.locator(f'[data-role="callback-keypad"] [data-key="{key}"]').click()
    page.get_by_test_id("callback-submit").click()
    expect(page.locator('[data-role="callback-error"]')).to_contain_text("11位手机号")  # one digit short
    page.locator('[data-role="callback-keypad"] [data-key="4"]').click()
    expect(page.get_by_test_id("callback-phone")).to_have_value("13812341234")
    when = page.get_by_test_id("callback-preferred")
    expect(when).to_have_count(3)
    expect(when.first).to_have_attribute("aria-pressed", "true")  # 都可以 unless the resident says
    when.nth(2).click()
    expect(when.nth(2)).to_have_attribute("aria-pressed", "true")
    expect(when.first).to_have_attribute("aria-pressed", "false")
    shoot(page, "hours-callback")
    page.get_by_test_id("callback-submit").click()
    expect(page.get_by_test_id("callback-done")).to_be_visible()
    # Due an hour after the next opening (Tue 2月24日 09:00), said as the resident says it.
    expect(page.get_by_test_id("callback-done")).to_have_attribute("data-due", "2026-02-24T10:00:00+08:00")
    expect(page.get_by_test_id("callback-done")).to_contain_text("工作人员会在2月24日（周二）10:00前给您回电")
    shoot(page, "hours-callback-done")
    items = _staff_get(closed_server, closed_server.demo["supervisors"][0], "/api/v1/callbacks?state=open")["items"]
    assert [(item["phone"], item["state"], item["preferred"]) for item in items] == [("138****1234", "open", "下午")]
    _supervisor_takes_it(page, closed_server, items[0]["id"])
    page.reload()  # the server knows of no ticket: the kiosk comes back to the start
    screen(page, "start")


def test_open_with_nobody_signed_in_says_so_and_queues_anyway(open_server: Server, page: Page) -> None:
    _to_availability(page, open_server, open_server.demo["kiosks"][1])
    notice = page.get_by_test_id("no-staff-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_attribute("data-state", "no_staff")
    expect(page.get_by_test_id("priority-none")).to_have_text("仍然排队等候")
    shoot(page, "hours-no-staff")
    page.get_by_test_id("priority-none").click()
    screen(page, "waiting")
    expect(page.get_by_test_id("queue-ticket")).not_to_be_empty()
    # Nobody signs in: the server's sweep (every 15 s, grace 1 s here) ends the ticket and says so.
    ended = page.locator('[data-testid="no-staff-notice"][data-state="ended"]')
    expect(ended).to_be_visible(timeout=40000)
    expect(ended).to_contain_text("本次排队已结束")
    shoot(page, "hours-ended")
    page.locator('[data-role="availability-ended"] [data-action="home"]').click()
    screen(page, "start")


def test_priority_chosen_at_the_kiosk_reaches_the_offer(open_server: Server, browser: Browser) -> None:
    kiosk = open_server.demo["kiosks"][0]
    matter = kiosk_harness.pick_matter(open_server)
    person = caseworker_for(open_server.demo, kiosk["street"], matter["skill"])
    caseworker = Caseworker(open_server.url, person["username"], person["password"])
    try:
        caseworker.sign_in_available()
        with kiosk_harness.kiosk_page(browser) as page:
            _to_availability(page, open_server, kiosk)
            expect(page.get_by_test_id("no-staff-notice")).to_be_hidden()
            expect(page.get_by_test_id("availability-wait")).to_contain_text("预计等待约")
            shoot(page, "hours-priority")
            page.locator('[data-testid="priority-option"][data-priority="elderly"]').click()
            caseworker.accept_next_offer()
            assert caseworker.offer is not None and caseworker.offer["priority"] == "elderly"
            screen(page, "call")
            caseworker.end_call("completed")
            _revisit_phone(page, open_server)
    finally:
        caseworker.close()


def _revisit_phone(page: Page, server: Server) -> None:
    """A 2-star rating offers to leave a number for the 回访; the supervisors get it masked."""
    screen(page, "ended")
    page.get_by_test_id("ended-rate").click()
    page.locator('[data-testid="rating-option"][data-rating="2"]').click()
    page.get_by_test_id("rating-submit").click()
    screen(page, "followup-phone")
    expect(page.get_by_test_id("followup-phone-notice")).to_contain_text("只用于这次服务的回访")
    expect(page.get_by_test_id("followup-phone-skip")).to_be_visible()  # optional
    keypad = page.locator('[data-role="revisit-keypad"]')
    for key in "0211234567":
        keypad.locator(f'[data-key="{key}"]').click()
    page.get_by_test_id("followup-phone-submit").click()
    expect(page.locator('[data-role="revisit-error"]')).to_contain_text("带区号的固定电话")  # 021 needs 8 digits
    keypad.locator('[data-key="8"]').click()
    expect(page.locator('[data-role="revisit-error"]')).to_be_hidden()
    expect(page.get_by_test_id("followup-phone")).to_have_value("02112345678")
    shoot(page, "hours-revisit-phone")
    page.get_by_test_id("followup-phone-submit").click()
    expect(page.get_by_test_id("followup-phone-done")).to_be_visible()
    expect(page.get_by_test_id("followup-phone-done")).to_contain_text("下一个工作日内")
    shoot(page, "hours-revisit-phone-done")
    items = _staff_get(server, server.demo["supervisors"][0], "/api/v1/callbacks?state=open")["items"]
    [left] = [i for i in items if i["kind"] == "followup"]
    assert left["phone"] == "021-****5678"
    with _board(page, server) as board:  # the supervisors' 回电 list marks it 差评回访
        item = board.locator(f'[data-testid="callback-item"][data-callback-id="{left["id"]}"]')
        expect(item.get_by_test_id("callback-kind")).to_have_text("差评回访", timeout=20000)
        expect(item.get_by_test_id("callback-phone-shown")).to_have_text("021-****5678")
    page.locator('[data-screen="followup-phone"] [data-action="home"]').click()
    screen(page, "start")
