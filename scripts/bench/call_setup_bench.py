"""Call-setup benchmark: the project's accept → first frame against a bare Chrome-to-Chrome call.

Two Debian Chromium processes with fake cameras and microphones (1280x720 asked for, as the pages
do). Rounds alternate in one run, so that whatever else the machine does weighs on both kinds alike:

- project: a seeded server (`python -m server serve`, embedded defaults); the kiosk page walks to
  the queue through its screens and device check, the console is offered the ticket, and the clock
  starts when the accept button is clicked (in the page). The round ends when both remote videos
  have presented a frame (`requestVideoFrameCallback`); the call is then ended through the pages
  (办结, 结束整理, the kiosk skips the rating) for the next round.
- bare: the same two browsers on a page with no server (served by a Playwright route on
  http://localhost, a secure context): getUserMedia with the same constraints beforehand, the clock
  starts at createOffer, and offer, answer and every candidate are handed from one page to the
  other directly by this driver (trickled at once, through exposed bindings).

The pages of a round are brought to the front first (a background page presents no video and
throttles its timers to once a second), and nothing of a round keeps streaming into the next.
Each kind's first round opens the devices and warms the browsers up: it is run and not counted.
Prints each round (with the first frame on each side), the medians, and the ratio project / bare,
both of the medians and as the median of the per-round ratios (goal: ≤ 1.3).

    .venv/bin/python scripts/bench/call_setup_bench.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Playwright, async_playwright, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.simulate.local import LocalServer, launch
from tests.kiosk_harness import CHROMIUM, CHROMIUM_ARGS, SEARCH, caseworker_for, get_json

GOAL_RATIO = 1.3
# Between the ring and the click on 接听: far less than a person needs, enough for the pages to
# have handled the offer.
THINK_S = 0.5
BARE_URL = "http://localhost:8765/bare"

# The bare call: the same media the pages ask for, one RTCPeerConnection per side, signals handed
# over by the driver through window.relay(data) (an exposed binding) and window.bare.signal(data).
BARE_PAGE = """<!doctype html><meta charset="utf-8"><video id="remote" autoplay muted playsinline></video>
<script>
const MEDIA = {
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
};
let stream = null;
let pc = null;
let chain = Promise.resolve();
let held = [];
window.bare = {
  async open() { stream = await navigator.mediaDevices.getUserMedia(MEDIA); },
  stop() {
    pc.close();
    for (const track of stream.getTracks()) track.stop();
    document.getElementById("remote").srcObject = null;
  },
  async start(offerer) {
    held = [];
    chain = Promise.resolve();
    const video = document.getElementById("remote");
    video.srcObject = null;
    window.firstFrame = null;
    video.requestVideoFrameCallback(() => { window.firstFrame = performance.timeOrigin + performance.now(); });
    const started = performance.timeOrigin + performance.now();
    pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    pc.ontrack = (event) => { if (video.srcObject !== event.streams[0]) video.srcObject = event.streams[0]; };
    pc.onicecandidate = (event) => { if (event.candidate) window.relay({ candidate: event.candidate.toJSON() }); };
    if (offerer) {
      await pc.setLocalDescription(await pc.createOffer());
      window.relay({ description: { type: "offer", sdp: pc.localDescription.sdp } });
    }
    return started;
  },
  signal(data) {
    chain = chain.then(async () => {
      if (data.description) {
        await pc.setRemoteDescription(data.description);
        if (data.description.type === "offer") {
          await pc.setLocalDescription(await pc.createAnswer());
          window.relay({ description: { type: "answer", sdp: pc.localDescription.sdp } });
        }
        for (const candidate of held) await pc.addIceCandidate(candidate);
        held = [];
      } else if (!pc.remoteDescription) {
        held.push(data.candidate);
      } else {
        await pc.addIceCandidate(data.candidate);
      }
    }).catch(() => {}); // e.g. a late candidate of the previous round: one bad signal must not stop the rest
  },
};
</script>"""

# Installed on a page's remote video before the clock starts: the time its first frame is presented.
WATCH_FIRST_FRAME = """() => {
  window.firstFrame = null;
  const video = document.querySelector('[data-testid="remote-video"]');
  video.requestVideoFrameCallback(() => { window.firstFrame = performance.timeOrigin + performance.now(); });
}"""
CLICK_ACCEPT = """() => {
  const started = performance.timeOrigin + performance.now();
  document.querySelector('[data-action="offer-accept"]').click();
  return started;
}"""


def cast(server: LocalServer) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The kiosk, a matter it offers, and a caseworker of the kiosk's street centre who handles it."""
    kiosk = server.demo["kiosks"][0]
    found = get_json(f"{server.url}/api/v1/matters?q={SEARCH}&mode=handle")["matters"][0]
    matter = get_json(f"{server.url}/api/v1/matters/{found['id']}")
    return kiosk, matter, caseworker_for(server.demo, kiosk["street"], matter["skill"])


async def first_frames(pages: list[Page], timeout_s: float = 20) -> list[float]:
    """Wait until every page's window.firstFrame is set; return them."""
    deadline = time.monotonic() + timeout_s
    while True:
        frames = [await page.evaluate("() => window.firstFrame") for page in pages]
        if all(frames):
            return [float(f) for f in frames]
        if time.monotonic() > deadline:
            raise RuntimeError("no first frame on some side")
        await asyncio.sleep(0.05)


class ProjectCall:
    """The kiosk and console pages of the project, driven round after round."""

    def __init__(self, server: LocalServer, kiosk_page: Page, console: Page) -> None:
        self.server = server
        self.kiosk_page = kiosk_page
        self.console = console
        self.kiosk, self.matter, self.caseworker = cast(server)

    async def sign_in(self) -> None:
        """The caseworker signs in and goes available; the kiosk signs in with its token."""
        console = self.console
        await console.goto(f"{self.server.url}/agent")
        await console.get_by_test_id("login-username").fill(self.caseworker["username"])
        await console.get_by_test_id("login-password").fill(self.caseworker["password"])
        await console.get_by_test_id("login-submit").click()
        await console.get_by_test_id("status-available").click()
        await expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
        await self.kiosk_page.goto(f"{self.server.url}/kiosk?token={self.kiosk['token']}")

    async def round(self) -> tuple[float, ...]:
        """Queue, accept, and time accept → first frame (ms) at the console and at the kiosk; end the call."""
        kiosk, console = self.kiosk_page, self.console
        for page in (kiosk, console):
            await page.bring_to_front()  # a page in the background renders no video and throttles its timers
        await kiosk.get_by_test_id("start-handle").click()
        await kiosk.get_by_test_id("matter-search").fill(SEARCH)
        await kiosk.locator(f'[data-testid="matter-item"][data-matter-id="{self.matter["id"]}"]').click()
        await kiosk.get_by_test_id("matter-start").click()
        await expect(kiosk.get_by_test_id("device-check-status")).not_to_have_attribute("data-state", "checking")
        await kiosk.get_by_test_id("device-check-continue").click()
        await kiosk.get_by_test_id("priority-none").click()  # availability: queue without priority
        await expect(console.get_by_test_id("offer")).to_be_visible(timeout=15000)
        # The kiosk has heard that its ticket is offered, and a caseworker takes a moment to click.
        await expect(kiosk.locator('[data-role="waiting-title"]')).to_have_attribute("data-text", "waiting_offered")
        await asyncio.sleep(THINK_S)
        for page in (kiosk, console):
            await page.evaluate(WATCH_FIRST_FRAME)
        started = float(await console.evaluate(CLICK_ACCEPT))
        frames = await first_frames([console, kiosk])
        await console.get_by_test_id("outcome-select").select_option("completed")
        await console.get_by_test_id("end-call").click()
        await console.get_by_test_id("finish-wrap-up").click()
        await expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
        await kiosk.get_by_test_id("ended-rate").click()
        await kiosk.get_by_test_id("rating-skip").click()
        await expect(kiosk.get_by_test_id("start-handle")).to_be_visible()
        return tuple(frame - started for frame in frames)


class BareCall:
    """The same two browsers calling each other with no server."""

    def __init__(self, offerer: Page, answerer: Page) -> None:
        self.offerer = offerer
        self.answerer = answerer

    @staticmethod
    async def open(browser: Browser, other: Callable[[], Page]) -> Page:
        """A bare page in its own context of `browser`, whose signals go straight to the page `other()` returns."""
        context = await browser.new_context()
        await context.route(BARE_URL, lambda route: route.fulfill(content_type="text/html", body=BARE_PAGE))

        async def relay(_source: Any, data: dict[str, Any]) -> None:
            await other().evaluate("data => window.bare.signal(data)", data)

        await context.expose_binding("relay", relay)
        page = await context.new_page()
        await page.goto(BARE_URL)
        return page

    async def round(self) -> tuple[float, ...]:
        """One call: createOffer → first frame (ms) at the offerer and at the answerer."""
        for page in (self.offerer, self.answerer):
            await page.bring_to_front()
            await page.evaluate("() => window.bare.open()")  # the cameras are open before the clock starts
        await self.answerer.evaluate("() => window.bare.start(false)")
        started = float(await self.offerer.evaluate("() => window.bare.start(true)"))
        frames = await first_frames([self.offerer, self.answerer])
        for page in (self.offerer, self.answerer):
            await page.evaluate("() => window.bare.stop()")  # nothing streams into the next round
        return tuple(frame - started for frame in frames)


async def bench(rounds: int) -> None:
    """Alternate project and bare rounds; print each and the ratio of the medians."""
    with tempfile.TemporaryDirectory(prefix="call-setup-") as tmp:
        server = launch(Path(tmp) / "server")
        try:
            async with async_playwright() as playwright:
                await run_rounds(playwright, server, rounds)
        finally:
            server.stop()


async def run_rounds(playwright: Playwright, server: LocalServer, rounds: int) -> None:
    """Both browsers, both kinds of round, alternating (the first of each kind is a warm-up)."""
    browsers: list[Browser] = [await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                               for _ in range(2)]
    contexts = [await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
                for browser in browsers]
    kiosk_context, console_context = contexts
    project = ProjectCall(server, await kiosk_context.new_page(), await console_context.new_page())
    await project.sign_in()
    bare_pages: dict[str, Page] = {}
    bare_pages["offerer"] = await BareCall.open(browsers[1], lambda: bare_pages["answerer"])
    bare_pages["answerer"] = await BareCall.open(browsers[0], lambda: bare_pages["offerer"])
    bare = BareCall(bare_pages["offerer"], bare_pages["answerer"])
    kinds: dict[str, Callable[[], Awaitable[tuple[float, ...]]]] = {"project": project.round, "bare": bare.round}
    # Per counted round: the time, or None when the round got no picture (reported, not fatal).
    times: dict[str, list[float | None]] = {"project": [], "bare": []}
    print(f"{'round':>7} {'kind':>8} {'ms':>6}   (first frame at the caseworker's side / the kiosk's side)")
    for index in range(rounds + 1):
        # ABBA order: neither kind always runs right after the other.
        order = ("project", "bare") if index % 2 == 0 else ("bare", "project")
        for kind in order:
            label = "warm-up" if index == 0 else str(index)
            try:
                sides = await kinds[kind]()
            except Exception as exc:  # one lost round must not lose the run: it is counted as failed
                print(f"{label:>7} {kind:>8} failed: {exc}", flush=True)
                if index:
                    times[kind].append(None)
                continue
            elapsed = max(sides)  # both sides have a picture
            print(f"{label:>7} {kind:>8} {elapsed:6.0f}   ({sides[0]:.0f} / {sides[1]:.0f})", flush=True)
            if index:
                times[kind].append(elapsed)
    for browser in browsers:
        await browser.close()
    report(times)


def report(times: dict[str, list[float | None]]) -> None:
    """Medians, ranges and the ratio project / bare (failed rounds counted, left out of the figures)."""
    done = {kind: [v for v in values if v is not None] for kind, values in times.items()}
    for kind, values in done.items():
        print(f"{kind:>8}: median {statistics.median(values):.0f} ms, min {min(values):.0f}, "
              f"max {max(values):.0f} ({len(values)} rounds, {len(times[kind]) - len(values)} failed)")
    ratio = statistics.median(done["project"]) / statistics.median(done["bare"])
    # The two rounds of one index ran back to back: their ratio is the least touched by load drifting.
    paired = statistics.median(p / b for p, b in zip(times["project"], times["bare"], strict=True)
                               if p is not None and b is not None)
    print(f"ratio project/bare: {ratio:.2f} of the medians, {paired:.2f} median of the per-index ratios "
          f"(goal ≤ {GOAL_RATIO})")


def main() -> None:
    """Command line: how many counted rounds of each kind."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=10, help="counted rounds of each kind (after one warm-up each)")
    args = parser.parse_args()
    asyncio.run(bench(args.rounds))


if __name__ == "__main__":
    main()
