"""web/static/common/call_peer.js's byte count for the silence watch, in Chromium, on stats reports
shaped as each browser gives them (Chromium and Safari have transport stats, Firefox only candidate
pairs): a browser without a count must not read as a silent connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from tests.kiosk_harness import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[1] / "web" / "static" / "common"
ORIGIN = "http://call-peer.test"


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def serve(route: Route) -> None:
            name = route.request.url.removeprefix(f"{ORIGIN}/")
            if name == "":
                route.fulfill(body="<!doctype html><title>t</title>", content_type="text/html")
            else:
                route.fulfill(path=str(STATIC / name), content_type="text/javascript")

        context = browser.new_context()
        context.route(f"{ORIGIN}/**", serve)
        tab = context.new_page()
        tab.goto(f"{ORIGIN}/")
        yield tab
        browser.close()


def _received(page: Page, stats: list[dict[str, Any]]) -> Any:
    return page.evaluate(
        """async (stats) => {
             const { receivedBytes } = await import("/call_peer.js");
             return receivedBytes(new Map(stats.map((s, i) => [String(i), s])));
           }""",
        stats,
    )


def test_transport_stats_count_first(page: Page) -> None:
    stats = [{"type": "transport", "bytesReceived": 5000},
             {"type": "candidate-pair", "nominated": True, "bytesReceived": 4000},
             {"type": "inbound-rtp", "bytesReceived": 3000}]
    assert _received(page, stats) == 5000


def test_firefox_reports_count_by_the_selected_pair(page: Page) -> None:
    stats = [{"type": "candidate-pair", "selected": True, "bytesReceived": 4200},
             {"type": "candidate-pair", "selected": False, "bytesReceived": 99999},
             {"type": "inbound-rtp", "bytesReceived": 3000}]
    assert _received(page, stats) == 4200


def test_rtp_streams_when_nothing_else(page: Page) -> None:
    stats = [{"type": "inbound-rtp", "bytesReceived": 3000}, {"type": "inbound-rtp", "bytesReceived": 1000}]
    assert _received(page, stats) == 4000


def test_no_counts_is_unknown_not_silence(page: Page) -> None:
    assert _received(page, [{"type": "codec"}, {"type": "transport"}]) is None
    assert _received(page, []) is None
