"""Call recording end to end in two Chromiums (fake camera and microphone on both sides).

One call of ~40 s is recorded by the console and checked for everything at once: the kiosk shows
the recording notice, the console's indicator runs, the console is reloaded mid-call and continues
with the next chunk index, the console's network is cut for 10 s (chunks wait in IndexedDB and
arrive after), the call ends and the recording closes `complete` with no gap, and the supervisor
downloads it (whole and by byte range): it decodes with PyAV to ≥ 15 s of video and audio whose
composed frames show two different pictures side by side (the kiosk's camera plays an ID card,
the console's is Chromium's test pattern).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from tests.kiosk_harness import Server, require_chromium, run_server, wait_until
from tests.recording_harness import Call, end_call, page_with_errors, recorded_call, session_id_of, video_plays

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-recording")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("recording-e2e")) as running:
        yield running


def _outbox(page: Page) -> int:
    """Items waiting in the console's IndexedDB outbox."""
    return int(page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open("jinglin-recording", 1);
        open.onsuccess = () => {
            const request = open.result.transaction("outbox").objectStore("outbox").count();
            request.onsuccess = () => resolve(request.result);
        };
        open.onerror = () => resolve(-1);
    })"""))


def test_recorded_call_with_reload_and_network_cut(server: Server, tmp_path: Path) -> None:
    require_chromium()
    started = time.monotonic()
    errors: list[str] = []
    with sync_playwright() as playwright:
        supervisor = playwright.request.new_context(base_url=server.url)
        try:
            assert supervisor.post("/api/v1/auth/login", data=server.demo["supervisors"][0]).ok
            with recorded_call(playwright, server, tmp_path, errors) as call:
                _record(call)
                session_id = session_id_of(supervisor, call.ticket_number)
                _check_recording(supervisor, session_id)
                _supervisor_player(server, call.console_browser.new_context(
                    viewport={"width": 1920, "height": 1080}, locale="zh-CN"), session_id, errors)
        finally:
            supervisor.dispose()
    assert not errors, f"uncaught errors in the pages: {errors}"
    print(f"recording e2e took {time.monotonic() - started:.0f} s")


def _record(call: Call) -> None:
    console, kiosk_page, console_context = call.console, call.kiosk_page, call.console_context
    indicator = console.get_by_test_id("recording-indicator")
    expect(indicator).to_be_visible()
    expect(indicator).to_have_attribute("data-state", "recording")
    expect(kiosk_page.get_by_test_id("recording-indicator")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    kiosk_page.screenshot(path=str(SHOTS / "kiosk-call-1920x1080.png"))
    kiosk_page.set_viewport_size({"width": 1366, "height": 768})
    kiosk_page.screenshot(path=str(SHOTS / "kiosk-call-1366x768.png"))
    console.wait_for_timeout(9000)
    console.screenshot(path=str(SHOTS / "console-recording.png"))

    # Reloaded mid-call: back in the call, recording again from the next index.
    console.reload()
    expect(console.get_by_test_id("call-stage")).to_be_visible()
    video_plays(console)
    expect(indicator).to_have_attribute("data-state", "recording")
    console.wait_for_timeout(6000)

    # Network cut for 10 s: chunks wait in IndexedDB, then go out.
    console_context.set_offline(True)
    console.wait_for_timeout(10000)
    waiting = _outbox(console)
    assert waiting >= 2, f"only {waiting} chunks waited in IndexedDB during the cut"
    expect(indicator).to_have_attribute("data-state", "uploading")
    console_context.set_offline(False)
    wait_until(console, lambda: _outbox(console) == 0, 30)
    expect(console.get_by_test_id("call-stage")).to_be_visible()
    console.wait_for_timeout(3000)
    end_call(call)
    expect(indicator).to_have_attribute("data-state", "complete", timeout=20000)
    # The consent rule (one function): recorded unless the resident declined.
    decide = console.evaluate("""() => import("/static/agent/recording.js").then((m) => [
        m.shouldRecord({}), m.shouldRecord({ consent: null }),
        m.shouldRecord({ consent: { version: "1", choice: "accepted", at: "" } }),
        m.shouldRecord({ consent: { version: "1", choice: "declined", at: "" } })])""")
    assert decide == [True, True, True, False]


def _supervisor_player(server: Server, context: BrowserContext, session_id: str, errors: list[str]) -> None:
    """The dashboard counts today's sessions without a complete recording and plays this one."""
    try:
        page = page_with_errors(context, errors, "supervisor")
        page.goto(f"{server.url}/supervisor")
        page.get_by_test_id("login-username").fill(server.demo["supervisors"][0]["username"])
        page.get_by_test_id("login-password").fill(server.demo["supervisors"][0]["password"])
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("stat-recordings-missing")).to_have_text("0")
        row = page.locator(f'[data-testid="recording-row"][data-session-id="{session_id}"]')
        expect(row).to_have_attribute("data-state", "complete")
        row.get_by_test_id("recording-open").click()
        player = page.get_by_test_id("recording-player")
        expect(player).to_be_visible()
        expect(page.get_by_test_id("recording-facts")).to_contain_text("MB")
        wait_until(page, lambda: player.evaluate("v => v.readyState >= 1 && v.videoWidth === 960"), 15)
        # The player's copy was remuxed at close into one WebM across the reload: it knows its length.
        assert player.evaluate("v => Number.isFinite(v.duration) && v.duration > 15"), player.evaluate(
            "v => v.duration")
        page.locator("#recordings").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "supervisor-recording-1920x1080.png"))
    finally:
        context.close()


def _check_recording(supervisor: Any, session_id: str) -> None:
    detail = supervisor.get(f"/api/v1/sessions/{session_id}")
    assert detail.ok, detail.text()
    recording = detail.json()["recording"]
    assert recording["state"] == "complete" and recording["missing"] == [], recording
    assert recording["duration_s"] >= 25, recording
    # ≤ 40 MB per hour: the bytes per recorded second stay within the budget.
    assert recording["bytes"] / recording["duration_s"] * 3600 <= 40e6, recording
    whole = supervisor.get(f"/api/v1/sessions/{session_id}/recording")
    assert whole.status == 200 and whole.headers["content-type"] == "video/webm"
    body = whole.body()
    (SHOTS / "recording.webm").write_bytes(body)  # kept to look at
    assert len(body) == recording["bytes"]
    assert hashlib.sha256(body).hexdigest() == recording["sha256"]
    part = supervisor.get(f"/api/v1/sessions/{session_id}/recording", headers={"Range": "bytes=1000-4999"})
    assert part.status == 206 and part.body() == body[1000:5000]
    beyond = supervisor.get(f"/api/v1/sessions/{session_id}/recording", headers={"Range": f"bytes={len(body)}-"})
    assert beyond.status == 416
    video_s, audio_s, halves_differ = _decode(body)
    print(f"recording: {recording['chunks']} chunks, {recording['bytes']} bytes, {recording['duration_s']} s; "
          f"decoded video {video_s:.1f} s, audio {audio_s:.1f} s")
    assert video_s >= 15 and audio_s >= 15, (video_s, audio_s)
    assert halves_differ
    player = supervisor.get(f"/api/v1/sessions/{session_id}/recording?variant=player")
    assert player.status == 200 and player.body() != body  # the reload made two streams: joined
    video_s, audio_s, _ = _decode(player.body())
    assert video_s >= 15 and audio_s >= 15, ("player", video_s, audio_s)


def _decode(data: bytes) -> tuple[float, float, bool]:
    """Seconds of decoded video and audio, and whether the two halves of the frames differ."""
    video_s = 0.0
    previous: float | None = None
    audio_s = 0.0
    differ = 0
    frames = 0
    with av.open(io.BytesIO(data), format="webm") as container:
        for frame in container.decode(video=0, audio=0):
            if isinstance(frame, av.AudioFrame):
                audio_s += frame.samples / frame.sample_rate
                continue
            if frame.time is not None:
                # A reloaded console starts a new WebM segment whose clock starts at 0 again: count
                # the steps forward only (a step over a second is a pause in the picture, not video).
                if previous is not None and 0 < frame.time - previous < 1:
                    video_s += frame.time - previous
                previous = float(frame.time)
            frames += 1
            if frames % 25 == 0:
                image = frame.to_ndarray(format="gray").astype(np.int16)
                half = image.shape[1] // 2
                if np.abs(image[:, :half] - image[:, half:half * 2]).mean() > 20:
                    differ += 1
    return video_s, audio_s, differ >= 2
