"""Shared steps of the recording browser test and benchmark (no tests here): two Chromiums in a
recorded call, the kiosk's camera playing an ID card and the console's Chromium's test pattern."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize

from tests.kiosk_harness import (
    Server,
    caseworker_for,
    console_available,
    join_queue,
    pick_matter,
    screen,
    start_chromium,
    wait_until,
)
from tests.quality_fixtures.video import write_document_y4m

CONSOLE_VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
KIOSK_VIEWPORT: ViewportSize = {"width": 1920, "height": 1080}
# Marks the console's browser process, so a benchmark can find its process tree.
CONSOLE_MARK = "--class=jinglin-console"


@dataclass
class Call:
    """Both sides of a live call."""

    console_browser: Browser
    console_context: BrowserContext
    console: Page
    kiosk_page: Page
    ticket_number: str


def page_with_errors(context: BrowserContext, errors: list[str], side: str) -> Page:
    """A page whose uncaught errors are collected."""
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda error: errors.append(f"{side}: {error}"))
    return page


def video_plays(page: Page) -> None:
    """The remote video decodes frames."""
    video = page.get_by_test_id("remote-video")
    wait_until(page, lambda: video.evaluate("v => v.videoWidth > 0 && v.currentTime > 0"), 45)


@contextlib.contextmanager
def recorded_call(playwright: Playwright, server: Server, tmp: Path, errors: list[str]) -> Iterator[Call]:
    """Sign a caseworker in, walk a kiosk into the queue, accept: the call runs (and is recorded)."""
    card = tmp / "card.y4m"
    write_document_y4m(card, fps=10, seconds=3.0, settle_s=0.6)
    matter = pick_matter(server)
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    console_browser = start_chromium(playwright, [CONSOLE_MARK])
    kiosk_browser = start_chromium(playwright, [f"--use-file-for-fake-video-capture={card}"])
    console_context = console_browser.new_context(viewport=CONSOLE_VIEWPORT, locale="zh-CN")
    kiosk_context = kiosk_browser.new_context(viewport=KIOSK_VIEWPORT, locale="zh-CN")
    try:
        console = page_with_errors(console_context, errors, "console")
        kiosk_page = page_with_errors(kiosk_context, errors, "kiosk")
        console_available(console, server.url, login)
        number = join_queue(kiosk_page, server, kiosk, matter, shots=False)
        console.get_by_test_id("offer-accept").click(timeout=10000)
        # Two browsers, the server and the recorder share two cores: on a loaded CI machine the
        # kiosk has been seen to take over 5 s to switch to the call after the offer is accepted.
        screen(kiosk_page, "call", timeout=15000)
        video_plays(console)
        video_plays(kiosk_page)
        yield Call(console_browser, console_context, console, kiosk_page, number)
    finally:
        kiosk_context.close()
        console_context.close()
        kiosk_browser.close()
        console_browser.close()


def end_call(call: Call) -> None:
    """受理 ends the call from the console (the server issues the case number)."""
    call.console.get_by_test_id("outcome-select").select_option("accepted")
    call.console.get_by_test_id("end-call").click()
    screen(call.kiosk_page, "ended")


def session_id_of(supervisor: Any, ticket_number: str) -> str:
    """Today's session of a ticket number, through the supervisor's API."""
    sessions = supervisor.get("/api/v1/sessions").json()["sessions"]
    return str(next(s["id"] for s in sessions if s["ticket_number"] == ticket_number))
