"""Notice and consent in two Chromiums: the kiosk shows the notice before queueing; a resident who
declines still consults by video, and the caseworker's console says so and cannot ask for captures.

Screenshots of the new screens go to artifacts/screenshots/acceptance/.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect, sync_playwright
from pypdf import PdfReader

from tests.held_messages import HeldMessage
from tests.kiosk_harness import (
    CASE_NUMBER,
    ROOT,
    Server,
    caseworker_for,
    console_available,
    pass_optional_steps,
    pick_matter,
    quick_to_device_check,
    require_chromium,
    run_server,
    screen,
    start_chromium,
    wait_until,
)

pytestmark = pytest.mark.browser

SHOTS = ROOT / "artifacts" / "screenshots" / "acceptance"
KIOSK_VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
CONSOLE_VIEWPORT: ViewportSize = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("acceptance-e2e")) as running:
        yield running


def shot(page: Page, name: str) -> None:
    """Save one screenshot of a new screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@dataclass
class Rig:
    """A signed-in, available console and a kiosk page, each in its own Chromium."""

    console_context: BrowserContext
    console: Page
    page: Page


@contextlib.contextmanager
def rig(server: Server, login: dict[str, Any]) -> Iterator[Rig]:
    """Two Chromiums; fails the test on any uncaught page error."""
    errors: list[str] = []
    with sync_playwright() as playwright:
        browsers = [start_chromium(playwright), start_chromium(playwright)]
        try:
            console_context = browsers[0].new_context(viewport=CONSOLE_VIEWPORT, locale="zh-CN")
            made = Rig(console_context, console_context.new_page(),
                       browsers[1].new_context(viewport=KIOSK_VIEWPORT, locale="zh-CN").new_page())
            for side, p in (("console", made.console), ("kiosk", made.page)):
                p.set_default_timeout(15000)
                p.on("pageerror", lambda error, side=side: errors.append(f"{side}: {error}"))
            console_available(made.console, server.url, login)
            yield made
        finally:
            for browser in browsers:
                browser.close()
    assert not errors, f"uncaught errors in the pages: {errors}"


def test_declined_consent_consults_without_capture(server: Server) -> None:
    require_chromium()
    matter = pick_matter(server)
    captured = [m["name"] for m in matter["materials"] if m["capture"]]
    assert captured, "the demo matter must have materials photographed by camera"
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    with rig(server, login) as made:
        console, page = made.console, made.page
        quick_to_device_check(page, server.url, kiosk, matter)
        page.get_by_test_id("device-check-continue").click()
        screen(page, "consent")
        notice = page.get_by_test_id("consent-notice")
        expect(page.get_by_test_id("consent-accept")).to_be_enabled()
        for name in captured:
            expect(notice).to_contain_text(name)
        expect(notice).to_contain_text("社区事务受理服务中心")
        expect(notice).to_contain_text("30天")  # the default retention
        shot(page, "01-kiosk-consent-notice")
        page.get_by_test_id("consent-decline").click()
        expect(page.get_by_test_id("consent-consult")).to_be_visible()
        expect(page.get_by_test_id("consent-accept")).to_be_hidden()
        shot(page, "02-kiosk-consent-declined")
        page.get_by_test_id("consent-consult").click()
        pass_optional_steps(page, shots=False)  # availability and priority, when shown
        screen(page, "waiting")

        expect(console.get_by_test_id("offer")).to_be_visible(timeout=10000)
        console.get_by_test_id("offer-accept").click()
        screen(page, "call")
        status = console.get_by_test_id("consent-status")
        expect(status).to_have_attribute("data-choice", "declined")
        expect(status).to_contain_text("不同意")
        buttons = console.get_by_test_id("request-capture")
        expect(buttons).to_have_count(len(captured))
        for i in range(len(captured)):
            expect(buttons.nth(i)).to_be_disabled()
        shot(console, "03-console-consent-declined")
        # The consultation ends as answered: no receipt for it.
        console.get_by_test_id("outcome-select").select_option("answered")
        console.get_by_test_id("end-call").click()
        screen(page, "ended")
        expect(page.get_by_test_id("receipt")).to_be_hidden()
        console.get_by_test_id("finish-wrap-up").click()
        expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")


def test_receipts_for_incomplete_and_accepted(server: Server) -> None:
    require_chromium()
    matter = pick_matter(server)
    names = [m["name"] for m in matter["materials"]]
    kiosk = server.demo["kiosks"][0]
    login = caseworker_for(server.demo, kiosk["street"], matter["skill"])
    with rig(server, login) as made:
        console, console_context, page = made.console, made.console_context, made.page

        # 材料不全: every unticked material is a checkbox; the one cleared stays off the receipt.
        into_call(page, console, server, kiosk, matter)
        console.get_by_test_id("outcome-select").select_option("incomplete")
        boxes = console.get_by_test_id("missing-material")
        expect(boxes).to_have_count(len(names))
        if len(names) > 1:
            console.locator(f'[data-testid="missing-material"][data-material="{names[-1]}"]').uncheck()
        shot(console, "04-console-missing-materials")
        console.get_by_test_id("end-call").click()
        screen(page, "ended")
        expect(page.get_by_test_id("receipt")).to_be_visible()
        listed = names[:-1] if len(names) > 1 else names
        expect(page.get_by_test_id("receipt-missing")).to_have_count(len(listed))
        for name in listed:
            expect(page.locator(f'[data-testid="receipt-missing"][data-material="{name}"]')).to_be_visible()
        expect(page.get_by_test_id("receipt-case-number")).to_be_hidden()
        expect(page.get_by_test_id("receipt-print")).to_be_visible()
        shot(page, "05-kiosk-receipt-incomplete")
        console.get_by_test_id("finish-wrap-up").click()
        page.get_by_test_id("ended-rate").click()
        screen(page, "rating")

        # 受理: the server's case number, the QR code, printing, and the PDF for the caseworker.
        into_call(page, console, server, kiosk, matter)
        console.get_by_test_id("outcome-select").select_option("accepted")
        expect(console.get_by_test_id("case-number")).to_be_hidden()
        console.get_by_test_id("end-call").click()
        screen(page, "ended")
        number = page.get_by_test_id("receipt-case-number")
        expect(number).to_have_text(CASE_NUMBER)
        case_number = number.inner_text()
        qr = page.get_by_test_id("receipt-qr")
        wait_until(page, lambda: qr.evaluate("i => i.complete && i.naturalWidth > 0"), 10)
        assert case_number in (qr.get_attribute("alt") or "")
        page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
        page.get_by_test_id("receipt-print").click()
        assert page.evaluate("() => window.printed") == 1
        shot(page, "06-kiosk-receipt-accepted")
        page.emulate_media(media="print")
        shot(page, "07-kiosk-receipt-print")
        page.emulate_media(media="screen")
        sessions = console_context.request.get(f"{server.url}/api/v1/me/sessions").json()["sessions"]
        accepted = next(s for s in sessions if s["case_number"] == case_number)
        pdf = console_context.request.get(f"{server.url}/api/v1/sessions/{accepted['id']}/receipt.pdf")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
        assert case_number in text and matter["name"] in text


def into_call(page: Page, console: Page, server: Server, kiosk: dict[str, object], matter: dict[str, object]) -> None:
    """The resident consents and queues; the available console accepts the offer."""
    quick_to_device_check(page, server.url, kiosk, matter)
    page.get_by_test_id("device-check-continue").click()
    pass_optional_steps(page, shots=False)
    screen(page, "waiting")
    expect(console.get_by_test_id("offer")).to_be_visible(timeout=10000)
    console.get_by_test_id("offer-accept").click()
    screen(page, "call")
    expect(console.get_by_test_id("call-stage")).to_be_visible()


def draw(page: Page, points: list[tuple[float, float]]) -> None:
    """One stroke through `points` (shares of the signing area) with the mouse: pointer events."""
    box = page.get_by_test_id("signature-pad").bounding_box()
    assert box is not None
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for point in at[1:]:
        page.mouse.move(*point, steps=6)
    page.mouse.up()


# A valid 居民身份证号码 (GB 11643 check digit X) and the same with a wrong check digit.
GOOD_ID = "11010519491231002X"
BAD_ID = "110105194912310021"
FILLED = {"name": "张三", "id_number": BAD_ID, "phone": "13812345678", "address": "江宁路1号",
          "birth_date": "1949-12-31"}


def fill_form(console: Page, **changes: str) -> list[str]:
    """Fill every form field of the console (choices: the first one); returns the field keys."""
    values = {**FILLED, **changes}
    inputs = console.get_by_test_id("form-field")
    keys = []
    for i in range(inputs.count()):
        field = inputs.nth(i)
        key = field.get_attribute("data-field") or ""
        keys.append(key)
        if field.evaluate("n => n.tagName") == "SELECT":
            field.select_option(index=1)
        else:
            field.fill(values.get(key, "测试"))
    return keys


def _form_call_parties(server: Server) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The demo matter with a form, the first kiosk and a caseworker who can take its call."""
    require_chromium()
    matter = pick_matter(server)
    kiosk = server.demo["kiosks"][0]
    return matter, kiosk, caseworker_for(server.demo, kiosk["street"], matter["skill"])


def test_form_confirmed_on_the_kiosk_after_a_change(server: Server) -> None:
    matter, kiosk, login = _form_call_parties(server)
    with rig(server, login) as made:
        console, page = made.console, made.page
        into_call(page, console, server, kiosk, matter)
        status = console.get_by_test_id("form-status")
        expect(status).to_have_attribute("data-state", "none")
        keys = fill_form(console)
        assert {"name", "id_number", "phone"} <= set(keys)
        # The console names the wrong field and sends nothing.
        console.get_by_test_id("form-send").click()
        expect(console.get_by_test_id("form-error")).to_contain_text("公民身份号码")
        expect(status).to_have_attribute("data-state", "none")
        console.locator('[data-testid="form-field"][data-field="id_number"]').fill(GOOD_ID)
        console.locator('[data-testid="form-field"][data-field="phone"]').fill("13800000000")
        console.get_by_test_id("form-send").click()
        expect(status).to_have_attribute("data-state", "sent")
        shot(console, "08-console-form-sent")

        form = page.get_by_test_id("confirm-form")
        expect(form).to_be_visible()
        id_row = page.locator('[data-testid="confirm-field"][data-field="id_number"]')
        expect(id_row).to_contain_text("*" * 14 + GOOD_ID[-4:])
        expect(id_row).not_to_contain_text(GOOD_ID[:6])
        expect(page.locator('[data-testid="confirm-field"][data-field="phone"]')).to_contain_text("13800000000")
        page.set_viewport_size({"width": 1366, "height": 768})
        smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll(
            '[data-testid="confirm-form"] dt, [data-testid="confirm-form"] dd, [data-testid="confirm-form"] button')]
            .map(n => parseFloat(getComputedStyle(n).fontSize)))""")
        assert smallest >= 24, smallest
        # Both answers are on screen without scrolling, however long the form.
        for answer in ("confirm-ok", "confirm-change"):
            box = page.get_by_test_id(answer).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 768, (answer, box)
        shot(page, "09-kiosk-confirm-form")
        # Reloaded mid-confirmation, both screens take the form up again.
        page.reload()
        screen(page, "call")
        expect(form).to_be_visible()
        expect(id_row).to_contain_text("*" * 14 + GOOD_ID[-4:])
        console.reload()
        expect(console.get_by_test_id("call-stage")).to_be_visible()
        expect(status).to_have_attribute("data-state", "sent")
        expect(console.locator('[data-testid="form-field"][data-field="id_number"]')).to_have_value(GOOD_ID)
        page.get_by_test_id("confirm-change").click()
        expect(form).to_be_hidden()
        expect(status).to_have_attribute("data-state", "change_requested")

        console.locator('[data-testid="form-field"][data-field="phone"]').fill("13812345678")
        console.get_by_test_id("form-send").click()
        expect(status).to_have_attribute("data-state", "sent")
        expect(page.locator('[data-testid="confirm-field"][data-field="phone"]')).to_contain_text("13812345678")
        page.get_by_test_id("confirm-ok").click()
        expect(form).to_be_hidden()
        expect(status).to_have_attribute("data-state", "confirmed")
        shot(console, "10-console-form-confirmed")

        # The signature: a tap and a flick are refused on the kiosk, a drawn name is sent and shown.
        pad = page.get_by_test_id("signature-pad")
        expect(pad).to_be_visible()
        for button in ("signature-submit", "signature-clear"):
            box = page.get_by_test_id(button).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 768, (button, box)
        page.get_by_test_id("signature-submit").click()
        error = page.locator('[data-role="signature-error"]')
        expect(error).to_contain_text("还没有签名")
        draw(page, [(0.5, 0.5), (0.53, 0.52)])
        page.get_by_test_id("signature-submit").click()
        expect(error).to_contain_text("签名太短")
        page.get_by_test_id("signature-clear").click()
        expect(error).to_be_hidden()
        page.reload()  # a reloaded kiosk asks for the signature again
        screen(page, "call")
        expect(pad).to_be_visible()
        expect(page.get_by_test_id("confirm-form")).to_be_hidden()
        draw(page, [(0.15, 0.3), (0.25, 0.75), (0.35, 0.3), (0.45, 0.75), (0.55, 0.3)])
        draw(page, [(0.6, 0.5), (0.85, 0.45), (0.7, 0.8)])
        shot(page, "11-kiosk-signature-1366")
        page.set_viewport_size({"width": 1920, "height": 1080})  # a resized area starts afresh
        expect(page.locator('[data-testid="signature-pad"][data-drawn="0"]')).to_be_visible()
        draw(page, [(0.15, 0.3), (0.25, 0.75), (0.35, 0.3), (0.45, 0.75), (0.55, 0.3)])
        draw(page, [(0.6, 0.5), (0.85, 0.45), (0.7, 0.8)])
        shot(page, "11-kiosk-signature-1920")
        page.get_by_test_id("signature-submit").click()
        expect(pad).to_be_hidden()
        expect(status).to_have_attribute("data-state", "signed")
        image = console.get_by_test_id("signature-image")
        expect(image).to_be_visible()
        wait_until(console, lambda: image.evaluate("i => i.complete && i.naturalWidth > 0"), 10)
        shot(console, "12-console-signature")
        console.get_by_test_id("outcome-select").select_option("accepted")
        console.get_by_test_id("end-call").click()
        screen(page, "ended")
        expect(page.get_by_test_id("receipt-case-number")).to_have_text(CASE_NUMBER)


def test_a_late_first_answer_stands_on_the_kiosk(server: Server) -> None:
    """The kiosk's 确认无误 reached the caseworker but its `ok` was lost, so the kiosk said it was
    not sent; the resident's next tap (需要修改) is refused with the answer that stands, and the
    kiosk moves on to the signature instead of staying on a form that can't be answered."""
    matter, kiosk, login = _form_call_parties(server)
    with rig(server, login) as made:
        console, page = made.console, made.page
        armed = {"drop": False}

        def lost_ok(message: dict[str, Any]) -> bool:
            if armed["drop"] and message.get("type") == "ok":
                armed["drop"] = False
                return True
            return False

        page.route_web_socket("**/api/v1/ws", HeldMessage("none", drop=lost_ok).relay)
        into_call(page, console, server, kiosk, matter)
        fill_form(console, id_number=GOOD_ID, phone="13800000000")
        console.get_by_test_id("form-send").click()
        status = console.get_by_test_id("form-status")
        expect(status).to_have_attribute("data-state", "sent")
        form = page.get_by_test_id("confirm-form")
        expect(form).to_be_visible()
        armed["drop"] = True
        page.get_by_test_id("confirm-ok").click()
        expect(status).to_have_attribute("data-state", "confirmed")
        # The kiosk heard nothing back: after its request timeout it asks for another tap.
        expect(page.locator('[data-role="confirm-error"]')).to_be_visible(timeout=20000)
        page.get_by_test_id("confirm-change").click()
        expect(form).to_be_hidden()
        expect(page.get_by_test_id("signature-pad")).to_be_visible()
        expect(status).to_have_attribute("data-state", "confirmed")
