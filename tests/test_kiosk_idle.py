"""Kiosk behaviour without a caseworker: the idle timeout forgets the resident, 大字 mode, and a
network blip while waiting keeps the place in line (the WebSocket is cut through Playwright's
WebSocket routing; the client resumes and gets the same ticket back).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import kiosk_harness
from tests.held_messages import NetworkOutage
from tests.kiosk_harness import (
    SEARCH,
    Server,
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

IDLE_S = 3


def test_idle_timeout_clears_the_screen(page: Page, server: Server, matter: dict[str, Any]) -> None:
    kiosk = server.demo["kiosks"][2]
    page.goto(f"{server.url}/kiosk?token={kiosk['token']}&idle={IDLE_S}")
    screen(page, "start")
    assert page.url.endswith(f"/kiosk?idle={IDLE_S}"), "only the token leaves the address"
    page.get_by_test_id("large-toggle").click()
    expect(page.locator("html")).to_have_class("k-large")
    shoot(page, "12-start-large")
    page.get_by_test_id("start-consult").click()
    page.get_by_test_id("matter-search").fill(SEARCH)
    page.locator('[data-testid="matter-item"]').first.click()
    screen(page, "matter")
    shoot(page, "13-matter-large")
    # Nobody touches the screen: back to the start, large type off, nothing of the matter left.
    expect(page.locator('section[data-screen="start"]')).to_be_visible(timeout=(IDLE_S + 4) * 1000)
    expect(page.locator("html")).not_to_have_class("k-large")
    page.get_by_test_id("start-handle").click()
    expect(page.get_by_test_id("matter-search")).to_have_value("")
    # Touches keep the session alive: tapping every second for longer than the timeout.
    for _ in range(IDLE_S + 2):
        page.locator('[data-department="公安"]').click()
        page.wait_for_timeout(800)
    screen(page, "catalog")


def test_network_blip_while_waiting_keeps_the_place(page: Page, server: Server, matter: dict[str, Any]) -> None:
    kiosk = server.demo["kiosks"][3]
    outage = NetworkOutage()
    page.route_web_socket("**/api/v1/ws", outage.relay)
    number = join_queue(page, server, kiosk, matter, shots=False)
    # The waiting screen is exempt from the idle timeout; the blip below must not end the wait either.
    outage.start()
    banner = page.locator('[data-role="offline-banner"]')
    expect(banner).to_be_visible()
    shoot(page, "14-waiting-offline")
    wait_until(page, lambda: len(outage.sockets) >= 2, 10)  # the client tried again
    outage.end()
    expect(banner).to_be_hidden(timeout=15000)
    screen(page, "waiting")
    expect(page.get_by_test_id("queue-ticket")).to_have_text(number)
    page.get_by_test_id("queue-cancel").click()
    page.get_by_test_id("queue-cancel-confirm").click()
    screen(page, "start")
