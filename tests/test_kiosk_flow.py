"""The resident's whole path at the kiosk, in Debian chromium with a fake camera and microphone,
against the real server and a caseworker played by Python (aiortc offerer): start → search →
matter → device check → queue → video call (remote video really playing) → ended → rating.
Also: a reload while waiting keeps the ticket, and cancelling leaves the queue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import kiosk_harness
from tests.held_messages import HeldMessage
from tests.kiosk_harness import (
    Caseworker,
    Server,
    caseworker_for,
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
    page.get_by_test_id("queue-cancel-confirm").click()
    screen(page, "start")
    page.reload()
    screen(page, "start")  # the server holds no open ticket any more


def test_unregistered_terminal(page: Page, server: Server, tmp_path: Path) -> None:
    page.goto(f"{server.url}/kiosk")
    expect(page.locator('section[data-screen="boot"] h1')).to_have_text("本终端尚未登记")
    shoot(page, "00-not-registered")
    page.goto(f"{server.url}/kiosk?token={'x' * 43}")
    expect(page.locator('section[data-screen="boot"] h1')).to_have_text("本终端尚未登记")
    assert "token=" not in page.url
