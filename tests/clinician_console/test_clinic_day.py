"""A clinic day at the console, in a real Chromium: Safe and the alerts always on screen, alert
episodes, what happens next, the keyboard and axe-core (issue 16); the end is in test_session_end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from exposure.models import Reading
from tests.clinician_console.conftest import ARTIFACTS, RunningConsole
from tests.clinician_console.test_browser import api_state, open_console

pytestmark = pytest.mark.browser

SIZES = [(768, 1024), (1024, 768), (1366, 768), (390, 844)]
"""Tablet portrait and landscape, a laptop, a phone."""


def feed(console: RunningConsole, hr: float, seconds: float) -> None:
    """Readings every 0.5 s of session time, stepped on the console's loop.

    The session's clock is frozen at the first feed: from then on session time moves only with
    the readings, so a loaded machine's pauses cannot age the signal or end an alert early.
    """

    def run() -> None:
        if console.session.clock.frozen_at is None:
            console.session.clock.freeze()
        for _ in range(int(seconds * 2)):
            console.session.clock.shift += 0.5
            console.session.submit(Reading(t=0, hr=hr))

    console.call(run)


def over_the_ceiling(console: RunningConsole, seconds: float = 14) -> None:
    """A 70 bpm baseline, level 3 by hand in manual mode, then 43% above baseline for `seconds`."""
    feed(console, 70.0, 17)
    with console.client() as c:
        c.post("/api/commands", json={"type": "auto_off"})
        c.post("/api/commands", json={"type": "set_level", "level": 3})
    feed(console, 100.0, seconds)


def no_stale(**kwargs: Any) -> dict[str, Any]:
    """Console options for a session fed in bursts: the signal never goes stale between them."""
    return {"settings": {"stale_after_s": 600.0}, **kwargs}


def inside(box: dict[str, float] | None, width: int, height: int) -> bool:
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
    )


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_safe_and_the_active_alert_stay_on_screen_scrolled_to_the_bottom(
    start_console: Any, browser: Any, width: int, height: int
) -> None:
    console = start_console(**no_stale(scene_events=("spider_drop",)))
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    page = context.new_page()
    problems = open_console(page, console)
    page.wait_for_timeout(300)  # the chart and the ladder are built: a settled layout
    safe_before = page.locator("#safe").bounding_box()
    top_before = page.locator(".layout").bounding_box()

    over_the_ceiling(console)
    alert = page.locator('#alerts .alert[data-kind="ceiling"]')
    expect(alert).to_contain_text("consider stepping down")
    # an alert appearing moves neither Safe nor the page under the therapist's finger
    assert page.locator("#safe").bounding_box() == safe_before
    top_after = page.locator(".layout").bounding_box()
    assert top_before is not None and top_after is not None
    assert (top_after["x"], top_after["y"]) == (top_before["x"], top_before["y"])

    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("window.scrollY > 0")
    feed(console, 100.0, 2)  # fresh readings: the episode goes on however slow the machine
    expect(alert).to_be_in_viewport(ratio=1)
    assert inside(page.locator("#safe").bounding_box(), width, height), (width, height)
    assert inside(alert.bounding_box(), width, height), (width, height)
    expect(page.locator("#safe")).to_be_enabled()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-scrolled-{width}x{height}.png"))
    # the control at the very bottom of the page is really reachable: Safe does not cover it
    last = page.locator("#scene-events .btn").first
    last.scroll_into_view_if_needed()
    last.click()
    expect(page.locator("#log")).to_contain_text("Scene event: Spider drop")
    # and Safe still works from there
    page.locator("#safe").click()
    expect(page.locator("#phase")).to_have_text("Safe scene")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert problems == []
    context.close()


def test_tablet_columns_are_balanced(start_console: Any, browser: Any) -> None:
    console = start_console(**no_stale(scene_events=("spider_drop",)))

    def box(page: Page, selector: str) -> dict[str, float]:
        found = page.locator(selector).bounding_box()
        assert found is not None, selector
        return found

    def bottom(b: dict[str, float]) -> float:
        return b["y"] + b["height"]

    for width, height in [(768, 1024), (1024, 768)]:
        page = browser.new_page(viewport={"width": width, "height": height})
        open_console(page, console)
        page.wait_for_timeout(300)
        if width < height:
            # portrait: the controls sit in two columns that end together; the rest is full width
            left = bottom(box(page, ".set-level")) - box(page, ".level-card")["y"]
            right = bottom(box(page, "#end")) - box(page, ".suds-card")["y"]
            assert abs(left - right) <= max(left, right) / 5, (left, right)
            for card in (".monitor", ".ladder-card", ".notes-card", ".events-card"):
                assert box(page, card)["width"] >= width - 40, (card, box(page, card))
        else:
            # landscape: the chart column and the controls column end within a fifth
            monitor, controls = box(page, ".monitor"), box(page, ".controls")
            taller = max(monitor["height"], controls["height"])
            assert abs(monitor["height"] - controls["height"]) <= taller / 5, (monitor, controls)
            for card in (".notes-card", ".events-card", ".ladder-card"):
                assert box(page, card)["width"] >= 300, (card, box(page, card))
        page.close()


# --------------------------------------------------------------------------- alert episodes


def test_a_ceiling_episode_is_one_row_in_the_log_with_its_onset_and_end(
    start_console: Any, browser: Any
) -> None:
    console = start_console(**no_stale())
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    feed(console, 70.0, 17)
    with console.client() as c:
        c.post("/api/commands", json={"type": "auto_off"})
        c.post("/api/commands", json={"type": "set_level", "level": 3})
    texts = set()
    for second in range(55):  # the percentage and the held time change every second
        feed(console, 100.0 + (second % 2), 1)
        alert = next((a for a in api_state(console)["alerts"] if a["kind"] == "ceiling"), None)
        if alert is not None:
            texts.add(alert["message"])
    assert len(texts) >= 40  # the core really re-worded it, second after second
    episodes = console.call(lambda: [a for a in console.session.alert_log if a.kind == "ceiling"])
    assert len(episodes) == 1  # and the core saw one episode
    rows = page.locator('#log li[data-episode^="ceiling@"]')
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-kind", "alert-warning")
    last_text = next(a for a in api_state(console)["alerts"] if a["kind"] == "ceiling")["message"]
    expect(row.locator(".text")).to_have_text(last_text)  # the latest text, updated in place
    onset_clock = row.locator("time").inner_text()
    banner = page.locator('#alerts .alert[data-kind="ceiling"] .when')
    expect(banner).to_have_text(f"since {onset_clock}")  # the onset, not the latest update

    feed(console, 70.0, 3)  # back under the ceiling: the episode ends
    expect(row).to_have_attribute("data-kind", "alert-cleared")
    expect(row.locator(".end")).to_have_text(re.compile(r"^until \d+:\d\d \(\d+ s\)$"))
    expect(rows).to_have_count(1)

    # a page opened afterwards rebuilds the same single row from the history
    fresh = browser.new_page(viewport={"width": 1366, "height": 768})
    assert open_console(fresh, console) == []
    expect(fresh.locator('#log li[data-episode^="ceiling@"]')).to_have_count(1)
    expect(fresh.locator('#log li[data-episode^="ceiling@"] time')).to_have_text(onset_clock)
    assert problems == []
    page.close()
    fresh.close()


# --------------------------------------------------------------------------- keyboard, axe


def _contrast(a: str, b: str) -> float:
    def lum(color: str) -> float:
        r, g, b_ = (int(v) / 255 for v in re.findall(r"[\d.]+", color)[:3])
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b_)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _focus_ring(page: Page) -> tuple[str, float, str]:
    """The focused element's outline colour and width, and the colour behind its outline."""
    return page.evaluate(
        """() => {
          const el = document.activeElement, st = getComputedStyle(el);
          let bg = "rgba(0, 0, 0, 0)", node = el.parentElement;
          while (node && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) {
            bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
          }
          if (/rgba\\(0, 0, 0, 0\\)/.test(bg)) bg = getComputedStyle(document.body).backgroundColor;
          return [st.outlineColor, parseFloat(st.outlineWidth), bg];
        }"""
    )


def test_the_keyboard_reaches_safe_and_sees_where_it_is(start_console: Any, browser: Any) -> None:
    console = start_console()
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    feed(console, 70.0, 17)  # exposure at level 1
    expect(page.locator("#phase")).to_have_text("Exposure")
    expect(page.locator("#safe")).to_contain_text("Shift+S")
    assert page.locator("#safe").get_attribute("aria-keyshortcuts") == "Shift+S"

    # typing a capital S in a note does not send the client to the safe scene
    page.locator("#note").click()
    page.keyboard.type("She Says So")
    expect(page.locator("#note")).to_have_value("She Says So")
    assert api_state(console)["phase"] == "exposure"

    # a visible focus ring of 3:1 or more, on the page and in the dark header
    for selector in ("#step-up", "#note-send", "#safe", "#log-scroll"):
        page.locator(selector).focus()
        page.keyboard.press("Shift")  # keyboard modality: :focus-visible applies
        color, width, behind = _focus_ring(page)
        assert width >= 2, (selector, width)
        assert _contrast(color, behind) >= 3.0, (selector, color, behind)

    # the log scrolls from the keyboard
    page.locator("#log-scroll").focus()
    assert page.evaluate("document.activeElement.id") == "log-scroll"

    # Escape leaves the note, then Shift+S is the safe scene
    page.locator("#note").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+S")
    expect(page.locator("#phase")).to_have_text("Safe scene")
    assert api_state(console)["phase"] == "safe"
    expect(page.locator("#log")).to_contain_text("Therapist sent the client to the safe scene")
    assert problems == []
    page.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_axe_finds_no_serious_or_critical_violation(
    start_console: Any, browser: Any, width: int, height: int
) -> None:
    console = start_console(**no_stale(scene_events=("spider_drop",)))
    page = browser.new_page(viewport={"width": width, "height": height})
    open_console(page, console)
    over_the_ceiling(console)  # with an alert showing and a log with rows
    expect(page.locator('#alerts .alert[data-kind="ceiling"]')).to_be_visible()
    page.wait_for_timeout(300)
    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
    assert page.locator("h1").count() == 1
    page.close()


# --------------------------------------------------------------------------- what happens next


def test_what_happens_next_stands_out_when_a_step_up_waits_for_suds(
    start_console: Any, browser: Any
) -> None:
    console = start_console(**no_stale())
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = open_console(page, console)
    outlook = page.locator(".outlook")
    next_step = page.locator("#next-step")
    feed(console, 70.0, 17)  # the baseline, then level 1 by itself
    expect(page.locator("#level-num")).to_have_text("1")
    # the reminder comes with the dwell (20 s in the demo), not after the 2 min default
    expect(page.locator("#suds-interval")).to_have_value("20")
    expect(page.locator("#suds-interval option:checked")).to_have_text("20 s")
    feed(console, 70.0, 22)  # the dwell is up, but no SUDS yet: the step up waits for one
    expect(next_step).to_contain_text("waiting for a SUDS rating")
    expect(outlook).to_have_attribute("data-waits", "suds")
    expect(page.locator("#suds-card")).to_have_attribute("data-due", "true")
    box = outlook.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768  # on screen without scrolling
    page.fill("#suds-value", "20")
    page.click("#suds-send")
    feed(console, 70.0, 2)
    expect(outlook).not_to_have_attribute("data-waits", "suds")
    expect(page.locator("#level-num")).to_have_text("2")  # and the step up came
    assert problems == []
    page.close()


def test_a_baseline_cut_short_says_how_far_measuring_has_got(
    start_console: Any, browser: Any
) -> None:
    console = start_console(**no_stale())
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    problems = open_console(page, console)
    feed(console, 70.0, 3)  # six good readings of the ten the baseline needs
    page.click("#step-up")  # the therapist moves on early
    expect(page.locator("#level-num")).to_have_text("1")
    note = page.locator("#baseline-note")
    expect(note).to_have_text(re.compile(r"^measuring during exposure: 6 of 10 good readings"))
    expect(page.locator("#baseline")).to_have_text("measuring…")
    feed(console, 72.0, 3)  # enough readings now: the baseline is set during exposure
    expect(page.locator("#baseline")).to_have_text(re.compile(r"^7\d bpm$"))
    expect(note).to_have_text("")
    assert (page.locator("#baseline").get_attribute("title") or "").startswith("7")
    assert problems == []
    page.close()


def test_the_docs_screenshot(start_console: Any, browser: Any) -> None:
    """The picture in docs/console.md: a simulated session 2.5 minutes in, at 1366x768
    (copied from test-artifacts/console-docs.png to docs/images/console.png by hand)."""
    console = start_console(
        feed_period_s=0.25, prefill_s=150, scene_events=("spider_drop",), notice=None
    )
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    assert open_console(page, console) == []
    page.wait_for_function("Number(document.querySelector('#chart').dataset.readings) > 250")
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-docs.png"))
    page.close()
