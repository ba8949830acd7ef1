"""Accessibility checks for the browser suites: axe-core rules and the smallest text on screen.

axe-core comes from the `axe-playwright-python` package, which ships `axe.min.js` inside the wheel:
the script is read from disk and injected with Playwright, so nothing is fetched at test time (kiosks
and CI may have no internet). Playwright's `evaluate` runs outside the page's Content Security Policy,
so the pages keep their strict CSP while they are checked.

- `assert_accessible(page, "kiosk start")` fails on any serious or critical violation, with a
  readable list (rule, impact, what is wrong, the elements).
- `smallest_text(page)` measures the smallest computed font size of the visible text;
  `assert_min_font(page, "kiosk start", 24)` fails below a floor (docs/accessibility.md: kiosk
  ≥ 24 px at 1366x768 in normal mode, caseworker console ≥ 14 px).
- `Audit` runs both on many screens and reports every screen's failures together at the end, with
  a per-screen table (artifacts/accessibility/report.json) for docs and review.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.async_api import Page as AsyncPage
from playwright.sync_api import Page

# The impacts that fail a screen; "moderate" and "minor" are recorded but do not fail.
FAILING_IMPACTS = ("serious", "critical")
# Rules that describe how the page is laid out rather than what a person meets: none are switched
# off today. A rule goes here only with a reason written next to it.
DISABLED_RULES: tuple[str, ...] = ()

# The smallest computed font size among visible, non-blank text: text nodes (their parent's size)
# and form controls showing a value or placeholder. Options of a closed <select> are not visible
# text; the select's own size counts instead.
_SMALLEST_TEXT_JS = """
() => {
  const seen = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
    && el.getClientRects().length > 0;
  const describe = (el, text) => {
    const cls = el.className ? `.${String(el.className).split(" ")[0]}` : "";
    const id = el.dataset.testid ? `[data-testid=${el.dataset.testid}]`
      : el.dataset.role ? `[data-role=${el.dataset.role}]` : cls;
    return `${el.tagName.toLowerCase()}${id} "${text.trim().slice(0, 30)}"`;
  };
  let best = null;
  const consider = (el, text) => {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (best === null || size < best.px) best = { px: size, where: describe(el, text) };
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !node.data.trim()) continue;
    if (parent.closest("option, optgroup, script, style, template, noscript")) continue;
    if (!seen(parent)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    consider(parent, node.data);
  }
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (!seen(el) || el.type === "hidden" || el.type === "checkbox" || el.type === "radio") continue;
    const text = el.tagName === "SELECT" ? (el.selectedOptions[0]?.text || "") : (el.value || el.placeholder || "");
    if (text.trim() || el.type === "date" || el.type === "number") consider(el, text || el.type);
  }
  return best;
}
"""


@dataclass
class Smallest:
    """The smallest visible text of a page: its size in CSS px and which element holds it."""

    px: float
    where: str


def axe_violations(page: Page, *, selector: str | None = None, table_rows: int | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page (or the part under `selector`) and return its violations.

    `table_rows=N` checks only the first N rows of each table body: for long tables whose rows all
    come from one template (hundreds of kiosks or sites), where every further row costs time and
    shows nothing new.
    """
    if not page.evaluate(_AXE_LOADED_JS):
        page.evaluate(AXE_SCRIPT)  # bundled with the package: no network
    result = page.evaluate(_AXE_RUN_JS, _axe_arguments(selector, table_rows))
    return list(result["violations"])


_AXE_LOADED_JS = "() => typeof window.axe === 'object'"
_AXE_RUN_JS = ("([context, options]) => axe.run({ include: context.include || document, exclude: context.exclude },"
               " options)")


def _axe_arguments(selector: str | None, table_rows: int | None) -> list[dict[str, Any]]:
    options: dict[str, Any] = {"resultTypes": ["violations"],
                               "rules": {rule: {"enabled": False} for rule in DISABLED_RULES}}
    context: dict[str, Any] = {"include": [[selector]] if selector else None,
                               "exclude": [[f"tbody > tr:nth-child(n+{table_rows + 1})"]] if table_rows else []}
    return [context, options]


async def assert_accessible_async(page: AsyncPage, screen_name: str, *, min_font_px: float | None = None) -> None:
    """`assert_accessible` and `assert_min_font` for the suites on Playwright's async API."""
    if not await page.evaluate(_AXE_LOADED_JS):
        await page.evaluate(AXE_SCRIPT)
    bad = failing(list((await page.evaluate(_AXE_RUN_JS, _axe_arguments(None, None)))["violations"]))
    assert not bad, describe(screen_name, bad)
    if min_font_px is not None:
        found = await page.evaluate(_SMALLEST_TEXT_JS)
        assert found is not None and float(found["px"]) >= min_font_px - 0.01, (
            f"{screen_name}: smallest text {found} is below {min_font_px} px")


def failing(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations whose impact fails a screen (serious, critical)."""
    return [v for v in violations if v.get("impact") in FAILING_IMPACTS]


def describe(screen_name: str, violations: list[dict[str, Any]], *, limit: int = 6) -> str:
    """A readable list: one line per rule, then up to `limit` of its elements with axe's summary."""
    lines = [f"{screen_name}: {len(violations)} rule(s) violated"]
    for violation in violations:
        nodes = violation["nodes"]
        lines.append(f"  - {violation['id']} ({violation['impact']}, {len(nodes)} element(s)): {violation['help']}")
        for node in nodes[:limit]:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"      {' '.join(map(str, node['target']))}: {summary[:200]}")
        if len(nodes) > limit:
            lines.append(f"      … and {len(nodes) - limit} more")
    return "\n".join(lines)


def assert_accessible(page: Page, screen_name: str, *, selector: str | None = None) -> None:
    """Fail when axe-core finds a serious or critical violation on what the page shows now."""
    bad = failing(axe_violations(page, selector=selector))
    assert not bad, describe(screen_name, bad)


def smallest_text(page: Page) -> Smallest:
    """The smallest computed font size of the visible text on the page."""
    found = page.evaluate(_SMALLEST_TEXT_JS)
    assert found is not None, "the page shows no text"
    return Smallest(px=float(found["px"]), where=str(found["where"]))


def assert_min_font(page: Page, screen_name: str, min_px: float) -> None:
    """Fail when visible text is smaller than `min_px` CSS pixels."""
    smallest = smallest_text(page)
    assert smallest.px >= min_px - 0.01, (
        f"{screen_name}: text of {smallest.px:.1f} px ({smallest.where}) is below {min_px} px")


@dataclass
class ScreenResult:
    """What one screen showed: violations by impact, the failing ones, its smallest text."""

    name: str
    by_impact: dict[str, int]
    rules: dict[str, int]
    failures: list[str]
    smallest: Smallest
    seconds: float


@dataclass
class Audit:
    """Checks many screens, keeps going after a failure, and reports them all at the end."""

    results: list[ScreenResult] = field(default_factory=list)

    def check(self, page: Page, screen_name: str, *, min_font_px: float | None = None,
              table_rows: int | None = None) -> None:
        """axe-core on the page as it is now (`table_rows`: see `axe_violations`), and the font floor
        when one applies to the screen."""
        page.wait_for_timeout(100)  # transitions and the last render of pushed data
        started = time.monotonic()
        violations = axe_violations(page, table_rows=table_rows)
        failures: list[str] = []
        bad = failing(violations)
        if bad:
            failures.append(describe(screen_name, bad))
        smallest = smallest_text(page)
        if min_font_px is not None and smallest.px < min_font_px - 0.01:
            failures.append(f"{screen_name}: text of {smallest.px:.1f} px ({smallest.where}) is below {min_font_px} px")
        by_impact = Counter(str(v["impact"]) for v in violations for _ in v["nodes"])
        rules = {f"{v['id']} ({v['impact']})": len(v["nodes"]) for v in violations}
        self.results.append(ScreenResult(screen_name, dict(by_impact), rules, failures, smallest,
                                         time.monotonic() - started))

    def screens(self) -> list[str]:
        """The names of the screens checked so far."""
        return [result.name for result in self.results]

    def write(self, path: Path) -> None:
        """The per-screen table as JSON (violating elements by impact, rules, smallest text)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([
            {"screen": r.name, "elements_by_impact": r.by_impact, "rules": r.rules,
             "smallest_text_px": round(r.smallest.px, 2), "smallest_text_at": r.smallest.where, "ok": not r.failures,
             "seconds": round(r.seconds, 2)}
            for r in self.results], ensure_ascii=False, indent=1), encoding="utf-8")

    def assert_clean(self) -> None:
        """Fail with every screen's failures when any screen failed."""
        failures = [failure for result in self.results for failure in result.failures]
        assert not failures, f"{len(failures)} accessibility failure(s):\n" + "\n".join(failures)
