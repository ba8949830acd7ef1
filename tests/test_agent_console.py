"""The caseworker console (/agent) in Chromium against a real server, the kiosk played by aiortc.

A session fixture seeds demo data and serves it from a subprocess; each test signs a caseworker of
a different centre in through the page and plays a kiosk of that centre's street with the
protocol client and an aiortc answerer (server/simulate), so tests never see each other's queue.
Screenshots of every console state go to artifacts/screenshots/agent/ (1366x768).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from server.simulate.client import ProtocolClient, of_type
from server.simulate.peers import CallPeer
from tests.accessibility import assert_accessible_async
from tests.held_messages import HeldMessage
from tests.kiosk_harness import run_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots" / "agent"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
WRAP_UP_S = 5

@dataclass
class Server:
    base_url: str
    demo: dict[str, Any]
    matters: list[dict[str, Any]]
    env: dict[str, str]

    def add_caseworker(self, username: str, centre: str, skill: str) -> dict[str, Any]:
        """A caseworker account made with `jinglin user add` (demo centres share no skill inside)."""
        password = "agent-test-" + username
        subprocess.run([sys.executable, "-m", "server", "user", "add", username, "--role", "caseworker",
                        "--centre", centre, "--skill", skill, "--password-stdin"], cwd=ROOT, env=self.env,
                       input=password, capture_output=True, text=True, timeout=60, check=True)
        return {"username": username, "password": password, "centre": centre, "skills": [skill]}


@pytest.fixture(scope="session")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A seeded server in a subprocess (SQLite and embedded Redis in a temporary data dir), with a
    short wrap-up so the console's wrap-up countdown ends within a test."""
    with run_server(tmp_path_factory.mktemp("agent-data"), JINGLIN_WRAP_UP_S=str(WRAP_UP_S)) as running:
        with urllib.request.urlopen(running.url + "/api/v1/matters", timeout=5) as response:
            matters = json.load(response)["matters"]
        yield Server(running.url, running.demo, matters, running.env)


@dataclass
class Cast:
    """A caseworker, a second caseworker of the same centre sharing the matter's skill (or None),
    a kiosk in that centre's street and a matter the caseworker can take."""

    caseworker: dict[str, Any]
    colleague: dict[str, Any] | None
    kiosk: dict[str, Any]
    matter: dict[str, Any]


_used_centres: set[str] = set()


def cast_for(server: Server, *, need_colleague: bool = False) -> Cast:
    """People of a centre no earlier test used, so each test has a queue of its own; with
    `need_colleague`, a second caseworker of that centre with the matter's skill is made."""
    by_centre: dict[str, list[dict[str, Any]]] = {}
    for cw in server.demo["caseworkers"]:
        by_centre.setdefault(cw["centre"], []).append(cw)
    # A matter whose materials include some to photograph exercises the most of the checklist.
    matters = sorted((m for m in server.matters if m["mode"] in ("handle", "both")),
                     key=lambda m: (-sum(x["capture"] for x in m["materials"]), -len(m["materials"])))
    for centre, people in by_centre.items():
        if centre in _used_centres:
            continue
        kiosks = [k for k in server.demo["kiosks"] if centre.startswith(k["street"])]
        if not kiosks:
            continue
        for cw in people:
            for matter in matters:
                if matter["skill"] not in cw["skills"]:
                    continue
                colleague = next((o for o in people if o is not cw and matter["skill"] in o["skills"]), None)
                if need_colleague and colleague is None:
                    colleague = server.add_caseworker(f"{cw['username']}-colleague", centre, matter["skill"])
                _used_centres.add(centre)
                return Cast(cw, colleague, kiosks[0], matter)
    raise AssertionError("demo data has no suitable centre left")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium with fake camera and microphone."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


_page_errors: list[str] = []


@pytest.fixture(autouse=True)
def no_page_errors() -> Iterator[None]:
    """Uncaught exceptions in the console page fail the test that caused them."""
    _page_errors.clear()
    yield
    assert not _page_errors, f"errors in the page: {_page_errors}"


async def open_console(browser: Browser, server: Server, relay: HeldMessage | None = None) -> Page:
    """A fresh 1366x768 page on /agent; with relay, its protocol socket goes through it."""
    context = await browser.new_context(viewport=VIEWPORT, base_url=server.base_url, locale="zh-CN")
    page = await context.new_page()
    page.on("pageerror", lambda error: _page_errors.append(str(error)))
    if relay is not None:
        await page.route_web_socket("**/api/v1/ws", relay.relay)
    await page.goto("/agent")
    return page


async def shot(page: Page, name: str) -> None:
    """Save a screenshot of the console state."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def sign_in(page: Page, caseworker: dict[str, Any]) -> None:
    """Use the login form and wait for the console."""
    await page.get_by_test_id("login-username").fill(caseworker["username"])
    await page.get_by_test_id("login-password").fill(caseworker["password"])
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("status-available")).to_be_visible()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "offline")


class Kiosk:
    """The kiosk side: protocol client plus an aiortc answerer created on `call`."""

    def __init__(self, server: Server, kiosk: dict[str, Any]) -> None:
        self.client = ProtocolClient(server.base_url, f"kiosk-{kiosk['id']}")
        self.token = kiosk["token"]
        self.peer: CallPeer | None = None
        # The console's offer goes out right behind its accept and may overtake our `call` (as the
        # kiosk page does, such signals wait for it rather than being dropped).
        self.early_signals: list[dict[str, Any]] = []
        self.client.on("call", self._on_call)
        self.client.on("signal", self._on_signal)

    async def start(self) -> None:
        await self.client.login_kiosk(self.token)
        await self.client.connect()

    async def join(self, matter_id: str) -> dict[str, Any]:
        await self.client.call({"type": "join", "matter_id": matter_id, "mode": "handle"})
        return await self.client.wait_for(of_type("ticket"), 10, what="ticket")

    def _on_call(self, message: dict[str, Any]) -> None:
        call = message["call"]
        call_id = call["call_id"]

        async def send(data: dict[str, Any]) -> None:
            await self.client.send({"type": "signal", "call_id": call_id, "data": data})

        self.peer = CallPeer(call_id, "answerer", send, self.client.welcome.get("ice_servers"))
        early = [m for m in self.early_signals if m["call_id"] == call_id]
        self.early_signals = []
        for signal in early:
            self.peer.feed(signal["data"])

    def _on_signal(self, message: dict[str, Any]) -> None:
        if self.peer is not None and self.peer.call_id == message["call_id"]:
            self.peer.feed(message["data"])
        else:
            self.early_signals.append(message)

    async def close(self) -> None:
        if self.peer is not None:
            await self.peer.close()
        await self.client.close()


@pytest.fixture
async def kiosks() -> AsyncIterator[list[Kiosk]]:
    """Kiosks made by the test, closed after it."""
    made: list[Kiosk] = []
    yield made
    for kiosk in made:
        await kiosk.close()


async def new_kiosk(kiosks: list[Kiosk], server: Server, cast: Cast) -> Kiosk:
    kiosk = Kiosk(server, cast.kiosk)
    kiosks.append(kiosk)
    await kiosk.start()
    return kiosk


async def wait_video_playing(page: Page) -> dict[str, float]:
    """The resident's video decodes frames and its clock advances."""
    video = page.get_by_test_id("remote-video")
    await expect(video).to_be_visible()
    await page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=remote-video]');"
        " return v.videoWidth > 0 && v.currentTime > 0; }",
        timeout=45000)  # ICE, DTLS and the first key frame: seconds, or tens of them on a loaded CI machine
    first = await video.evaluate("v => ({w: v.videoWidth, h: v.videoHeight, t: v.currentTime})")
    await page.wait_for_timeout(1000)
    later = await video.evaluate("v => v.currentTime")
    assert later > first["t"], "remote video is frozen"
    return first


async def test_login_refuses_bad_password_then_signs_in(browser: Browser, agent_server: Server) -> None:
    cast = cast_for(agent_server)
    page = await open_console(browser, agent_server)
    await expect(page.get_by_test_id("login-submit")).to_have_text("登录")
    await shot(page, "01-login")
    await page.get_by_test_id("login-username").fill(cast.caseworker["username"])
    await page.get_by_test_id("login-password").fill("wrong-password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码不正确")
    await shot(page, "02-login-error")
    await sign_in(page, cast.caseworker)
    await expect(page.get_by_test_id("centre-label")).to_have_text(cast.caseworker["centre"])
    await expect(page.get_by_test_id("idle-card")).to_contain_text("尚未上线")
    await shot(page, "03-offline")
    # A reload keeps the session: straight back into the console.
    await page.reload()
    await expect(page.get_by_test_id("status-available")).to_be_visible()
    await expect(page.get_by_test_id("login-submit")).to_be_hidden()


async def test_an_answer_ahead_of_the_call_leaves_no_connecting_notice(
        browser: Browser, agent_server: Server, kiosks: list[Kiosk]) -> None:
    """The kiosk's answer overtakes the console's `call` (another server process relays it first):
    the peer prepared while the offer rang connects, and the late `call` adopts it with its video
    playing and no "connecting" notice over it."""
    cast = cast_for(agent_server)
    held = HeldMessage("call")  # let the kiosk's answer and media go ahead of it
    page = await open_console(browser, agent_server, held)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    kiosk = await new_kiosk(kiosks, agent_server, cast)
    await kiosk.join(cast.matter["id"])
    await expect(page.get_by_test_id("offer")).to_be_visible(timeout=10000)
    # While the offer rings the console opens its camera and prepares its WebRTC offer (a fake
    # camera takes well under a second); accepted after that, the offer goes out behind the accept.
    await page.wait_for_timeout(2000)
    await page.get_by_test_id("offer-accept").click()
    # The kiosk answers and the console's camera reaches it while the console still waits for its
    # `call`.
    deadline = time.monotonic() + 10
    while kiosk.peer is None:
        assert time.monotonic() < deadline, "the kiosk got no call"
        await asyncio.sleep(0.05)
    assert await kiosk.peer.wait_first_frame(30), "kiosk got no video from the console"
    # The server's `call` to the console may reach the relay after the kiosk's first frame on a
    # busy machine: it is held back (and then released) all the same.
    deadline = time.monotonic() + 10
    while not held.held:
        assert time.monotonic() < deadline, "the console got no call"
        await asyncio.sleep(0.05)
    held.release()
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)
    await wait_video_playing(page)
    await expect(page.get_by_test_id("call-overlay")).to_be_hidden()
    await page.get_by_test_id("outcome-select").select_option("accepted")
    await page.keyboard.press("Control+e")
    await expect(page.get_by_test_id("wrap-up")).to_be_visible()


async def test_call_from_offer_to_wrap_up(browser: Browser, agent_server: Server, kiosks: list[Kiosk]) -> None:
    cast = cast_for(agent_server)
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    await shot(page, "04-available")

    kiosk = await new_kiosk(kiosks, agent_server, cast)
    await kiosk.join(cast.matter["id"])
    offer = page.get_by_test_id("offer")
    await expect(offer).to_be_visible(timeout=10000)
    await expect(page.get_by_test_id("offer-matter")).to_have_text(cast.matter["name"])
    await expect(page.get_by_test_id("offer-site")).to_have_text(cast.kiosk["site"])
    await expect(page.get_by_test_id("offer-street")).to_have_text(cast.kiosk["street"])
    await expect(page.get_by_test_id("offer-accept")).to_contain_text("Enter")
    await shot(page, "05-offer")

    await page.keyboard.press("Enter")  # the accept shortcut
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)
    size = await wait_video_playing(page)
    assert size["w"] > 0 and size["h"] > 0
    assert kiosk.peer is not None and await kiosk.peer.wait_first_frame(10), "kiosk got no video from the console"

    checklist = page.get_by_test_id("materials-checklist")
    for material in cast.matter["materials"]:
        await expect(checklist).to_contain_text(material["name"])
    capture_buttons = page.get_by_test_id("request-capture")
    await expect(capture_buttons).to_have_count(sum(m["capture"] for m in cast.matter["materials"]))
    await expect(page.get_by_test_id("call-quality")).not_to_have_attribute("data-level", "unknown", timeout=8000)
    await shot(page, "06-in-call")

    # Ending without an outcome is refused by the page: nothing reaches the server.
    await page.get_by_test_id("end-call").click()
    await expect(page.get_by_test_id("outcome-error")).to_have_text("请选择办理结果")
    await expect(page.get_by_test_id("outcome-select")).to_be_focused()
    await expect(page.get_by_test_id("call-stage")).to_be_visible()
    await shot(page, "07-outcome-refused")

    # 受理: the case number is the server's (no field to type one unless JINGLIN_CASE_NUMBER_TYPED).
    mark = kiosk.client.mark()
    await page.get_by_test_id("outcome-select").select_option("accepted")
    await expect(page.get_by_test_id("case-number")).to_be_hidden()
    await page.get_by_test_id("notes").fill("材料齐全，当场受理")
    await page.keyboard.press("Control+e")  # the end-call shortcut
    ended = await kiosk.client.wait_for(of_type("call_ended"), 10, start=mark, what="call_ended")
    assert ended["outcome"] == "accepted"
    assert ended["case_number"].startswith("JA-"), ended

    await expect(page.get_by_test_id("wrap-up")).to_be_visible()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "wrap_up")
    await expect(page.get_by_test_id("wrap-up-countdown")).to_contain_text("剩余")
    await expect(page.get_by_test_id("call-stage")).to_be_hidden()
    await expect(page.get_by_test_id("today-sessions")).to_contain_text(cast.matter["name"])
    await expect(page.get_by_test_id("today-sessions")).to_contain_text(ended["case_number"])
    await shot(page, "08-wrap-up")

    # The wrap-up timer ends by itself on the server; the console is available again.
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available",
                                                                         timeout=(WRAP_UP_S + 5) * 1000)
    await expect(page.get_by_test_id("wrap-up")).to_be_hidden()
    await expect(page.get_by_test_id("idle-card")).to_contain_text("等待来电")
    await shot(page, "09-available-after-call")

    # Today's sessions come from the server: the same after a reload of the tab.
    await page.reload()
    await expect(page.get_by_test_id("today-sessions")).to_contain_text(cast.matter["name"])


async def test_reject_keeps_ticket_for_next_caseworker(browser: Browser, agent_server: Server,
                                                       kiosks: list[Kiosk]) -> None:
    cast = cast_for(agent_server, need_colleague=True)
    assert cast.colleague is not None
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")

    kiosk = await new_kiosk(kiosks, agent_server, cast)
    ticket = await kiosk.join(cast.matter["id"])
    await expect(page.get_by_test_id("offer")).to_be_visible(timeout=10000)
    mark = kiosk.client.mark()
    await page.get_by_test_id("offer-reject").click()
    await expect(page.get_by_test_id("offer")).to_be_hidden()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    back = await kiosk.client.wait_for(
        lambda m: m.get("type") == "ticket" and m["ticket"]["state"] == "waiting", 10, start=mark, what="waiting")
    assert back["ticket"]["session_id"] == ticket["ticket"]["session_id"]
    assert back["ticket"]["position"] == 1

    colleague = ProtocolClient(agent_server.base_url, "colleague")
    try:
        await colleague.login_staff(cast.colleague["username"], cast.colleague["password"])
        await colleague.connect()
        await colleague.call({"type": "set_status", "status": "available"})
        offered = await colleague.wait_for(of_type("offer"), 10, what="offer to the colleague")
        assert offered["offer"]["ticket_id"] == ticket["ticket"]["session_id"]
        # The caseworker who declined is not asked again.
        await page.wait_for_timeout(500)
        await expect(page.get_by_test_id("offer")).to_be_hidden()
        await colleague.call({"type": "reject", "ticket_id": offered["offer"]["ticket_id"],
                              "fence": offered["offer"]["fence"]})
        await colleague.call({"type": "set_status", "status": "offline"})
    finally:
        await colleague.close()
    await kiosk.client.call({"type": "cancel"})


async def test_incomplete_reports_unticked_materials_and_break(browser: Browser, agent_server: Server,
                                                               kiosks: list[Kiosk]) -> None:
    cast = cast_for(agent_server)
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    kiosk = await new_kiosk(kiosks, agent_server, cast)
    await kiosk.join(cast.matter["id"])
    await page.get_by_test_id("offer-accept").click()
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)

    names = [m["name"] for m in cast.matter["materials"]]
    boxes = page.get_by_test_id("material-check")
    await expect(boxes).to_have_count(len(names))
    for index in range(len(names)):
        await boxes.nth(index).check()
    await page.get_by_test_id("outcome-select").select_option("incomplete")
    await page.get_by_test_id("end-call").click()
    await expect(page.get_by_test_id("outcome-error")).to_contain_text("取消勾选缺少的材料")
    await boxes.nth(0).uncheck()
    await expect(page.get_by_test_id("missing-list")).to_have_text(names[0])
    await shot(page, "10-incomplete")

    # The transfer choice lists the catalog's skills by their Chinese names (GET /api/v1/skills).
    await page.get_by_test_id("outcome-select").select_option("transfer")
    skills = {m["skill"] for m in agent_server.matters}
    options = page.get_by_test_id("transfer-skill").locator("option")
    await expect(options).to_have_count(len(skills) + 1)
    vocabulary = (await (await page.request.get("/api/v1/skills")).json())["skills"]
    named = next(skill for skill in vocabulary if skill["id"] in skills)
    await expect(page.get_by_test_id("transfer-skill").locator(f'option[value="{named["id"]}"]')).to_contain_text(
        named["name"])
    await shot(page, "11-transfer-form")
    await page.get_by_test_id("outcome-select").select_option("incomplete")

    mark = kiosk.client.mark()
    await page.get_by_test_id("end-call").click()
    ended = await kiosk.client.wait_for(of_type("call_ended"), 10, start=mark, what="call_ended")
    assert ended["outcome"] == "incomplete"
    await expect(page.get_by_test_id("today-sessions")).to_contain_text("材料不全")

    # Finish wrap-up early (well before its 5 s), then take a break with a reason.
    await expect(page.get_by_test_id("wrap-up")).to_be_visible()
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available", timeout=2000)
    await page.get_by_test_id("break-reason").select_option("用餐")
    await page.get_by_test_id("status-break").click()
    await expect(page.get_by_test_id("agent-state")).to_have_text("小休 · 用餐")
    await expect(page.get_by_test_id("idle-card")).to_contain_text("小休中（用餐）")
    await shot(page, "12-break")
    await page.get_by_test_id("status-offline").click()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "offline")


async def test_transfer_requeues_ticket_to_other_skill(browser: Browser, agent_server: Server,
                                                       kiosks: list[Kiosk]) -> None:
    cast = cast_for(agent_server)
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    kiosk = await new_kiosk(kiosks, agent_server, cast)
    await kiosk.join(cast.matter["id"])
    await page.get_by_test_id("offer-accept").click()
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)

    target = next(m["skill"] for m in agent_server.matters if m["skill"] not in cast.caseworker["skills"])
    await page.get_by_test_id("outcome-select").select_option("transfer")
    await page.get_by_test_id("end-call").click()
    await expect(page.get_by_test_id("outcome-error")).to_have_text("请选择转至的业务")
    await page.get_by_test_id("transfer-skill").select_option(target)
    await page.get_by_test_id("transfer-note").fill("需户籍窗口办理")
    mark = kiosk.client.mark()
    await page.get_by_test_id("end-call").click()
    ended = await kiosk.client.wait_for(of_type("call_ended"), 10, start=mark, what="call_ended")
    assert ended["reason"] == "transferred"
    await kiosk.client.wait_for(
        lambda m: m.get("type") == "ticket" and m["ticket"]["state"] in ("waiting", "requeued"), 10, start=mark,
        what="ticket back in line")
    await expect(page.get_by_test_id("today-sessions")).to_contain_text("已转办")
    await expect(page.get_by_test_id("call-stage")).to_be_hidden()
    await kiosk.client.call({"type": "cancel"})


def _document_jpeg() -> bytes:
    """A synthetic ID card photographed well (the quality suite's first good sample), as JPEG."""
    import cv2

    from tests.quality_fixtures.dataset import generate_samples

    sample = next(generate_samples(1))
    ok, data = cv2.imencode(".jpg", sample.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data.tobytes())


async def _upload_still(kiosk: Kiosk, base_url: str, capture_id: str, image: bytes) -> None:
    """The kiosk's answer to `capture_take`: the full-resolution still, uploaded over HTTP."""
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("image", image, filename="still.jpg", content_type="image/jpeg")
    async with kiosk.client.http.post(f"{base_url}/api/v1/captures/{capture_id}/image", data=form) as response:
        assert response.status == 200, await response.text()


async def test_capture_request_review_retake_and_accept(browser: Browser, agent_server: Server,
                                                        kiosks: list[Kiosk]) -> None:
    cast = cast_for(agent_server)
    material = next((m for m in cast.matter["materials"] if m["capture"]), None)
    assert material is not None, "the chosen matter has no material to photograph"
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    kiosk = await new_kiosk(kiosks, agent_server, cast)
    await kiosk.join(cast.matter["id"])
    await page.get_by_test_id("offer-accept").click()
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)
    await wait_video_playing(page)

    mark = kiosk.client.mark()
    await page.locator(f'[data-testid="request-capture"][data-material="{material["name"]}"]').click()
    status = page.get_by_test_id("capture-status")
    await expect(status).to_be_visible()
    request = None
    for _ in range(50):
        assert "暂不可用" not in await status.inner_text(), "capture_request was answered `unavailable`"
        with contextlib.suppress(TimeoutError):
            request = await kiosk.client.wait_for(of_type("capture_request"), 0.2, start=mark)
            break
    assert request is not None, "the kiosk was not asked to capture"
    assert request["material"] == material["name"]
    await expect(status).to_contain_text(material["name"])
    # Under the checklist, at 1366x768 without scrolling: the caseworker sees the request go out.
    await expect(status).to_be_in_viewport(ratio=1)
    await shot(page, "13-capture-waiting")
    # Reloaded while the kiosk has not sent its still: the open request comes back, named.
    await page.reload()
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)
    await expect(status).to_contain_text(material["name"])
    await expect(page.get_by_test_id("capture-now")).to_be_visible()
    await expect(status).to_be_in_viewport(ratio=1)
    await shot(page, "13-capture-waiting-after-reload")

    # Manual capture: the kiosk is told to take the still at once and uploads it.
    image = _document_jpeg()
    for attempt in ("retake", "accept"):
        capture_id = request["capture_id"]
        mark = kiosk.client.mark()
        await page.get_by_test_id("capture-now").click()
        await kiosk.client.wait_for(of_type("capture_take", capture_id=capture_id), 10, start=mark,
                                    what="capture_take")
        await _upload_still(kiosk, agent_server.base_url, capture_id, image)
        review_image = page.get_by_test_id("capture-image")
        await expect(review_image).to_be_visible(timeout=10000)
        await page.wait_for_function(
            "() => { const i = document.querySelector('[data-testid=capture-image]');"
            " return i.complete && i.naturalWidth > 0; }")
        href = await page.get_by_test_id("capture-original").get_attribute("href")
        assert href and "variant=original" in href
        if attempt == "retake":
            await shot(page, "14-capture-review")
            mark = kiosk.client.mark()
            await page.get_by_test_id("capture-retake").click()
            request = await kiosk.client.wait_for(of_type("capture_request"), 10, start=mark, what="new request")
            assert request["capture_id"] != capture_id and request["material"] == material["name"]
            await expect(page.get_by_test_id("capture-review")).to_be_hidden()
        else:
            await page.get_by_test_id("capture-accept").click()

    await expect(page.get_by_test_id("capture-review")).to_be_hidden()
    row = page.locator(f'[data-testid="materials-checklist"] li[data-material="{material["name"]}"]')
    await expect(row.get_by_test_id("capture-thumb")).to_be_visible()
    await expect(row.get_by_test_id("material-check")).to_be_checked()
    await shot(page, "15-capture-accepted")


def _make_overdue(server: Server, callback_id: int) -> None:
    """Move a callback's due time into the past, straight in the server's SQLite file."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(Path(server.env["JINGLIN_DATA_DIR"]) / "jinglin.sqlite3")) as db:
        db.execute("UPDATE callbacks SET due_at = '2026-01-05 01:00:00.000000' WHERE id = ?", (callback_id,))
        db.commit()


async def _callback_ids(page: Page) -> list[str]:
    return [str(await node.get_attribute("data-callback-id"))
            for node in await page.get_by_test_id("callback-item").all()]


async def test_callbacks_are_taken_called_and_closed(browser: Browser, agent_server: Server,
                                                     kiosks: list[Kiosk]) -> None:
    cast = cast_for(agent_server)
    kiosk = await new_kiosk(kiosks, agent_server, cast)
    for phone in ("13812345678", "021-87654321"):
        await kiosk.client.call({"type": "callback_request", "matter_id": cast.matter["id"], "phone": phone,
                                 "preferred": "下午"})
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    listed = (await (await page.request.get("/api/v1/callbacks?state=open")).json())["items"]
    assert [c["phone"] for c in listed] == ["138****5678", "021-****4321"]
    first, second = (str(c["id"]) for c in listed)
    _make_overdue(agent_server, int(second))
    await page.reload()  # a (re)connect reads the list again

    # By due time: the overdue one first, marked; numbers masked until taken.
    items = page.get_by_test_id("callback-item")
    await expect(items).to_have_count(2)
    assert await _callback_ids(page) == [second, first]
    late = page.locator(f'[data-testid="callback-item"][data-callback-id="{second}"]')
    await expect(late).to_have_attribute("data-overdue", "1")
    await expect(late.get_by_test_id("callback-overdue")).to_have_text("已超期")
    await expect(late.get_by_test_id("callback-phone-shown")).to_have_text("021-****4321")
    await expect(late).to_contain_text(cast.matter["name"])
    await expect(late.get_by_test_id("callback-due")).to_contain_text("应于 01-05 09:00 前回电")
    await expect(page.locator('[data-role="callback-counts"]')).to_have_text("共 2 条 · 已超期 1 条")
    await assert_accessible_async(page, "console callbacks", min_font_px=14)
    await shot(page, "16-callbacks")

    # Take: the full number, to dial; closing needs the taker (the API refuses a colleague).
    await late.get_by_test_id("callback-take").click()
    await expect(late).to_have_attribute("data-state", "taken")
    phone = late.get_by_test_id("callback-phone-shown")
    await expect(phone).to_have_text("021-87654321")
    assert await phone.get_attribute("href") == "tel:02187654321"
    assert await _callback_ids(page) == [second, first]  # the taker's own stay on top
    await assert_accessible_async(page, "console callback taken", min_font_px=14)
    await shot(page, "17-callback-taken")
    await late.get_by_test_id("callback-note").fill("两次无人接听")
    await late.get_by_test_id("callback-unreachable").click()
    await expect(late).to_be_hidden()
    await expect(items).to_have_count(1)

    # Taken, handed back, taken again and closed as done.
    other = page.locator(f'[data-testid="callback-item"][data-callback-id="{first}"]')
    await other.get_by_test_id("callback-take").click()
    await other.get_by_test_id("callback-release").click()
    await expect(other).to_have_attribute("data-state", "open")
    await expect(other.get_by_test_id("callback-phone-shown")).to_have_text("138****5678")
    await other.get_by_test_id("callback-take").click()
    await other.get_by_test_id("callback-note").fill("已告知所需材料")
    await other.get_by_test_id("callback-close").click()
    await expect(items).to_have_count(0)
    await expect(page.locator('[data-role="callbacks-empty"]')).to_be_visible()
    closed = {c["id"]: c for state in ("done", "unreachable")
              for c in (await (await page.request.get(f"/api/v1/callbacks?state={state}")).json())["items"]}
    assert (closed[int(second)]["state"], closed[int(second)]["note"]) == ("unreachable", "两次无人接听")
    assert (closed[int(first)]["state"], closed[int(first)]["note"]) == ("done", "已告知所需材料")

    # A new request shows up by itself (the list is read again every 20 s).
    await kiosk.client.call({"type": "callback_request", "matter_id": cast.matter["id"], "phone": "13900001111"})
    await expect(items).to_have_count(1, timeout=25000)
    await expect(items.get_by_test_id("callback-phone-shown")).to_have_text("139****1111")


class ForgetfulKiosk(Kiosk):
    """A kiosk whose socket is as good as down while `deaf`: the caseworker's signals are lost."""

    def __init__(self, server: Server, kiosk: dict[str, Any]) -> None:
        super().__init__(server, kiosk)
        self.deaf = True
        self.lost = 0

    def _on_signal(self, message: dict[str, Any]) -> None:
        if self.deaf:
            self.lost += 1
            return
        super()._on_signal(message)


async def test_an_offer_lost_while_the_kiosk_was_away_is_made_again(
        browser: Browser, agent_server: Server, kiosks: list[Kiosk]) -> None:
    """(Last in the module: its centre is one no other test here takes.) Signals are not stored:
    the console's first offer is lost with the kiosk's socket. When the
    kiosk is back (`peer` online, not a new page), the console, still waiting for an answer to
    that offer, makes a new one rather than waiting forever, and the call connects."""
    cast = cast_for(agent_server)
    page = await open_console(browser, agent_server)
    await sign_in(page, cast.caseworker)
    await page.get_by_test_id("status-available").click()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")
    kiosk = ForgetfulKiosk(agent_server, cast.kiosk)
    kiosks.append(kiosk)
    await kiosk.start()
    await kiosk.join(cast.matter["id"])
    await expect(page.get_by_test_id("offer")).to_be_visible(timeout=10000)
    await page.get_by_test_id("offer-accept").click()
    await expect(page.get_by_test_id("call-stage")).to_be_visible(timeout=10000)
    deadline = time.monotonic() + 15
    while kiosk.peer is None or kiosk.lost == 0:
        assert time.monotonic() < deadline, "the console's offer never reached the kiosk's socket"
        await asyncio.sleep(0.05)
    await page.wait_for_timeout(1000)  # its candidates are lost too
    await kiosk.client.drop()
    kiosk.deaf = False
    await kiosk.client.reconnect(10)
    assert await kiosk.peer.wait_first_frame(30), "the kiosk got no new offer, or no video"
    await wait_video_playing(page)
    await expect(page.get_by_test_id("call-overlay")).to_be_hidden()
    await page.get_by_test_id("outcome-select").select_option("answered")
    await page.keyboard.press("Control+e")
    await expect(page.get_by_test_id("wrap-up")).to_be_visible()
