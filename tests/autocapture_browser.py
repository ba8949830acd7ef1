"""Auto-capture through the real browser path: Chromium's fake camera showing a scene of the
quality test split, the kiosk page in a call, the server's analysis peer, and the clock.

For each scene a Chromium is launched whose fake camera plays the scene held perfectly still with
fresh sensor noise in every frame (`--use-file-for-fake-video-capture`, a launch argument: one
launch per scene). The kiosk page walks to the queue as a resident does (device check, consent),
a caseworker played by Python (tests/kiosk_harness.py: aiohttp WebSocket + aiortc offerer) accepts
the ticket, and once the kiosk plays the caseworker's video the caseworker sends `capture_request`.
The kiosk then opens its capture peer to the server as the product does, and the time from the
request to the first `capture_guidance` with `ready` (the product's own auto-capture signal, which
the caseworker gets together with the kiosk's `capture_take`) is the scene's time. The document is
in view all along, so this is the time from "show me your card" to auto-capture, peer set-up and
the encoder's start included. The call then ends (答复) and the caseworker finishes wrap-up.

Used by scripts/bench/quality_browser.py (every good scene of the test split) and
tests/test_quality_browser.py (a fixed sample).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Playwright, expect

from tests.kiosk_harness import (
    Caseworker,
    Server,
    caseworker_for,
    pass_optional_steps,
    pick_matter,
    quick_to_device_check,
    screen,
    start_chromium,
    wait_until,
)
from tests.quality_fixtures.video import write_steady_y4m
from tests.quality_fixtures.world import WorldSample, camera_scene

GOAL_S = 3.0
# How long a scene is followed after the request (a miss still gets its time when it comes later).
FOLLOW_S = 12.0
VIDEO_FPS = 30
VIDEO_FRAMES = 30  # one second of distinct noise, looped by Chromium
KIOSK_VIEWPORT = {"width": 1280, "height": 800}


def good_scene_indices(count: int) -> list[int]:
    """Indices of the good scenes among the first count scenes of a split (the even ones)."""
    return [index for index in range(count) if index % 2 == 0]


@dataclass
class SceneTiming:
    """One scene's run: seconds from the capture request to guidance and to auto-capture."""

    name: str
    resolution: str
    kind: str
    desk: str
    light_level: float
    ready_s: float | None = None  # None: not ready within FOLLOW_S
    first_guidance_s: float | None = None
    guidance: list[str] = field(default_factory=list)  # the texts in order, repeats dropped
    error: str = ""

    @property
    def within_goal(self) -> bool:
        """Auto-capture fired within GOAL_S."""
        return self.ready_s is not None and self.ready_s <= GOAL_S

    def as_dict(self) -> dict[str, Any]:
        """JSON-able view."""
        return asdict(self)


class CapturingCaseworker(Caseworker):
    """The harness caseworker that also asks for a document and times the capture."""

    def request_capture(self, material: str, follow_s: float) -> tuple[float | None, float | None, list[str]]:
        """Send capture_request; (seconds to ready, seconds to first guidance, texts seen)."""
        return self._run(self._capture(material, follow_s), follow_s + 15)  # type: ignore[no-any-return]

    def hang_up(self) -> None:
        """End the call as answered and finish wrap-up at once (available for the next ticket)."""
        self._run(self._hang_up())

    async def _capture(self, material: str, follow_s: float) -> tuple[float | None, float | None, list[str]]:
        assert self.ws is not None and self.call is not None and self.messages is not None
        while not self.messages.empty():
            self.messages.get_nowait()
        started = time.monotonic()
        await self.ws.send_json({"type": "capture_request", "call_id": self.call["call_id"], "material": material})
        ready: float | None = None
        first: float | None = None
        texts: list[str] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(follow_s):
                while ready is None:
                    message = await self.messages.get()
                    if message["type"] == "error":
                        raise AssertionError(f"server refused: {message}")
                    if message["type"] != "capture_guidance":
                        continue
                    now = time.monotonic() - started
                    first = now if first is None else first
                    if message.get("text") and (not texts or texts[-1] != message["text"]):
                        texts.append(message["text"])
                    if message.get("ready"):
                        ready = now
        return ready, first, texts

    async def _hang_up(self) -> None:
        assert self.ws is not None
        try:
            await self._end_call("answered", "")
            await self.ws.send_json({"type": "finish_wrap_up", "id": "finish"})
            await self._expect("ok")
        finally:
            # Each call has its own peer connection: close it, or its tasks outlive the loop.
            if self.pc is not None:
                await self.pc.close()
                self.pc = None


def remote_video_plays(page: Page, timeout_s: float = 45) -> None:
    """The kiosk shows the caseworker's video (the call is connected)."""
    video = page.get_by_test_id("remote-video")
    wait_until(page, lambda: bool(video.evaluate("v => v.videoWidth > 0 && v.currentTime > 0")), timeout_s)


@contextlib.contextmanager
def caseworker_in(server: Server) -> Iterator[tuple[CapturingCaseworker, dict[str, Any], dict[str, Any], str]]:
    """An available caseworker for the demo's first kiosk; yields it, the kiosk, the matter and a
    material to capture."""
    matter = pick_matter(server)
    material = next(m["name"] for m in matter["materials"] if m["capture"])
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    caseworker = CapturingCaseworker(server.url, login["username"], login["password"])
    try:
        caseworker.sign_in_available()
        yield caseworker, kiosk, matter, material
    finally:
        caseworker.close()


def run_scene(playwright: Playwright, server: Server, caseworker: CapturingCaseworker, kiosk: dict[str, Any],
              matter: dict[str, Any], material: str, scene: WorldSample, video: Path,
              follow_s: float = FOLLOW_S) -> SceneTiming:
    """One scene through one Chromium launch and one call."""
    assert scene.factors is not None
    f = scene.factors
    timing = SceneTiming(name=scene.name, resolution=f"{f.resolution[0]}x{f.resolution[1]}", kind=f.kind,
                         desk=f.desk, light_level=round(f.light_level, 2))
    write_steady_y4m(video, scene.image, scene.noise_sigma, fps=VIDEO_FPS, frames=VIDEO_FRAMES)
    browser = start_chromium(playwright, [f"--use-file-for-fake-video-capture={video}"])
    in_call = False
    try:
        context = browser.new_context(viewport=KIOSK_VIEWPORT, locale="zh-CN")  # type: ignore[arg-type]
        page = context.new_page()
        page.set_default_timeout(20000)
        quick_to_device_check(page, server.url, kiosk, matter)
        page.get_by_test_id("device-check-continue").click()
        pass_optional_steps(page, shots=False)
        screen(page, "waiting")
        caseworker.accept_next_offer()
        in_call = True
        expect(page.locator('section[data-screen="call"]')).to_be_visible()
        remote_video_plays(page)
        timing.ready_s, timing.first_guidance_s, timing.guidance = caseworker.request_capture(material, follow_s)
    except Exception as exc:  # one broken scene is reported, not the end of the run
        timing.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        if in_call:
            with contextlib.suppress(Exception):
                caseworker.hang_up()
        browser.close()
        video.unlink(missing_ok=True)
    return timing


def run_scenes(playwright: Playwright, server: Server, split: str, indices: Sequence[int],
               follow_s: float = FOLLOW_S, on_scene: Any = None) -> list[SceneTiming]:
    """Every scene of split at indices, one after another (on_scene(timing) after each)."""
    timings: list[SceneTiming] = []
    with caseworker_in(server) as (caseworker, kiosk, matter, material), \
            tempfile.TemporaryDirectory(prefix="scene-video-") as folder:
        for index in indices:
            timing = run_scene(playwright, server, caseworker, kiosk, matter, material, camera_scene(split, index),
                               Path(folder) / "scene.y4m", follow_s)
            timings.append(timing)
            if on_scene is not None:
                on_scene(timing)
    return timings


def summary(timings: Sequence[SceneTiming]) -> dict[str, Any]:
    """Share within GOAL_S, median and worst of the times (misses count as outside the goal)."""
    times = sorted(t.ready_s for t in timings if t.ready_s is not None)
    within = sum(t.within_goal for t in timings)
    return {
        "scenes": len(timings), "within_goal": within, "goal_s": GOAL_S,
        "share_within_goal": round(within / len(timings), 4) if timings else 0.0,
        "median_s": round(times[len(times) // 2], 2) if times else None,
        "max_s": round(times[-1], 2) if times else None,
        "missed": [t.name for t in timings if not t.within_goal],
        "errors": [t.name for t in timings if t.error],
    }
