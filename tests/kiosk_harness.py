"""Helpers for the kiosk browser suites: the real server as a subprocess, Debian chromium, a
caseworker played by Python (aiohttp WebSocket + aiortc offerer), and screenshots at both sizes.

The caseworker runs its own asyncio loop in a thread so that the tests can drive chromium with
Playwright's sync API on the main thread and call the caseworker synchronously in between.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import fractions
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots" / "kiosk"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # A kiosk is configured to play call audio without a prior touch (after a reload mid-call).
    "--autoplay-policy=no-user-gesture-required",
]
SIZES = ((1920, 1080), (1366, 768), (1280, 800))
# A case number as the server issues it with the default JINGLIN_CASE_NUMBER_FORMAT.
CASE_NUMBER = re.compile(r"JA-\d{4}-\d{8}-\d{4}")
SEARCH = "jlk"  # pinyin initials of 敬老卡…


# ---- server ----------------------------------------------------------------------------------


@dataclass
class Server:
    """A running `python -m server serve` with its demo logins."""

    url: str
    demo: dict[str, Any]
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)  # what `python -m server …` commands need

    def command(self, *args: str) -> str:
        """Run a `jinglin` command against this server's data; its standard output."""
        done = subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env=self.env, capture_output=True,
                              check=True, timeout=60)
        return done.stdout.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_server(data_dir: Path, **settings: str) -> Iterator[Server]:
    """Seed demo data into data_dir, serve on a free port until the block ends; `settings` are
    further JINGLIN_… variables (e.g. JINGLIN_CLOCK_START)."""
    port = _free_port()
    env = {**os.environ, "JINGLIN_DATA_DIR": str(data_dir), "JINGLIN_PASSWORD_PROFILE": "fast",
           "JINGLIN_PORT": str(port), "JINGLIN_LOG_LEVEL": os.environ.get("JINGLIN_TEST_SERVER_LOG_LEVEL", "WARNING"),
           **settings}
    demo = _seeded_demo(data_dir, env, settings)
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield Server(url=url, demo=demo, process=process, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# Demo data seeded once per set of settings in this test process: (template data directory, logins).
_DEMO_TEMPLATES: dict[tuple[tuple[str, str], ...], tuple[Path, dict[str, Any]]] = {}


def _seeded_demo(data_dir: Path, env: dict[str, str], settings: dict[str, str]) -> dict[str, Any]:
    """Put the demo data into data_dir and return its logins. `jinglin demo` runs once per set of
    settings (7-15 s: migrations, 249 kiosks, staff); later servers get a copy of its data
    directory (database file and secret key), so every server still starts from a fresh copy."""
    key = tuple(sorted(settings.items()))
    if key not in _DEMO_TEMPLATES:
        template = Path(tempfile.mkdtemp(prefix="jl-demo-"))
        atexit.register(shutil.rmtree, template, True)
        seeded = subprocess.run([sys.executable, "-m", "server", "demo", "--json"], cwd=ROOT,
                                env={**env, "JINGLIN_DATA_DIR": str(template)}, capture_output=True, check=True,
                                timeout=120)
        _DEMO_TEMPLATES[key] = (template, json.loads(seeded.stdout))
    template, demo = _DEMO_TEMPLATES[key]
    shutil.copytree(template, data_dir, dirs_exist_ok=True)
    return copy.deepcopy(demo)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


def get_json(url: str) -> Any:
    """GET a JSON document from the test server."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def caseworker_for(demo: dict[str, Any], street: str, skill: str) -> dict[str, Any]:
    """A demo caseworker of the kiosk's street centre holding the skill (kiosks route there first)."""
    for caseworker in demo["caseworkers"]:
        if caseworker["centre"].startswith(street) and skill in caseworker["skills"]:
            return caseworker
    raise LookupError(f"no caseworker of {street} with {skill}")


def pick_matter(server: Server) -> dict[str, Any]:
    """The first handle-mode match for SEARCH, with its full record (skill, materials)."""
    found = get_json(f"{server.url}/api/v1/matters?q={SEARCH}&mode=handle")["matters"][0]
    return dict(get_json(f"{server.url}/api/v1/matters/{found['id']}"))


# ---- browser ---------------------------------------------------------------------------------


def require_chromium() -> None:
    """Skip (fail in CI) when Debian chromium is missing."""
    if not Path(CHROMIUM).exists():
        message = f"Debian chromium is not installed at {CHROMIUM} (apt-get install -y chromium fonts-wqy-microhei)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def start_chromium(playwright: Playwright, extra_args: Sequence[str] = ()) -> Browser:
    """Debian chromium with a fake camera and microphone; extra_args e.g. a fake-camera video file."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


@contextlib.contextmanager
def launch_browser() -> Iterator[Browser]:
    """Debian chromium with a fake camera and microphone (never `playwright install`)."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = start_chromium(playwright)
        yield browser
        browser.close()


@contextlib.contextmanager
def kiosk_page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1920x1080; fails if the page threw any error."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"uncaught errors in the kiosk page: {errors}"


def wait_until(page: Page, condition: Callable[[], bool], timeout_s: float,
               describe: Callable[[], str] | None = None) -> None:
    """Poll a condition from Python, letting Playwright dispatch its events (route handlers) meanwhile.
    `describe` adds what it returns to the failure (the state a rare failure needs to be understood)."""
    # page.wait_for_function evaluates a string, which the page's CSP (no unsafe-eval) refuses.
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError("condition not met in time" + (f": {describe()}" if describe else ""))
        page.wait_for_timeout(200)


# The call screen shows when the server's `call` reaches the kiosk, after the console has taken
# the offer (and opened its camera): with the suites spread over both cores and two Chromiums per
# test, that once took over 5 s.
CALL_SCREEN_TIMEOUT_MS = 15000


def screen(page: Page, name: str, timeout: float | None = None) -> None:
    """Assert that the kiosk shows this screen (section[data-screen=name]) within timeout ms
    (5 s; CALL_SCREEN_TIMEOUT_MS for the call screen)."""
    if timeout is None:
        timeout = CALL_SCREEN_TIMEOUT_MS if name == "call" else 5000
    expect(page.locator(f'section[data-screen="{name}"]')).to_be_visible(timeout=timeout)


def join_queue(page: Page, server: Server, kiosk: dict[str, Any], matter: dict[str, Any], *, shots: bool) -> str:
    """Sign the kiosk in and walk from the start screen to the waiting screen; returns the ticket number."""
    page.goto(f"{server.url}/kiosk?token={kiosk['token']}")
    screen(page, "start")
    assert "token=" not in page.url, "the device token must leave the address"
    expect(page.locator('[data-role="site-label"]')).to_have_text(kiosk["site"])
    if shots:
        shoot(page, "01-start")
    page.get_by_test_id("start-handle").click()
    screen(page, "catalog")
    expect(page.get_by_test_id("matter-item").first).to_be_visible()
    if shots:
        shoot(page, "02-catalog")
    page.get_by_test_id("matter-search").fill(SEARCH)
    item = page.locator(f'[data-testid="matter-item"][data-matter-id="{matter["id"]}"]')
    expect(page.get_by_test_id("matter-item").first).to_have_attribute("data-matter-id", matter["id"])
    if shots:
        page.locator('[data-action="keypad-toggle"]').click()
        shoot(page, "03-catalog-search-keypad")
    item.click()
    screen(page, "matter")
    expect(page.locator('[data-role="matter-name"]')).to_have_text(matter["name"])
    expect(page.locator('[data-role="matter-spot"]')).to_have_text("当场办结" if matter["on_the_spot"] else "收受分离")
    for material in matter["materials"]:
        expect(page.locator('[data-role="matter-materials"]')).to_contain_text(material["name"])
    if shots:
        shoot(page, "04-matter")
    page.get_by_test_id("matter-start").click()
    screen(page, "device")
    status = page.get_by_test_id("device-check-status")
    expect(status).not_to_have_attribute("data-state", "checking")
    # Chromium's fake camera shows a bright moving pattern: the check must pass it. (Its verdict
    # follows the frames and sound sampled, and on a machine loaded by the whole suite it once
    # still read "warn" after expect's default 5 s: the wait is as long as a screen's.)
    expect(status).to_have_attribute("data-state", "ok", timeout=15000)
    assert page.evaluate("document.querySelector('[data-role=device-video]').videoWidth") > 0
    page.get_by_test_id("speaker-test").click()
    if shots:
        shoot(page, "05-device-check")
    page.get_by_test_id("device-check-continue").click()
    pass_optional_steps(page, shots=shots)
    screen(page, "waiting")
    ticket = page.get_by_test_id("queue-ticket")
    expect(ticket).not_to_be_empty()
    expect(page.get_by_test_id("queue-position")).not_to_be_empty()
    expect(page.get_by_test_id("queue-wait")).not_to_be_empty()
    return ticket.inner_text()


def quick_to_device_check(page: Page, url: str, kiosk: dict[str, Any], matter: dict[str, Any]) -> None:
    """From sign-in to a finished device check without checking each screen (join_queue does that)."""
    page.goto(f"{url}/kiosk?token={kiosk['token']}")
    page.get_by_test_id("start-handle").click()
    page.get_by_test_id("matter-search").fill(SEARCH)
    page.locator(f'[data-testid="matter-item"][data-matter-id="{matter["id"]}"]').click()
    page.get_by_test_id("matter-start").click()
    expect(page.get_by_test_id("device-check-status")).not_to_have_attribute("data-state", "checking")


def console_available(console: Page, url: str, login: dict[str, Any]) -> None:
    """Sign a caseworker in on the console page and go available."""
    console.goto(f"{url}/agent")
    console.get_by_test_id("login-username").fill(login["username"])
    console.get_by_test_id("login-password").fill(login["password"])
    console.get_by_test_id("login-submit").click()
    state = console.get_by_test_id("agent-state")
    expect(state).not_to_have_attribute("data-state", "connecting")
    if state.get_attribute("data-state") != "available":  # still available from an earlier page
        console.get_by_test_id("status-available").click()
    expect(state).to_have_attribute("data-state", "available")


def pass_optional_steps(page: Page, *, shots: bool, priority: str | None = None, choose: bool = True) -> None:
    """Walk the steps between the device check and the queue that appear: the consent notice
    (同意并继续), then availability and priority (no priority, or `priority`; `choose=False` stops there)."""
    wait_until(page, lambda: page.evaluate("document.body.dataset.currentScreen") != "device", 10)
    if page.evaluate("document.body.dataset.currentScreen") == "consent":
        accept = page.get_by_test_id("consent-accept")
        expect(accept).to_be_enabled()
        if shots:
            shoot(page, "05b-consent")
        accept.click()
        wait_until(page, lambda: page.evaluate("document.body.dataset.currentScreen") != "consent", 10)
    if page.evaluate("document.body.dataset.currentScreen") != "availability" or not choose:
        return
    option = (page.locator(f'[data-testid="priority-option"][data-priority="{priority}"]') if priority
              else page.get_by_test_id("priority-none"))
    expect(option).to_be_visible()
    if shots:
        shoot(page, "05c-availability")
    option.click()


# ---- screenshots -----------------------------------------------------------------------------


def shoot(page: Any, name: str) -> None:
    """Screenshot the page at every kiosk size (artifacts/screenshots/kiosk/NAME-WxH.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(120)  # let the layout settle after the resize
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}x{height}.png"))
    page.set_viewport_size(original)


# ---- caseworker ------------------------------------------------------------------------------


class PatternTrack(VideoStreamTrack):
    """A moving bar on grey, 640x360: a picture whose frames visibly change."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        image = np.full((360, 640, 3), 90, dtype=np.uint8)
        x = (self.count * 8) % 600
        image[:, x:x + 40] = (40, 160, 240)
        self.count += 1
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = pts
        frame.time_base = time_base or fractions.Fraction(1, 90000)
        return frame


class Caseworker:
    """A caseworker client (offerer) on its own event loop thread; methods block until done."""

    def __init__(self, server_url: str, username: str, password: str) -> None:
        self.server_url = server_url
        self.username = username
        self.password = password
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.messages: asyncio.Queue[dict[str, Any]] | None = None
        self.skipped: list[dict[str, Any]] = []  # read while waiting for another type
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.call: dict[str, Any] | None = None  # the call held: set on accepting, cleared on ending it
        self.offer: dict[str, Any] | None = None  # the last offer accepted (matter, priority, wait)
        self.ticket_id = ""
        self.kiosk_answered = threading.Event()
        self.reader: asyncio.Task[None] | None = None

    def connection_report(self) -> str:
        """The caseworker's peer connection states, for a failure message."""
        pc = self.pc
        if pc is None:
            return "no peer connection"
        return (f"connection {pc.connectionState}, ice {pc.iceConnectionState}, "
                f"gathering {pc.iceGatheringState}, signaling {pc.signalingState}")

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def sign_in_available(self) -> None:
        """Log in, open the WebSocket, say hello and go available."""
        self._run(self._sign_in())

    def accept_next_offer(self, timeout: float = 30) -> dict[str, Any]:
        """Wait for an offer, accept it, and send the WebRTC offer to the kiosk; returns the call."""
        return self._run(self._accept(timeout), timeout + 10)

    def end_call(self, outcome: str, case_number: str = "") -> None:
        """Record the outcome and end the call (the kiosk then asks for a rating)."""
        self._run(self._end_call(outcome, case_number))

    def transfer(self, skill: str, note: str = "") -> None:
        """转办 the call to another skill's line (the kiosk goes back to waiting)."""
        self._run(self._transfer(skill, note))

    def close(self) -> None:
        """End a call still held (as answered), hang up, sign out of the socket and stop the loop."""
        with contextlib.suppress(Exception):
            self._run(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _sign_in(self) -> None:
        self.messages = asyncio.Queue()
        # unsafe=True: the default jar drops cookies of IP-address hosts such as 127.0.0.1.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self.http.post(f"{self.server_url}/api/v1/auth/login",
                                  json={"username": self.username, "password": self.password}) as response:
            response.raise_for_status()
        self.ws = await self.http.ws_connect(self.server_url.replace("http", "ws", 1) + "/api/v1/ws")
        await self.ws.send_json({"type": "hello", "v": 1})
        self.reader = asyncio.create_task(self._read())
        await self._expect("welcome")
        await self.ws.send_json({"type": "set_status", "status": "available", "id": "go"})
        await self._expect("ok")

    async def _read(self) -> None:
        assert self.ws is not None and self.messages is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if data["type"] == "signal":
                await self._on_signal(data["data"])
            else:
                await self.messages.put(data)

    async def _expect(self, type_: str, timeout: float = 15) -> dict[str, Any]:
        """The next message of type_; others met on the way are kept for later calls (an offer
        may come before the `ok` of going available)."""
        assert self.messages is not None
        for index, message in enumerate(self.skipped):
            if message["type"] == type_:
                del self.skipped[index]
                return message
        async with asyncio.timeout(timeout):
            while True:
                message = await self.messages.get()
                if message["type"] == type_:
                    return message
                if message["type"] == "error":
                    raise AssertionError(f"server refused: {message}")
                self.skipped.append(message)

    async def _accept(self, timeout: float) -> dict[str, Any]:
        assert self.ws is not None
        offer = self.offer = (await self._expect("offer", timeout))["offer"]
        await self.ws.send_json({"type": "accept", "ticket_id": offer["ticket_id"], "fence": offer["fence"]})
        self.ticket_id = offer["ticket_id"]
        self.call = (await self._expect("call"))["call"]
        self.pc = RTCPeerConnection()
        self.pc.addTrack(PatternTrack())
        self.pc.addTrack(AudioStreamTrack())
        # Receive the kiosk's camera and microphone too (sendrecv on both transceivers).
        await self.pc.setLocalDescription(await self.pc.createOffer())
        description = {"type": "offer", "sdp": self.pc.localDescription.sdp}
        await self.ws.send_json({"type": "signal", "call_id": self.call["call_id"],
                                 "data": {"description": description}})
        return self.call

    async def _on_signal(self, data: dict[str, Any]) -> None:
        assert self.pc is not None
        if data.get("description"):
            await self.pc.setRemoteDescription(RTCSessionDescription(**data["description"]))
            self.kiosk_answered.set()
        candidate = data.get("candidate")
        if candidate and candidate.get("candidate"):
            parsed = candidate_from_sdp(candidate["candidate"].split(":", 1)[1])
            parsed.sdpMid = candidate.get("sdpMid")
            parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
            await self.pc.addIceCandidate(parsed)

    async def _end_call(self, outcome: str, case_number: str) -> None:
        assert self.ws is not None and self.call is not None
        await self.ws.send_json({"type": "end_call", "ticket_id": self.ticket_id, "outcome": outcome,
                                 "case_number": case_number, "id": "end"})
        await self._expect("ok")
        self.call = None

    async def _transfer(self, skill: str, note: str) -> None:
        assert self.ws is not None and self.call is not None
        await self.ws.send_json({"type": "transfer", "ticket_id": self.ticket_id, "skill": skill, "note": note,
                                 "id": "transfer"})
        await self._expect("ok")
        self.call = None

    async def _close(self) -> None:
        if self.call is not None and self.ws is not None and not self.ws.closed:
            # A test that failed mid-call must not leave the call to the server's reconnect grace:
            # the next test signs the same demo caseworker in and would find it still in the call.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._end_call("answered", ""), 5)
        if self.pc is not None:
            await self.pc.close()
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        if self.http is not None:
            await self.http.close()


# Fixtures shared by the kiosk browser suites (imported by name into each module).

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("kiosk")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with kiosk_page(browser) as fresh:
        yield fresh


@pytest.fixture(scope="module")
def matter(server: Server) -> dict[str, Any]:
    return pick_matter(server)
