"""The resident's whole path at the kiosk, in Debian chromium with a fake camera and microphone,
against the real server and a caseworker played by Python (aiortc offerer): start → search →
matter → device check → queue → video call (remote video really playing) → ended → rating.
Also: a reload while waiting keeps the ticket, and cancelling leaves the queue.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import kiosk_harness
from tests.held_messages import HeldMessage, NetworkOutage
from tests.kiosk_harness import (
    Caseworker,
    Server,
    caseworker_for,
    get_json,
    join_queue,
    screen,
    shoot,
    wait_until,
)

pytestmark = pytest.mark.browser

# The shared fixtures (a seeded server, chromium, a fresh kiosk page, a matter), one set per module.
server = kiosk_harness.server
browser = kiosk_harness.browser
page = kiosk_harness.page
matter = kiosk_harness.matter

def test_whole_path_with_video_call_and_rating(page: Page, server: Server, matter: dict[str, Any]) -> None:
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    caseworker = Caseworker(server.url, login["username"], login["password"])
    try:
        caseworker.sign_in_available()
        join_queue(page, server, kiosk, matter, shots=True)
        shoot(page, "06-waiting")
        caseworker.accept_next_offer()
        screen(page, "call")
        remote = page.get_by_test_id("remote-video")
        wait_until(page, lambda: remote.evaluate("v => v.videoWidth") > 0, 20)
        first = remote.evaluate("v => v.currentTime")
        page.wait_for_timeout(1200)
        assert remote.evaluate("v => v.currentTime") > first, "remote video must keep playing"
        assert page.get_by_test_id("local-video").evaluate("v => v.videoWidth") > 0
        expect(page.get_by_test_id("call-quality")).not_to_have_attribute("data-level", "unknown", timeout=10000)
        expect(page.get_by_test_id("capture-guidance")).to_be_hidden()
        page.get_by_test_id("call-mute").click()
        expect(page.get_by_test_id("call-mute")).to_have_attribute("aria-pressed", "true")
        shoot(page, "07-call-muted")
        page.get_by_test_id("call-mute").click()
        shoot(page, "07-call")

        caseworker.end_call("accepted")
        screen(page, "ended")
        expect(page.locator('[data-role="ended-outcome"]')).to_have_text("您的申请已受理")
        shoot(page, "08-ended")
        # Reloaded while the outcome is on show: it comes back (the receipt with it), then the rating.
        case_number = page.get_by_test_id("receipt-case-number")
        expect(case_number).to_have_text(re.compile(r"^JA-"))
        number = case_number.text_content()
        page.reload()
        screen(page, "ended")
        expect(page.locator('[data-role="ended-outcome"]')).to_have_text("您的申请已受理")
        expect(case_number).to_have_text(number or "")
        page.get_by_test_id("ended-rate").click()
        screen(page, "rating")
        expect(page.get_by_test_id("rating-option")).to_have_count(5)
        page.locator('[data-testid="rating-option"][data-rating="5"]').click()
        page.locator(".k-chip", has_text="态度好").click()
        page.get_by_test_id("rating-comment").fill("谢谢")
        shoot(page, "09-rating")
        page.get_by_test_id("rating-submit").click()
        screen(page, "thanks")
        shoot(page, "10-thanks")
        page.reload()  # past the ended screen: a reload starts at home
        screen(page, "start")
    finally:
        caseworker.close()


def test_offer_ahead_of_call_still_shows_the_caseworker(page: Page, server: Server, matter: dict[str, Any]) -> None:
    """The caseworker's offer overtakes the kiosk's `call` (another server process relays it first):
    the peer prepared while the ticket was offered answers it and shows the caseworker, and the
    late `call` adopts that peer without blanking the remote video."""
    kiosk = server.demo["kiosks"][2]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    held = HeldMessage("call")  # let the offer go ahead of it
    page.route_web_socket("**/api/v1/ws", held.relay)
    caseworker = Caseworker(server.url, login["username"], login["password"])
    try:
        caseworker.sign_in_available()
        join_queue(page, server, kiosk, matter, shots=False)
        caseworker.accept_next_offer()
        remote = page.get_by_test_id("remote-video")
        # The prepared peer answered the offer and its track reached the video before `call` did.
        wait_until(page, lambda: caseworker.kiosk_answered.is_set(), 20)
        wait_until(page, lambda: remote.evaluate("v => v.srcObject !== null"), 20)
        held.release()
        screen(page, "call")
        wait_until(page, lambda: remote.evaluate("v => v.videoWidth > 0 && v.currentTime > 0"), 20)
        first = remote.evaluate("v => v.currentTime")
        page.wait_for_timeout(1200)
        assert remote.evaluate("v => v.currentTime") > first, "remote video must keep playing"
        # The peer connected before the call screen showed: no "connecting" notice over the video.
        expect(page.locator('[data-screen="call"] [data-role="call-overlay"]')).to_be_hidden()
        caseworker.end_call("accepted")
        screen(page, "ended")
    finally:
        caseworker.close()


def test_an_offer_that_came_before_any_prepared_peer_is_answered(
        page: Page, server: Server, matter: dict[str, Any]) -> None:
    """The caseworker's offer overtakes `call`, and no peer was prepared for it (the `ticket`
    saying "offered" is lost here, as when the camera is still opening): the offer waits for
    `call`, which answers it. (It used to be cleared with the previous call's leftovers.)"""
    kiosk = server.demo["kiosks"][4]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    held = HeldMessage("call", drop=lambda m: m.get("type") == "ticket" and m["ticket"]["state"] == "offered")
    page.route_web_socket("**/api/v1/ws", held.relay)
    caseworker = Caseworker(server.url, login["username"], login["password"])
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("warning", "error") else None)
    try:
        join_queue(page, server, kiosk, matter, shots=False)  # nobody available: it waits
        caseworker.sign_in_available()
        caseworker.accept_next_offer()  # its offer goes out once its own `call` is in
        wait_until(page, lambda: bool(held.held), 10)
        page.wait_for_timeout(1500)  # the offer and candidates reach the page ahead of `call`
        assert held.dropped >= 1 and not caseworker.kiosk_answered.is_set()
        held.release()
        screen(page, "call")
        wait_until(page, lambda: caseworker.kiosk_answered.is_set(), 20)
        remote = page.get_by_test_id("remote-video")
        video_state = ("v => `video ${v.videoWidth}x${v.videoHeight} at ${v.currentTime}, ready ${v.readyState}, `"
                       " + `paused ${v.paused}, tracks ${v.srcObject ? v.srcObject.getTracks().length : 'none'}`")
        wait_until(page, lambda: remote.evaluate("v => v.videoWidth > 0 && v.currentTime > 0"), 30,
                   lambda: f"{remote.evaluate(video_state)}; caseworker {caseworker.connection_report()}; "
                           f"kiosk console {console[-8:]}")
        caseworker.end_call("accepted")
        screen(page, "ended")
    finally:
        caseworker.close()


def test_a_call_transferred_while_the_kiosk_was_offline_goes_back_to_waiting(
        page: Page, server: Server, matter: dict[str, Any]) -> None:
    """The kiosk's socket is down when the caseworker transfers the call, so its `call_ended` goes
    nowhere: on reconnecting, the welcome has the ticket back in line and no call, and the kiosk
    leaves the call screen for the waiting screen with the same number."""
    other_skill = next(m["skill"] for m in get_json(f"{server.url}/api/v1/matters")["matters"]
                       if m["skill"] != matter["skill"])
    with _in_call_then_offline(page, server, matter, 5) as (caseworker, outage, number):
        caseworker.transfer(other_skill, "请其他窗口办理")
        outage.end()
        screen(page, "waiting", timeout=20000)
        expect(page.get_by_test_id("queue-ticket")).to_have_text(number)
        expect(page.locator('[data-role="waiting-note"]')).to_have_text("刚才的通话已中断，已为您继续排队，号码不变")
        expect(page.get_by_test_id("remote-video")).to_be_hidden()
        page.get_by_test_id("queue-cancel").click()
        page.get_by_test_id("queue-cancel-confirm").click()
        screen(page, "start")


def test_a_call_ended_while_the_kiosk_was_offline_still_shows_its_outcome(
        page: Page, server: Server, matter: dict[str, Any]) -> None:
    """The caseworker accepts the application while the kiosk's socket is down, so `call_ended`
    (outcome, 受理编号) goes nowhere and the welcome has neither call nor ticket: the kiosk reads
    what came of the call and shows the ended screen with the receipt before the rating, as if it
    had never been away."""
    with _in_call_then_offline(page, server, matter, 6) as (caseworker, outage, _):
        caseworker.end_call("accepted")  # the 受理编号 is issued by the server
        outage.end()
        screen(page, "ended", timeout=20000)
        expect(page.locator('[data-role="ended-outcome"]')).to_have_text("您的申请已受理")
        expect(page.get_by_test_id("receipt-case-number")).to_have_text(re.compile(r"^JA-"))
        expect(page.get_by_test_id("remote-video")).to_be_hidden()
        page.get_by_test_id("ended-rate").click()
        screen(page, "rating")


@contextlib.contextmanager
def _in_call_then_offline(page: Page, server: Server, matter: dict[str, Any],
                          kiosk_index: int) -> Iterator[tuple[Caseworker, NetworkOutage, str]]:
    """Demo kiosk `kiosk_index` in a call with a Python caseworker, then its WebSocket cut off (the
    page already trying again into the outage); yields the caseworker, the outage and the number."""
    kiosk = server.demo["kiosks"][kiosk_index]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    outage = NetworkOutage()
    page.route_web_socket("**/api/v1/ws", outage.relay)
    caseworker = Caseworker(server.url, login["username"], login["password"])
    try:
        caseworker.sign_in_available()
        number = join_queue(page, server, kiosk, matter, shots=False)
        caseworker.accept_next_offer()
        screen(page, "call")
        outage.start()
        wait_until(page, lambda: len(outage.sockets) >= 2, 10)  # the page tries again, into the outage
        # In a call the banner promises no kept number (that is for the line), only to wait.
        expect(page.locator('[data-role="offline-banner"]')).to_have_text("网络中断，正在重新连接…请不要离开")
        yield caseworker, outage, number
    finally:
        caseworker.close()


def test_reload_keeps_the_ticket_and_cancel_leaves(page: Page, server: Server, matter: dict[str, Any]) -> None:
    kiosk = server.demo["kiosks"][1]
    number = join_queue(page, server, kiosk, matter, shots=False)
    page.reload()
    screen(page, "waiting")
    expect(page.get_by_test_id("queue-ticket")).to_have_text(number)
    page.get_by_test_id("queue-cancel").click()
    expect(page.get_by_test_id("queue-cancel-confirm")).to_be_visible()
    shoot(page, "11-cancel-confirm")
    page.get_by_test_id("queue-cancel-no").click()
    screen(page, "waiting")
    page.get_by_test_id("queue-cancel").click()
    # An elderly double tap: the first tap takes the kiosk home, and the second (a double click's
    # second click, detail 2) must not land on what the start screen has in that place (咨询).
    box = page.get_by_test_id("queue-cancel-confirm").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    screen(page, "start")
    page.mouse.down(click_count=2)  # the double tap's second press: a click with detail 2
    page.mouse.up(click_count=2)
    page.wait_for_timeout(700)
    screen(page, "start")
    page.reload()
    screen(page, "start")  # the server holds no open ticket any more


def test_the_browsers_back_stays_in_the_kiosk(page: Page, server: Server) -> None:
    """Back (a key or an edge swipe) is the screen's own 返回, never a way out to a blank page."""
    page.goto(f"{server.url}/kiosk?token={server.demo['kiosks'][3]['token']}")
    screen(page, "start")
    page.get_by_test_id("start-handle").click()
    screen(page, "catalog")
    page.go_back()
    screen(page, "start")
    page.go_back()  # nothing further back: the kiosk stays where it is
    screen(page, "start")
    assert page.url.startswith(f"{server.url}/kiosk")


def test_unregistered_terminal(page: Page, server: Server, tmp_path: Path) -> None:
    page.goto(f"{server.url}/kiosk")
    expect(page.locator('section[data-screen="boot"] h1')).to_have_text("本终端尚未登记")
    shoot(page, "00-not-registered")
    page.goto(f"{server.url}/kiosk?token={'x' * 43}")
    expect(page.locator('section[data-screen="boot"] h1')).to_have_text("本终端尚未登记")
    assert "token=" not in page.url
