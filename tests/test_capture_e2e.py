"""Issue #7, end to end in two browsers: a whole call with a document capture.

The kiosk page runs in a Chromium whose fake camera plays a synthetic ID card held up to it
(tests/quality_fixtures/video.py: it slides in, then stays still); the caseworker console runs in
another Chromium with the default fake camera. The caseworker goes available, the resident joins
a matter of the caseworker's skill, the call connects with video both ways, the caseworker asks for
the ID card, the kiosk shows the server's live guidance and auto-captures when the card is steady
and sharp, the console shows the rectified, watermarked image, the caseworker accepts it and ends
the call with 受理 and a case number, and the resident rates the service. Screenshots of each
capture state, on both sides, go to artifacts/screenshots/capture/.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import (
    APIRequestContext,
    APIResponse,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.kiosk_harness import (
    CASE_NUMBER,
    ROOT,
    Server,
    caseworker_for,
    join_queue,
    pick_matter,
    require_chromium,
    run_server,
    screen,
    start_chromium,
    wait_until,
)
from tests.quality_fixtures.video import write_document_y4m

pytestmark = pytest.mark.browser

SHOTS = ROOT / "artifacts" / "screenshots" / "capture"
KIOSK_VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
CONSOLE_VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
# How long auto-capture may take before the caseworker presses 立即拍摄 instead.
AUTO_CAPTURE_S = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("capture-e2e")) as running:
        yield running


def shot(page: Page, name: str) -> None:
    """Save one screenshot of a capture state."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def new_page(context: BrowserContext, errors: list[str], side: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda error: errors.append(f"{side}: {error}"))
    return page


def video_plays(page: Page, timeout_s: float = 40) -> None:
    """The remote video decodes frames and its clock advances. (The wait is long: with the whole
    suite loading both cores, Chromium's first decoded frame took over 20 s once.)"""
    video = page.get_by_test_id("remote-video")
    wait_until(page, lambda: video.evaluate("v => v.videoWidth > 0 && v.currentTime > 0"), timeout_s)
    first = video.evaluate("v => v.currentTime")
    page.wait_for_timeout(800)
    assert video.evaluate("v => v.currentTime") > first, "remote video is frozen"


def remote_stream_id(page: Page) -> str:
    """The id of the MediaStream the remote video shows ('' when none)."""
    return str(page.get_by_test_id("remote-video").evaluate("v => v.srcObject ? v.srcObject.id : ''"))


def video_returns(page: Page, before: str, timeout_s: float = 40) -> None:
    """The remote video shows a new stream (a new peer connection) and it plays."""
    wait_until(page, lambda: remote_stream_id(page) not in ("", before), timeout_s)
    video_plays(page, timeout_s)


def watermark_band_check(jpeg: bytes, source: np.ndarray | None) -> None:
    """The stored image is a JPEG whose bottom band carries the overlay (dark band, white text)."""
    assert jpeg[:3] == b"\xff\xd8\xff", "not a JPEG"
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    h, w = image.shape[:2]
    band_h = max(18, round(min(h, w) * 0.075))  # server/capture/watermark.py: BAND_SHARE, MIN_BAND_PX
    band = cv2.cvtColor(image[h - band_h + 2:h - 2], cv2.COLOR_BGR2GRAY)
    above = cv2.cvtColor(image[h - 3 * band_h:h - band_h - 2], cv2.COLOR_BGR2GRAY)
    # The band's ground (its median: the text is the minority) is the shaded picture below it.
    assert float(np.median(band)) < 0.75 * float(np.median(above)), "no dark band along the bottom"
    # Text in the band: bright strokes on the dark band, so the band is far from uniform.
    assert float(band.std()) > 20 and int(band.max()) > 180, "the band carries no text"
    if source is not None and source.shape[:2] == (h, w):
        # The original variant has the camera's size: its band differs from what the camera saw.
        seen = cv2.cvtColor(source[h - band_h + 2:h - 2], cv2.COLOR_BGR2GRAY)
        assert float(np.abs(band.astype(np.int16) - seen.astype(np.int16)).mean()) > 30


def test_whole_call_with_document_capture(server: Server, tmp_path: Path) -> None:
    require_chromium()
    started = time.monotonic()
    video = tmp_path / "id_card.y4m"
    source = write_document_y4m(video, fps=10, seconds=3.0, settle_s=0.6)
    matter = pick_matter(server)
    material = next(m for m in matter["materials"] if m["capture"])
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    errors: list[str] = []

    with sync_playwright() as playwright:
        console_browser = start_chromium(playwright)
        kiosk_browser = start_chromium(playwright, [f"--use-file-for-fake-video-capture={video}"])
        console_context = console_browser.new_context(viewport=CONSOLE_VIEWPORT, locale="zh-CN")
        kiosk_context = kiosk_browser.new_context(viewport=KIOSK_VIEWPORT, locale="zh-CN")
        supervisor = playwright.request.new_context(base_url=server.url)
        try:
            console = new_page(console_context, errors, "console")
            kiosk_page = new_page(kiosk_context, errors, "kiosk")
            signed_in = supervisor.post("/api/v1/auth/login", data=server.demo["supervisors"][0])
            assert signed_in.ok, signed_in.text()
            _run_call(server, console, console_context, kiosk_page, kiosk, matter, material, login, source,
                      supervisor)
        finally:
            supervisor.dispose()
            kiosk_context.close()
            console_context.close()
            kiosk_browser.close()
            console_browser.close()
    assert not errors, f"uncaught errors in the pages: {errors}"
    assert time.monotonic() - started < 90, "the end-to-end call took too long"


def _device_check_recorded(supervisor: APIRequestContext, kiosk: dict[str, Any]) -> None:
    """The kiosk's device check reached the server: its camera has a health figure and a trend."""
    response = supervisor.get("/api/v1/kiosks/health")
    assert response.ok, response.text()
    health = next(k for k in response.json()["kiosks"] if k["id"] == kiosk["id"])
    assert health["camera_health"] is not None and health["camera_health"] > 0.5, health


def _run_call(server: Server, console: Page, console_context: BrowserContext, kiosk_page: Page,
              kiosk: dict[str, Any], matter: dict[str, Any], material: dict[str, Any], login: dict[str, Any],
              source: np.ndarray, supervisor: APIRequestContext) -> None:
    # The caseworker signs in and goes available.
    console.goto(f"{server.url}/agent")
    console.get_by_test_id("login-username").fill(login["username"])
    console.get_by_test_id("login-password").fill(login["password"])
    console.get_by_test_id("login-submit").click()
    expect(console.get_by_test_id("centre-label")).to_have_text(login["centre"])
    console.get_by_test_id("status-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")

    # The resident picks the matter, passes the device check (the card video is bright and sharp)
    # and joins the queue; the caseworker is offered the ticket and accepts.
    join_queue(kiosk_page, server, kiosk, matter, shots=False)
    expect(console.get_by_test_id("offer")).to_be_visible(timeout=10000)
    expect(console.get_by_test_id("offer-matter")).to_have_text(matter["name"])
    console.get_by_test_id("offer-accept").click()
    screen(kiosk_page, "call")
    expect(console.get_by_test_id("call-stage")).to_be_visible()
    video_plays(console)
    video_plays(kiosk_page)
    # The device check went to the server on the way into the queue (before any capture sample).
    _device_check_recorded(supervisor, kiosk)

    # The caseworker asks for the ID card; the kiosk shows the request and live guidance.
    guidance = kiosk_page.get_by_test_id("capture-guidance")
    expect(guidance).to_be_hidden()
    # The kiosk's upload is held from the start: on a busy machine the analyser can see the card
    # steady before the console's reload below, and an upload let through then would not be stale.
    uploads: list[Route] = []
    kiosk_page.route("**/api/v1/captures/*/image", lambda route: uploads.append(route))
    console.locator(f'[data-testid="request-capture"][data-material="{material["name"]}"]').click()
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text(material["name"])
    shot(kiosk_page, "01-kiosk-capture-requested")
    expect(console.get_by_test_id("capture-status")).to_contain_text(material["name"])
    shot(console, "01-console-capture-waiting")
    # The console reloads while the kiosk is still guiding, and its question "which captures has
    # this call?" is answered late, with what was true when it asked (the open request): the still
    # taken meanwhile must reach the review all the same, through `capture_ready`. The kiosk's
    # upload is held until the console has asked, so the answer is stale every time.
    held: list[tuple[Route, APIResponse]] = []
    console.route("**/api/v1/sessions/*/captures", lambda route: held.append((route, route.fetch())))
    console.reload()
    expect(console.get_by_test_id("call-stage")).to_be_visible()
    wait_until(console, lambda: bool(held), 10)

    # Auto-capture: the server's analyser sees the card steady and sharp, sends capture_take, the
    # kiosk uploads the full-resolution still, and the console gets the rectified image.
    review = console.get_by_test_id("capture-image")
    seen: list[str] = []
    deadline = time.monotonic() + AUTO_CAPTURE_S
    while time.monotonic() < deadline and not uploads:
        text = kiosk_page.locator('[data-role="capture-text"]').inner_text()
        if text and (not seen or seen[-1] != text):
            seen.append(text)
            if len(seen) == 2:
                shot(kiosk_page, "02-kiosk-live-guidance")
        kiosk_page.wait_for_timeout(150)
    taken = bool(uploads)
    for upload in uploads:
        upload.continue_()
    kiosk_page.unroute("**/api/v1/captures/*/image")
    if taken:  # capture_ready reaches the review while the stale answer is still held
        wait_until(console, review.is_visible, 10)
    for route, answer in held:
        route.fulfill(response=answer)
    console.unroute("**/api/v1/sessions/*/captures")
    manual = not taken
    if manual:
        warnings.warn(f"auto-capture did not trigger in {AUTO_CAPTURE_S} s (guidance seen: {seen});"
                      " falling back to 立即拍摄", stacklevel=1)
        console.get_by_test_id("capture-now").click()
    expect(review).to_be_visible(timeout=15000)
    print(f"capture: {'manual' if manual else 'automatic'}; kiosk guidance seen: {seen}")
    wait_until(console, lambda: review.evaluate("i => i.complete && i.naturalWidth > 0"), 10)
    expect(guidance).to_have_attribute("data-state", "ok")
    shot(kiosk_page, "03-kiosk-captured")
    shot(console, "02-console-review")

    # The images as the caseworker's browser fetches them (its cookies): watermarked JPEGs.
    image_url = review.get_attribute("src")
    original_url = console.get_by_test_id("capture-original").get_attribute("href")
    assert image_url and original_url and "variant=original" in original_url
    for url, compare in ((image_url, None), (original_url, source)):
        response = console_context.request.get(server.url + url if url.startswith("/") else url)
        assert response.status == 200, response.text()
        assert response.headers["content-type"].startswith("image/jpeg")
        assert "no-store" in response.headers.get("cache-control", "")
        watermark_band_check(response.body(), compare)
    natural = review.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert 1.45 < natural[0] / natural[1] < 1.75, f"not rectified to an ID card's shape: {natural}"

    # The console reloaded while the image waits for review: the review comes back.
    console.reload()
    expect(console.get_by_test_id("call-stage")).to_be_visible()
    expect(review).to_be_visible(timeout=10000)
    assert review.get_attribute("src") == image_url

    # Accepted: the material is ticked with a thumbnail; the kiosk leaves capture mode.
    console.get_by_test_id("capture-accept").click()
    row = console.locator(f'[data-testid="materials-checklist"] li[data-material="{material["name"]}"]')
    expect(row.get_by_test_id("capture-thumb")).to_be_visible()
    expect(row.get_by_test_id("material-check")).to_be_checked()
    expect(guidance).to_be_hidden()
    shot(console, "03-console-accepted")
    shot(kiosk_page, "04-kiosk-after-capture")

    # A reload on either side mid-call: the page comes back into the call, the other side is told
    # (`peer` fresh) and starts a new peer connection, and video flows both ways again.
    kiosk_stream, console_stream = remote_stream_id(kiosk_page), remote_stream_id(console)
    console.reload()
    expect(console.get_by_test_id("call-stage")).to_be_visible()
    expect(row.get_by_test_id("capture-thumb")).to_be_visible()  # the accepted image is still listed
    expect(row.get_by_test_id("material-check")).to_be_checked()
    video_plays(console)
    video_returns(kiosk_page, kiosk_stream)
    kiosk_stream, console_stream = remote_stream_id(kiosk_page), remote_stream_id(console)
    kiosk_page.reload()
    screen(kiosk_page, "call")
    video_plays(kiosk_page)
    video_returns(console, console_stream)
    shot(console, "05-console-after-reloads")

    # 受理 ends the call with the server's case number on the resident's receipt; the resident rates it.
    console.get_by_test_id("outcome-select").select_option("accepted")
    console.get_by_test_id("end-call").click()
    screen(kiosk_page, "ended")
    expect(kiosk_page.locator('[data-role="ended-outcome"]')).to_have_text("您的申请已受理")
    expect(kiosk_page.get_by_test_id("receipt-case-number")).to_have_text(CASE_NUMBER)
    case_number = kiosk_page.get_by_test_id("receipt-case-number").inner_text()
    expect(console.get_by_test_id("wrap-up")).to_be_visible()
    sessions = console.get_by_test_id("today-sessions")
    expect(sessions).to_contain_text(matter["name"])
    expect(sessions).to_contain_text(case_number)
    kiosk_page.get_by_test_id("ended-rate").click()
    screen(kiosk_page, "rating")
    kiosk_page.locator('[data-testid="rating-option"][data-rating="5"]').click()
    kiosk_page.get_by_test_id("rating-submit").click()
    screen(kiosk_page, "thanks")
    shot(console, "04-console-wrap-up")
