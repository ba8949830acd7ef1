"""More document kinds for the broad evaluation set (tests/quality_fixtures/world.py).

Each renderer draws a demo document with its own layout, colours and print: resident ID front and
back, household register page and its coloured cover, an A4 form, a certificate, bank cards in
light and dark colours, a social-security card, a passport data page and a marriage certificate.
Paper tone (white, grey, cream) is passed in, so it varies independently of the kind. All are
marked as samples (样本); ID numbers use the non-existent region code 99.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from tests.quality_fixtures.documents import (
    Canvas,
    Color,
    DocumentSpec,
    _address,
    _name,
    _seal,
    demo_id_number,
    render_certificate,
    render_household_page,
    render_id_card,
)

ID1 = 85.6 / 54.0  # ISO/IEC 7810 ID-1: resident ID, bank and social-security cards
ISO = 2**0.5

DARK_CARD_COLOURS: tuple[Color, ...] = ((90, 40, 15), (30, 30, 30), (40, 25, 110), (60, 70, 20), (80, 30, 60))
LIGHT_CARD_COLOURS: tuple[Color, ...] = ((235, 225, 215), (200, 200, 200), (240, 215, 180), (215, 235, 240))


def _tinted(paper: Color, base: Color, weight: float) -> Color:
    """base mixed into the paper tone (weight of base)."""
    return tuple(int(p * (1 - weight) + b * weight) for p, b in zip(paper, base, strict=True))  # type: ignore[return-value]


def _guilloche(img: np.ndarray, rng: np.random.Generator, amplitude: float) -> None:
    """A fine wavy security pattern added in place (real cards and pages are not flat colour)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(15, 30)
    wave = np.sin(xx / period + 3 * np.sin(yy / (period * 1.7))) * amplitude
    img[:] = np.clip(img.astype(np.float32) + wave[:, :, None], 0, 255).astype(np.uint8)


def _emblem(img: np.ndarray, centre: tuple[int, int], radius: int, colour: Color) -> None:
    cv2.circle(img, centre, radius, colour, max(2, radius // 10), cv2.LINE_AA)
    for k in range(5):
        angle = -np.pi / 2 + k * 2 * np.pi / 5
        x, y = centre[0] + int(radius * 0.55 * np.cos(angle)), centre[1] + int(radius * 0.55 * np.sin(angle))
        cv2.circle(img, (x, y), max(2, radius // 8), colour, -1, cv2.LINE_AA)


def _id_front(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    del paper  # the card's own print
    return render_id_card(rng)


def _id_back(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    w, h = 856, 540
    canvas = Canvas(w, h, _tinted(paper, (230, 225, 200), 0.5), rng)
    _guilloche(canvas.image, rng, 7)
    _emblem(canvas.image, (130, 130), 80, (40, 40, 190))
    canvas.text((300, 90), "中华人民共和国", 44, (30, 30, 30))
    canvas.text((300, 170), "居民身份证", 64, (30, 30, 30))
    canvas.text((120, 380), "签发机关", 30, (30, 30, 30))
    canvas.text((300, 378), "上海市公安局静安分局", 32)
    canvas.text((120, 445), "有效期限", 30, (30, 30, 30))
    year = int(rng.integers(2015, 2025))
    canvas.text((300, 443), f"{year}.0{int(rng.integers(1, 9))}.12-{year + 20}.0{int(rng.integers(1, 9))}.12", 32)
    canvas.text((640, 300), "样本", 28, (60, 60, 190))
    return DocumentSpec("id_back", canvas.finish(), ID1)


def _household_page(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    spec = render_household_page(rng)
    tone = np.array(paper, np.float32) / 235.0
    image = np.clip(spec.image.astype(np.float32) * tone, 0, 255).astype(np.uint8)
    return DocumentSpec("household_page", image, spec.aspect)


def _household_cover(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    del paper
    w, h = 740, 1045
    cover = ((40, 40, 140), (30, 50, 110), (60, 35, 35))[int(rng.integers(0, 3))]
    canvas = Canvas(w, h, cover, rng)
    gold = (80, 170, 215)
    cv2.rectangle(canvas.image, (40, 40), (w - 40, h - 40), gold, 4)
    _emblem(canvas.image, (w // 2, 300), 110, gold)
    canvas.text((w // 2 - 210, 520), "居民户口簿", 84, gold)
    canvas.text((w // 2 - 150, 860), "中华人民共和国公安部印制", 24, gold)
    canvas.text((w // 2 - 40, 940), "样本", 28, gold)
    return DocumentSpec("household_cover", canvas.finish(), 1045 / 740)


def _a4_form(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    w, h = 744, 1052
    canvas = Canvas(w, h, paper, rng)
    ink = (30, 30, 30)
    canvas.text((180, 50), str(rng.choice(["居住证申领登记表", "医疗救助申请表", "高龄津贴申请表"])), 36, ink)
    top, rows = 140, int(rng.integers(10, 16))
    row_h = (h - top - 140) // rows
    for r in range(rows + 1):
        cv2.line(canvas.image, (50, top + r * row_h), (w - 50, top + r * row_h), ink, 1)
    for x in (50, 230, w - 50):
        cv2.line(canvas.image, (x, top), (x, top + rows * row_h), ink, 1)
    labels = ("姓名", "性别", "出生日期", "身份证号", "住址", "联系电话", "申请事项", "备注")
    for r in range(rows):
        canvas.text((62, top + r * row_h + row_h // 2 - 11), labels[r % len(labels)], 20, ink)
        if rng.random() < 0.7:
            canvas.text((245, top + r * row_h + row_h // 2 - 11), _address(rng)[: int(rng.integers(4, 20))], 20,
                        (110, 40, 20))
    canvas.text((420, h - 100), "申请人签字：样本", 22, ink)
    return DocumentSpec("a4_form", canvas.finish(), ISO)


def _certificate(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    spec = render_certificate(rng)
    tone = np.array(paper, np.float32) / 235.0
    return DocumentSpec("certificate", np.clip(spec.image.astype(np.float32) * tone, 0, 255).astype(np.uint8),
                        spec.aspect)


def _bank_card(rng: np.random.Generator, colour: Color, kind: str) -> DocumentSpec:
    w, h = 856, 540
    canvas = Canvas(w, h, colour, rng)
    img = canvas.image
    dark = sum(colour) < 300
    _guilloche(img, rng, 10 if dark else 6)
    print_colour: Color = (235, 235, 235) if dark else (40, 40, 40)
    if rng.random() < 0.5:
        # A diagonal band of a second colour, as many card designs have.
        band = np.array([[0, h], [int(w * 0.55), 0], [w, 0], [w, int(h * 0.3)], [int(w * 0.3), h]], np.int32)
        cv2.fillPoly(img, [band], _tinted(colour, print_colour, 0.25), cv2.LINE_AA)
    cv2.rectangle(img, (90, 190), (200, 270), (60, 160, 200), -1)  # the chip
    cv2.rectangle(img, (90, 190), (200, 270), (40, 110, 150), 2)
    canvas.text((60, 50), str(rng.choice(["中国样本银行", "静安农商样本银行", "上海样本银行"])), 40, print_colour)
    digits = " ".join(f"{int(rng.integers(0, 10000)):04d}" for _ in range(4))
    canvas.text((70, 320), digits, 52, print_colour)
    canvas.text((70, 420), "VALID 09/3" + str(int(rng.integers(0, 10))), 28, print_colour)
    canvas.text((620, 440), "样本", 34, print_colour)
    return DocumentSpec(kind, canvas.finish(), ID1)


def _bank_card_light(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    del paper
    return _bank_card(rng, LIGHT_CARD_COLOURS[int(rng.integers(0, len(LIGHT_CARD_COLOURS)))], "bank_card_light")


def _bank_card_dark(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    del paper
    return _bank_card(rng, DARK_CARD_COLOURS[int(rng.integers(0, len(DARK_CARD_COLOURS)))], "bank_card_dark")


def _social_security(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    w, h = 856, 540
    canvas = Canvas(w, h, _tinted(paper, (240, 240, 240), 0.5), rng)
    img = canvas.image
    band = ((160, 90, 30), (40, 120, 40), (50, 50, 170))[int(rng.integers(0, 3))]
    cv2.rectangle(img, (0, 0), (w, 120), band, -1)
    canvas.text((40, 35), "社会保障卡", 52, (250, 250, 250))
    cv2.rectangle(img, (60, 170), (250, 420), (200, 200, 200), -1)
    cv2.ellipse(img, (155, 270), (55, 68), 0, 0, 360, (120, 120, 125), -1)
    cv2.rectangle(img, (640, 170), (760, 250), (60, 160, 200), -1)
    canvas.text((290, 180), f"姓名  {_name(rng)}", 34)
    canvas.text((290, 250), "社会保障号码", 28, (90, 90, 90))
    canvas.text((290, 295), demo_id_number(rng, f"19{int(rng.integers(40, 60))}0101"), 34)
    canvas.text((290, 370), f"卡号  {int(rng.integers(10**8, 10**9))}", 30)
    canvas.text((600, 460), "样本", 30, (60, 60, 190))
    return DocumentSpec("social_security", canvas.finish(), ID1)


def _passport_page(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    w, h = 880, 625  # 125 x 88 mm
    canvas = Canvas(w, h, _tinted(paper, (215, 225, 215), 0.5), rng)
    img = canvas.image
    _guilloche(img, rng, 9)
    canvas.text((250, 30), "中华人民共和国  护照", 34, (60, 40, 120))
    cv2.rectangle(img, (40, 110), (250, 390), (200, 200, 195), -1)
    cv2.ellipse(img, (145, 210), (55, 70), 0, 0, 360, (110, 110, 115), -1)
    for row, label in enumerate(("姓名", "性别", "出生日期", "出生地点", "签发日期", "签发机关")):
        canvas.text((290, 110 + row * 48), label, 20, (90, 70, 60))
        canvas.text((420, 106 + row * 48), _name(rng) if row == 0 else "上海 样本", 26)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    mrz1 = "P<CHN" + "".join(rng.choice(list(letters), 8)) + "<<" + "".join(rng.choice(list(letters), 6))
    digits = "".join(str(d) for d in rng.integers(0, 10, 23))
    mrz2 = "E" + digits[:9] + "CHN" + digits[9:]
    canvas.text((40, 470), mrz1.ljust(40, "<"), 30, (20, 20, 20))
    canvas.text((40, 530), mrz2.ljust(40, "<"), 30, (20, 20, 20))
    return DocumentSpec("passport_page", canvas.finish(), 125 / 88)


def _marriage(rng: np.random.Generator, paper: Color) -> DocumentSpec:
    del paper
    w, h = 890, 640  # the red booklet opened flat
    canvas = Canvas(w, h, (40, 30, 170), rng)
    gold = (90, 180, 225)
    cv2.rectangle(canvas.image, (25, 25), (w - 25, h - 25), gold, 3)
    cv2.line(canvas.image, (w // 2, 25), (w // 2, h - 25), (30, 20, 130), 3)
    _emblem(canvas.image, (w // 4, 220), 90, gold)
    canvas.text((w // 4 - 130, 380), "结婚证", 80, gold)
    canvas.text((w // 2 + 60, 140), f"持证人  {_name(rng)}", 30, gold)
    canvas.text((w // 2 + 60, 220), f"登记日期  {int(rng.integers(1970, 2020))}年", 28, gold)
    canvas.text((w // 2 + 60, 300), f"结婚证字号  J{int(rng.integers(10**6, 10**7))}", 26, gold)
    canvas.text((w // 2 + 60, 500), "样本", 30, gold)
    _seal(canvas.image, (w - 150, 430), 60)
    return DocumentSpec("marriage", canvas.finish(), w / h)


KINDS: dict[str, Callable[[np.random.Generator, Color], DocumentSpec]] = {
    "id_front": _id_front,
    "id_back": _id_back,
    "household_page": _household_page,
    "household_cover": _household_cover,
    "a4_form": _a4_form,
    "certificate": _certificate,
    "bank_card_light": _bank_card_light,
    "bank_card_dark": _bank_card_dark,
    "social_security": _social_security,
    "passport_page": _passport_page,
    "marriage": _marriage,
}

PAPERS: dict[str, Color] = {"white": (244, 246, 246), "grey": (205, 208, 208), "cream": (200, 228, 240)}
